"""Six months of sample activity for the demo district, made by the bot itself.

A newcomer's dashboard should show what Zhibu does for a district, not "暂无数据". So, on the
first start of an empty demo database, a BotApp runs on a fake clock from six months ago to
now, on the real database, with a transport that delivers nowhere:

- in the three sample compounds people *chat*: residents' reports go through the dispatcher
  and NLP (duplicates merge, urgent cases alert), secretaries 派单/合并/改类/议事, handlers
  备注/办结, residents rate in the group (some 不满意: reopened), community staff 督办,
  wishes are posted, claimed, fulfilled or given up, posts are manned, notices acknowledged,
  collections answered, visits recorded, 12345 orders linked;
- the 33 other sample compounds (``bot/sample/demo_district.yaml``, there so the monthly
  property ranking has enough projects for its top-30 / 2-month / 3-month rules) are worked
  through ``bot.services.tickets`` directly, as district staff would from the dashboard;
- the schedules run on the fake clock: deadline sweeps (督办, auto-close), daily and weekly
  digests, the monthly ranking and star-rating drafts, wish sweeps, collection deadlines, purges (not
  the jobs that only send reminders: ``LIVE_ONLY_JOBS``); the 12345 desk's exports
  are imported twice a week through ``bot.services.hotline``.

Nothing is written into tables by hand, except the outbox's delivery marks (``_deliver_outbox``:
what the sender would record for a transport that delivers nowhere). One seeded
``random.Random`` makes it deterministic; ``python bench/demo_history.py`` times it.
"""
from __future__ import annotations

import asyncio
import csv
import heapq
import itertools
import logging
import math
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

from sqlalchemy import and_, func, select

from bot.clock import FakeClock
from bot.config import SAMPLE_ORG, Settings
from bot.sample import texts as S
from bot.transports.base import Incoming
from bot.transports.fake import FakeTransport

log = logging.getLogger(__name__)

EXTRA_ORG = Path(__file__).resolve().parent / "sample" / "demo_district.yaml"
SEED = 20261204
DAYS = 182
ACCOUNT = "sim"
# The generator's own outbox pacing: nobody reads these sends, so no spacing between them.
FAST_OUTBOX = {"min_interval_seconds": 0, "jitter_seconds": 0, "group_per_minute": 100000, "daily_cap": 1000000}
# When the schedules get a tick (local time): after the morning jobs (purge 03:30, visits 08:00,
# digests 08:30, ranking on the 1st, agenda reminders 09:00), all within their grace: every Monday
# (weekly digest), every 1st (ranking) and every day of the last week (the digests a newcomer
# reads). Each tick costs ~90 ms of CPU: ticking every 5 minutes like production would take hours,
# so on other days the jobs are recorded missed (older deadline sweeps and auto-closing happen
# up to a week late; resolution times and ratings are not affected).
TICK_AT = (9, 5)
# Who works the other compounds' cases from the dashboard (roster name, district staff).
DISTRICT_HANDLER = "区办小韩"
# Jobs whose runs leave nothing but messages to people (visit and duty reminders, the honour
# roll's preview): in the past nobody reads them (they would only be marked sent), and the
# demo's own schedules run them from its first day on. Reminders that leave a mark the
# dashboard shows (a discussion day's, the building leaders') still run.
LIVE_ONLY_JOBS = frozenset({"visits.daily", "visits.weekly", "visits.monthly", "posts.duty_reminders",
                            "members.honour_roll_preview"})
# Whose routine lines the generating thread keeps to itself (see ``_quiet``).
QUIET_LOGGERS = ("bot", "schedules", "handlers")

# The three chatting compounds: their groups, people and how busy they are (reports a day).
MAIN = {
    "阳光花园": {"groups": ("阳光花园业主1群", "阳光花园业主2群"), "secretary": "李书记", "rate": 0.32,
             "property": "周经理", "grid": "王网格", "community": "陈社区", "members": ("张党员", "赵楼长", "李书记"),
             "residents": ("张三", "李四", "王奶奶"), "social": "刘社工"},
    "兰亭水岸": {"groups": ("兰亭水岸邻里群",), "secretary": "孙书记", "rate": 0.16, "community": "陈社区",
             "members": ("孙书记",), "residents": ()},
    "沂龙湾润园": {"groups": ("沂龙湾润园业主群",), "secretary": "马书记", "rate": 0.12, "members": (),
              "residents": ()},
}
# Where a category goes first (派单 target words); compounds without that handler fall back to 物业.
ROUTES = {"noise": "网格员", "dispute": "网格员", "pets": "网格员", "assistance": "社区", "safety": "网格员"}


@dataclass
class HistorySummary:
    """What was generated (for the log line and the tests)."""

    since: datetime
    until: datetime
    messages: int = 0
    reports: int = 0
    service_tickets: int = 0
    wishes: int = 0
    notices: int = 0
    hotline_orders: int = 0
    ticks: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (f"示例历史：{self.since:%Y-%m-%d} 至 {self.until:%Y-%m-%d}，{self.messages}条群聊/私聊消息，"
                f"{self.counts.get('tickets', 0)}个工单，{self.wishes}个微心愿，{self.notices}条通知，"
                f"{self.hotline_orders}条12345工单，用时{self.seconds:.1f}秒")


async def database_is_empty(settings: Settings) -> bool:
    """No compound yet: a first start (the demo then loads the sample and its history)."""
    from bot import db
    from bot.models import Compound

    engine = db.create_engine(settings.database_url)
    try:
        await db.prepare_schema(engine)
        async with db.session_factory(engine)() as session:
            return not (await session.execute(select(func.count()).select_from(Compound))).scalar_one()
    finally:
        await engine.dispose()


async def prepare_demo(settings: Settings, *, empty: bool = False, show_progress: bool = True,
                       until: datetime | None = None, days: int = DAYS) -> HistorySummary | None:
    """``zhibu demo``'s first start: on an empty database with the sample organisation, load the
    sample district with six months of history (a progress bar on a terminal, then a summary
    line). ``empty`` (``zhibu demo --empty``), another org file, or a database that already has
    data: nothing is done here (the bot loads the org file as usual)."""
    if empty or Path(settings.org_file or SAMPLE_ORG).resolve() != SAMPLE_ORG.resolve():
        return None
    if not await database_is_empty(settings):
        return None
    if not show_progress:
        return await generate_history(settings, until=until, days=days)
    from bot.progress import progress

    with progress(days, "正在生成示例历史（首次启动）", unit="天") as bar:
        summary = await generate_history(settings, until=until, days=days, progress=bar)
        bar.summary(summary.line())
    return summary


async def generate_history(settings: Settings, *, until: datetime | None = None, days: int = DAYS,
                           seed: int = SEED, progress: Any = None, inline_sqlite: bool = True,
                           on_open: Callable[[], None] | None = None, busy_timeout_ms: int = 0) -> HistorySummary:
    """Run the sample district from ``until - days`` to ``until`` (default: now) on ``settings``'
    database, which must be empty or hold only the sample organisation. On SQLite the statements
    run in the event loop's thread (``bot.inline_sqlite``; ``inline_sqlite=False``: through
    aiosqlite's worker thread as in serving, for the benchmark's comparison).

    ``progress.update(days)`` follows the fake clock day by day. ``on_open`` is called once the
    sample organisation (its three compounds) is in the database; from then on the demo may
    serve on it meanwhile (``bot.demo_start``: this runs on a thread of its own,
    ``busy_timeout_ms`` lets it wait for the demo's writes). What the demo writes meanwhile is newer than the fake clock, and
    the generator leaves it alone."""
    from bot.clock import SystemClock

    clock_tz = SystemClock(settings.timezone)
    end = (until or clock_tz.now()).astimezone(clock_tz.tz)
    start = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    writer = _History(settings, start, end, random.Random(seed), progress, inline_sqlite, busy_timeout_ms)
    started = time.perf_counter()
    with _quiet():
        await writer.open(on_open)
        try:
            await writer.run()
        finally:
            await writer.close()
    writer.summary.seconds = time.perf_counter() - started
    return writer.summary


# ---------------------------------------------------------------------------- the run
class _History:
    def __init__(self, settings: Settings, start: datetime, end: datetime, rng: random.Random,
                 progress: Any, inline_sqlite: bool = True, busy_timeout_ms: int = 0) -> None:
        outbox = {**settings.outbox.model_dump(), **FAST_OUTBOX}
        self.settings = settings.model_copy(update={
            "org_file": settings.org_file or SAMPLE_ORG,
            "outbox": settings.outbox.model_validate(outbox)})
        self.start, self.end, self.rng = start, end, rng
        self.clock = FakeClock(start)
        self.transport = FakeTransport(account=ACCOUNT, now=self.clock.now)
        self.summary = HistorySummary(since=start, until=end)
        self.progress = progress
        self.inline_sqlite = inline_sqlite
        self.busy_timeout_ms = busy_timeout_ms
        self.app: Any = None
        self.engine: Any = None  # SQLite: statements inline (bot.inline_sqlite); else the app's own
        self._queue: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self.platform: dict[str, str] = {}      # display name → contact id
        self.groups: dict[str, str] = {}        # topic → room id
        self.residents: dict[str, list[tuple[str, str]]] = {}  # compound → (name, group) of chatting neighbours
        self.buildings: dict[str, list[str]] = {}
        self.compound_ids: dict[str, int] = {}
        self.busy_wishers: set[str] = set()
        self.claims = self.releases = 0  # a history always shows one claim given back (see _claim)
        self.actors: dict[str, dict[str, Any]] | None = None
        self.extra_org: Any = None  # the other compounds' plan (bot/sample/demo_district.yaml)

    # ------------------------------------------------------------------ setup
    async def open(self, on_open: Callable[[], None] | None = None) -> None:
        from bot.app import BotApp
        from bot.orgimport import apply_plan, parse_file

        self.extra_org = parse_file(EXTRA_ORG)  # read once: the plan uses it too

        if self.inline_sqlite and self.settings.database_url.startswith("sqlite"):
            from bot.inline_sqlite import create_inline_engine

            self.engine = create_inline_engine(self.settings.database_url, busy_timeout_ms=self.busy_timeout_ms)
        self.app = BotApp(self.settings, transports=[self.transport], clock=self.clock, rng=self.rng,
                          engine=self.engine)
        await self.app.open()  # loads the sample organisation into the empty database
        self.app.scheduler = _history_scheduler(self.app)
        if on_open is not None:  # the demo may open on it now (the other compounds come next)
            on_open()
        async with self.app.sessions() as session:
            await apply_plan(session, self.extra_org, self.clock.now(), account=ACCOUNT)
            await session.commit()
        await self.app.refresh_org()
        await self.transport.start(self.app)
        await self._load_directory()

    async def close(self) -> None:
        try:
            if self.app is not None:
                await self.app.stop()
        finally:
            if self.engine is not None:
                await self.engine.dispose()

    async def _load_directory(self) -> None:
        from bot.models import Building, ChatGroup, Compound, Identity, Person

        async with self.app.sessions() as session:
            self.platform = dict((await session.execute(
                select(Person.name, Identity.platform_id).join(Identity, Identity.person_id == Person.id)
                .where(Identity.account == ACCOUNT))).all())
            self.groups = dict((await session.execute(select(ChatGroup.topic, ChatGroup.platform_id))).all())
            self.compound_ids = dict((await session.execute(select(Compound.name, Compound.id))).all())
            for name, number in (await session.execute(
                    select(Compound.name, Building.number).join(Building, Building.compound_id == Compound.id)
                    .order_by(Building.id))).all():
                self.buildings.setdefault(name, []).append(number)
        taken = set(self.platform)
        for index, (compound, spec) in enumerate(MAIN.items()):
            count = {0: 36, 1: 18, 2: 14}[index]
            names = S.person_names(self.rng, count, taken)
            for n, name in enumerate(names):
                self.platform[name] = f"wxid_sample_{index}_{n}"
            groups = spec["groups"]
            self.residents[compound] = [(name, groups[n % len(groups)]) for n, name in enumerate(names)]
            self.residents[compound] += [(name, groups[0]) for name in spec["residents"]]

    # ------------------------------------------------------------------ the clock
    def at(self, when: datetime, action: Callable[[], Awaitable[None]]) -> None:
        if when <= self.end:
            heapq.heappush(self._queue, (when, next(self._seq), action))

    def later(self, hours_low: float, hours_high: float, action: Callable[[], Awaitable[None]],
              *, daytime: bool = True) -> None:
        when = self.clock.now() + timedelta(hours=self.rng.uniform(hours_low, hours_high))
        self.at(_daytime(when, self.clock.tz) if daytime else when, action)

    async def run(self) -> None:
        self._plan()
        ticks = self._ticks()
        next_tick = next(ticks)
        total_days = max(1, (self.end - self.start).days)
        shown_day = 0
        while self._queue:
            when, _, action = heapq.heappop(self._queue)
            while next_tick <= when:
                await self._tick(next_tick)
                next_tick = next(ticks)
            day = min((when - self.start).days, total_days)
            if self.progress is not None and day > shown_day:
                self.progress.update(day - shown_day)
                shown_day = day
            self._set(when)
            await action()
        self._set(self.end)
        await self._tick(self.end)
        await self._rate_last_quarter()
        if self.progress is not None and total_days > shown_day:
            self.progress.update(total_days - shown_day)
        await self._count()

    def _ticks(self):  # noqa: ANN202
        day = self.start
        while True:
            moment = day.replace(hour=TICK_AT[0], minute=TICK_AT[1])
            if moment > self.end:
                yield self.end + timedelta(days=1)
                return
            if (self.end - day) < timedelta(days=8) or day.weekday() == 0 or day.day == 1:
                yield moment
            day += timedelta(days=1)

    def _set(self, moment: datetime) -> None:
        # A drain may have moved the fake clock on by a few seconds; time never runs backwards.
        if moment > self.clock.now():
            self.clock.set(moment)

    async def _tick(self, moment: datetime) -> None:
        self._set(moment)
        await self.app.run_due_jobs()
        await self._deliver_outbox()
        await self.app.dispatcher.flush_chatter()
        self.summary.ticks += 1

    async def _deliver_outbox(self) -> None:
        """What the outbox sender would do with the transport that delivers nowhere, in a few
        statements instead of ~6 per row (the sender costs ~8 ms of CPU a row; the sample has
        thousands): texts to a group or to someone with WeChat linked count as sent, the rest
        fail as the sender fails them, and the outbox's hooks run for the rows that have one (a
        digest is "sent" only then). Nothing is left to flood the demo when it starts."""
        from sqlalchemy import or_, update

        from bot import outbox as O
        from bot.models import Identity, OutboxMessage, OutboxStatus
        from bot.texts import outbox as TO

        now = self.clock.now()
        due = and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.created_at <= now,
                   or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now))
        linked = select(Identity.person_id).where(Identity.active.is_(True))
        reachable = or_(OutboxMessage.group_id.is_not(None), OutboxMessage.person_id.in_(linked))
        async with self.app.sessions() as session:
            sent = list((await session.execute(select(OutboxMessage.id).where(due, reachable))).scalars())
            failed = list((await session.execute(select(OutboxMessage.id).where(due, ~reachable))).scalars())
            if sent:
                await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(sent)).values(
                    status=OutboxStatus.SENT, account=ACCOUNT, sent_at=now, attempts=1))
            if failed:
                await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(failed)).values(
                    status=OutboxStatus.FAILED, error=TO.NO_ADDRESS, attempts=1))
            for ids, hooks in ((sent, getattr(O, "SENT_HOOKS", {})), (failed, getattr(O, "FAILED_HOOKS", {}))):
                if ids and hooks:
                    for row in (await session.execute(select(OutboxMessage).where(
                            OutboxMessage.id.in_(ids), OutboxMessage.ref_kind.in_(list(hooks))))).scalars():
                        await hooks[row.ref_kind](session, row)
            await session.commit()

    async def _rate_last_quarter(self) -> None:
        """The property star rating of the last finished quarter, reviewed and approved as the
        district would (``bot.services.rating.demo``), so the rating pages have a run to show."""
        from bot.services import Deps
        from bot.services.rating.demo import rate_quarter

        async with self.app.sessions() as session:
            await rate_quarter(Deps(session, self.clock, self.app.outbox, self.app.org, self.app.settings))
            await session.commit()

    # ------------------------------------------------------------------ chat
    async def say(self, group: str, name: str, text: str) -> int | None:
        return await self._deliver(name, text, chat=group)

    async def dm(self, name: str, text: str) -> int | None:
        return await self._deliver(name, text)

    async def _deliver(self, name: str, text: str, chat: str | None = None) -> int | None:
        self.summary.messages += 1
        return await self.app.dispatcher.handle(Incoming(
            account=ACCOUNT, message_id=f"sample-{next(self._ids)}", sender_id=self.platform[name],
            sender_name=name, text=text, sent_at=self.clock.now(),
            chat_id=self.groups[chat] if chat else None, chat_topic=chat))

    async def ticket_of(self, message_id: int | None) -> Any:
        """The ticket a stored message opened or joined (None: it became no ticket)."""
        from bot.models.tickets import Ticket, TicketReporter

        if message_id is None:
            return None
        async with self.app.sessions() as session:
            found = (await session.execute(select(Ticket).where(Ticket.source_message_id == message_id))).scalars().first()
            if found is None:
                found = (await session.execute(select(Ticket).join(
                    TicketReporter, TicketReporter.ticket_id == Ticket.id).where(
                    TicketReporter.message_id == message_id))).scalars().first()
        return found

    async def ticket(self, ticket_id: int) -> Any:
        from bot.models.tickets import Ticket

        async with self.app.sessions() as session:
            return await session.get(Ticket, ticket_id)

    # ------------------------------------------------------------------ the plan
    def _plan(self) -> None:
        days = (self.end - self.start).days
        for compound, spec in MAIN.items():
            for d in range(days + 1):
                day = self.start + timedelta(days=d)
                # The bot is new at first: fewer reports in the first weeks, more on weekends.
                growth = 0.55 + 0.45 * min(1.0, d / 45)
                weekend = 1.25 if day.weekday() >= 5 else 1.0
                for _ in range(_poisson(self.rng, spec["rate"] * growth * weekend)):
                    self.at(_daytime(day + timedelta(hours=self.rng.uniform(7, 22)), self.clock.tz),
                            self._report_action(compound))
                if self.rng.random() < 0.08:
                    self.at(day + timedelta(hours=self.rng.uniform(8, 21)), self._chatter_action(compound))
                if self.rng.random() < 0.012:
                    self.at(day + timedelta(hours=self.rng.uniform(0, 23.9)), self._urgent_action(compound))
        self._plan_yangguang()
        self._plan_notices()
        self._plan_extras()
        self._plan_hotline()

    def _plan_yangguang(self) -> None:
        """The sample compound people open first: wishes, posts, visits, discussion days."""
        first = self.start + timedelta(days=2, hours=10)
        self.at(first, self._setup_posts)
        self.at(first + timedelta(hours=1), self._setup_visits)
        days = (self.end - self.start).days
        for d in range(3, days + 1):
            day = self.start + timedelta(days=d)
            if self.rng.random() < 0.1:
                self.at(day + timedelta(hours=self.rng.uniform(9, 20)), self._wish_action())
            if d in (days - 3, days - 1):  # the newest wishes still wait for a helper
                self.at(day + timedelta(hours=self.rng.uniform(9, 12)), self._wish_action(helped=False))
            if day.weekday() == 5 and d % 14 < 7:  # Saturday duty of the post holders (logged every other week)
                self.at(day + timedelta(hours=9, minutes=self.rng.randint(20, 90)), self._duty_action())
            if day.weekday() == 1 or day.day == 5:  # the social worker logs her rounds once a week
                self.at(day + timedelta(hours=self.rng.uniform(10, 17)), self._visit_action(day))
            if day.day == 8:  # put cases on the month's discussion day (the 15th by default)
                self.at(day + timedelta(hours=16), self._agenda_action("阳光花园"))
                self.at(day + timedelta(hours=16, minutes=20), self._agenda_action("兰亭水岸"))

    def _plan_notices(self) -> None:
        days = (self.end - self.start).days
        for d in range(4, days + 1, 12):
            day = self.start + timedelta(days=d + self.rng.randint(0, 3))
            compound = self.rng.choices(list(MAIN), weights=(5, 2, 2))[0]
            self.at(day + timedelta(hours=self.rng.uniform(9, 11)), self._notice_action(compound))
        for d in range(20, days + 1, 45):
            day = self.start + timedelta(days=d)
            self.at(day + timedelta(hours=10), self._collection_action())

    def _plan_extras(self) -> None:
        """Property complaints in the other compounds. Each project has a standing, so the last
        ranked month shows every rule: three projects complain every month (3 months running:
        replace the company), three only in the last two (replace the manager), more than 30
        projects have complaints and the four best have one each (ranked below 30, not listed)."""
        names = list(self.extra_org.compounds)
        months = _month_starts(self.start, self.end)
        ranked = len(months) - 2  # the last month the ranking job has run for (the 1st of this month)
        for index, name in enumerate(names):
            for m, (month_start, month_end) in enumerate(months):
                if m > ranked:  # this month so far
                    count = _poisson(self.rng, 0.3)
                elif index < 3:
                    count = max(2 if m == ranked else 1, _poisson(self.rng, 3.0))
                elif index < 6:
                    count = 0 if m < ranked - 1 else max(2, _poisson(self.rng, 3.5 if m == ranked else 2.0))
                elif index >= len(names) - 4:
                    count = 1 if m == ranked else _poisson(self.rng, 0.2)
                else:
                    count = max(2, _poisson(self.rng, 2.5)) if m == ranked else _poisson(self.rng, 0.5)
                span = (month_end - month_start).total_seconds() / 3600
                for _ in range(count):
                    when = month_start + timedelta(hours=self.rng.uniform(1, max(1.5, span - 12)))
                    self.at(when, self._service_ticket_action(name))

    def _plan_hotline(self) -> None:
        """The 12345 desk's export, imported every Monday and Thursday for the days before."""
        days = (self.end - self.start).days
        previous = self.start
        for d in range(1, days + 1):
            day = self.start + timedelta(days=d)
            if day.weekday() in (0, 3):
                self.at(day + timedelta(hours=10, minutes=30), self._hotline_action(previous, day))
                previous = day

    # ------------------------------------------------------------------ tickets by chat
    def _report_action(self, compound: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            name, group = self.rng.choice(self.residents[compound])
            cat = S.category(self.rng)
            text, where, problem = S.report(self.rng, cat, self.buildings[compound])
            mid = await self.say(group, name, text)
            self.summary.reports += 1
            ticket = await self.ticket_of(mid)
            if ticket is None:
                if self.rng.random() < 0.5:  # not taken up: some say it again as 报事
                    mid = await self.dm(name, "报事 " + text) if name in self.platform else None
                    ticket = await self.ticket_of(mid)
                if ticket is None:
                    return
            if ticket.number and ticket.reporters_count > 1:
                return  # joined an open ticket: its own life goes on
            if self.rng.random() < 0.12:  # a neighbour says the same a little later
                other, other_group = self.rng.choice(self.residents[compound])
                if other != name:
                    self.later(0.5, 6, self._echo_action(compound, ticket.id, other, other_group, where, problem),
                               daytime=False)
            self._life(compound, ticket.id, cat, name, group)
        return act

    def _urgent_action(self, compound: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            name, group = self.rng.choice(self.residents[compound])
            mid = await self.say(group, name, S.urgent(self.rng, self.buildings[compound]))
            ticket = await self.ticket_of(mid)
            if ticket is not None:
                self._life(compound, ticket.id, ticket.category, name, group, urgent=True)
        return act

    def _echo_action(self, compound: str, ticket_id: int, name: str, group: str, where: str,
                     problem: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            mid = await self.say(group, name, S.echo(self.rng, where, problem))
            echo = await self.ticket_of(mid)
            if echo is None or echo.id == ticket_id:
                return  # chatter, or the bot merged it itself
            original = await self.ticket(ticket_id)
            if original.state in ("new", "assigned"):  # the branch merges what the bot did not
                secretary = MAIN[compound]["secretary"]
                self.later(1, 8, self._command(secretary, f"合并 {compound}-{echo.number:04d} {compound}-{original.number:04d}"))
        return act

    def _command(self, name: str, text: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.dm(name, text)
        return act

    def _life(self, compound: str, ticket_id: int, cat: str, reporter: str, group: str, *, urgent: bool = False) -> None:
        """The branch reviews and assigns, the handler works and resolves, the resident rates."""
        spec = MAIN[compound]
        ticket_ref = lambda t: f"{compound}-{t.number:04d}"  # noqa: E731
        slow = self.rng.random() < 0.1  # some miss their deadline (the sweep escalates them)
        # The last days' cases are still open: the dashboard has work in progress to show.
        fresh = (self.end - self.clock.now()) < timedelta(days=self.rng.uniform(2, 9))

        async def review() -> None:
            t = await self.ticket(ticket_id)
            if t.state != "new":
                return
            if t.category != cat and cat in S.PROBLEMS and self.rng.random() < 0.7 and not urgent:
                await self.dm(spec["secretary"], f"改类 {ticket_ref(t)} {_CATEGORY_WORDS[cat]}")
            target = ROUTES.get(cat, "物业")
            if target == "网格员" and "grid" not in spec:
                target = "社区" if "community" in spec else "物业"
            if target == "社区" and "community" not in spec:
                target = "物业"
            await self.dm(spec["secretary"], f"派单 {ticket_ref(t)} {target}")
            if self.rng.random() < 0.08:  # the neighbour had called 12345 too: the order is linked
                await self.dm(spec["secretary"], f"热线 {ticket_ref(t)} SL{self.clock.local():%Y%m%d}{t.id:05d}")
            handler = {"物业": spec.get("property"), "网格员": spec.get("grid"), "社区": spec.get("community")}.get(target)
            if fresh and self.rng.random() < 0.6:
                return
            if not urgent and self.rng.random() < 0.3:
                self.later(4, 30, note(handler or spec["secretary"]))
            hours = (0.5, 5) if urgent else ((90, 200) if slow else (3, 70))
            self.later(*hours, resolve(handler or spec["secretary"]), daytime=not urgent)
            if slow and "community" in spec and self.rng.random() < 0.5:
                self.later(50, 80, self._command(spec["community"], f"督办 {ticket_ref(t)} 居民多次反映，请加快处理"))

        def note(who: str) -> Callable[[], Awaitable[None]]:
            async def act() -> None:
                t = await self.ticket(ticket_id)
                if t.state == "assigned":
                    await self.dm(who, f"备注 {ticket_ref(t)} {self.rng.choice(S.NOTES)}")
            return act

        def resolve(who: str, again: bool = False) -> Callable[[], Awaitable[None]]:
            async def act() -> None:
                t = await self.ticket(ticket_id)
                if t.state != "assigned":
                    return
                words = S.RESOLUTIONS.get(t.category) or S.RESOLUTIONS.get(cat) or ["已处理完毕"]
                text = ("已返工，" if again else "") + self.rng.choice(words)
                await self.dm(who, f"办结 {ticket_ref(t)} {text}")
                roll = self.rng.random()
                if roll < 0.12:
                    return  # nobody answers: the sweep closes it after the confirmation window
                self.later(1, 30, rate(who, again))
            return act

        def rate(who: str, again: bool) -> Callable[[], Awaitable[None]]:
            async def act() -> None:
                t = await self.ticket(ticket_id)
                if t.state != "resolved":
                    return
                roll = self.rng.random()
                if roll < 0.08 and not again:
                    await self.say(group, reporter, self.rng.choice(S.RATINGS_BAD))
                    self.later(20, 70, resolve(who, again=True))
                    return
                words = S.RATINGS_BASIC if roll < 0.3 else S.RATINGS_GOOD
                await self.say(group, reporter, self.rng.choice(words))
            return act

        hours = (0.1, 0.5) if urgent else (0.5, 20)
        self.later(*hours, review, daytime=not urgent)

    def _chatter_action(self, compound: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            name, group = self.rng.choice(self.residents[compound])
            await self.say(group, name, self.rng.choice(S.CHATTER))
        return act

    # ------------------------------------------------------------------ agenda (四定)
    def _agenda_action(self, compound: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            from bot.models.tickets import Ticket

            from bot.services.agenda import COMMITTEE_CATEGORIES

            async with self.app.sessions() as session:
                candidates = list((await session.execute(select(Ticket).where(
                    Ticket.compound_id == self.compound_ids[compound], Ticket.state.in_(["new", "assigned"]),
                    Ticket.created_at <= self.clock.now(),
                    Ticket.category.in_(sorted(COMMITTEE_CATEGORIES))).order_by(Ticket.id))).scalars())
            spec = MAIN[compound]
            owners = [n for n in (spec.get("property"), spec.get("grid"), spec["secretary"]) if n]
            for t in candidates[: self.rng.randint(1, 3)]:
                topic = S.topic(t.text)
                scope = self.rng.choice(("物业、业委会", "物业、楼长", "业委会、居民代表", "物业"))
                await self.dm(spec["secretary"], f"议事 {compound}-{t.number:04d} 议题 {topic} 范围 {scope} "
                                                 f"责任 {self.rng.choice(owners)}")
        return act

    # ------------------------------------------------------------------ wishes
    def _wish_action(self, helped: bool = True) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            from bot.models.wishes import Wish

            spec = MAIN["阳光花园"]
            wishers = [n for n, _ in self.residents["阳光花园"][:12]] + ["王奶奶"]
            wisher = self.rng.choice([w for w in wishers if w not in self.busy_wishers] or wishers)
            wish = self.rng.choice(S.WISHES)
            if wisher == "王奶奶" and self.rng.random() < 0.5:
                await self.dm(spec["social"], f"代发心愿 王奶奶 {wish}")
            else:  # a neighbour known only from the group posts there (the group tells the compound)
                group = dict(self.residents["阳光花园"]).get(wisher, spec["groups"][0])
                await self.say(group, wisher, f"微心愿 {wish}")
            async with self.app.sessions() as session:
                wish_id = (await session.execute(select(func.max(Wish.id)).where(
                    Wish.created_at <= self.clock.now()))).scalar_one()  # not one the demo's user posted
            if wish_id is None:
                return
            self.summary.wishes += 1
            self.busy_wishers.add(wisher)
            helpers = list(spec["members"])
            helper = self.rng.choice(helpers)
            if not helped:
                return  # still waiting for a helper
            self.later(2, 40, self._claim(wish_id, wisher, helper, helpers))
        return act

    def _claim(self, wish_id: int, wisher: str, helper: str, helpers: list[str]) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.dm(helper, f"认领 W{wish_id}")
            roll = self.rng.random()
            self.claims += 1
            # Cannot come after all: released for someone else. The third claim is, if none was
            # yet, so the sample shows a release whatever the draws (the dashboard lists them).
            if roll < 0.15 or (self.claims == 3 and not self.releases):
                self.releases += 1
                others = [h for h in helpers if h != helper] or helpers
                self.later(10, 40, self._command(helper, f"放弃 W{wish_id} {self.rng.choice(S.GIVE_UP)}"))
                self.later(45, 90, self._claim(wish_id, wisher, self.rng.choice(others), helpers))
                return
            if self.rng.random() < 0.5:
                self.later(5, 24, self._command(helper, f"心愿进度 W{wish_id} {self.rng.choice(S.WISH_PROGRESS)}"))
            self.later(26, 80, self._done(wish_id, wisher, helper))
        return act

    def _done(self, wish_id: int, wisher: str, helper: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.dm(helper, f"完成 W{wish_id} {self.rng.choice(S.WISH_DONE)}")
            confirmer = MAIN["阳光花园"]["social"] if wisher == "王奶奶" and self.rng.random() < 0.3 else wisher
            if confirmer == wisher:
                self.later(2, 30, self._command(wisher, f"确认心愿 W{wish_id}" + (" 公开" if self.rng.random() < 0.5 else "")))
            self.busy_wishers.discard(wisher)
        return act

    # ------------------------------------------------------------------ posts and visits
    async def _setup_posts(self) -> None:
        await self.dm("李书记", "设岗 楼道安全巡查员 职责：检查楼道杂物和消防通道 时间：每周六 9:00 人数：2")
        await self.dm("李书记", "设岗 助老帮办员 职责：帮独居老人代买代办 时间：每周六 10:00 人数：2")
        for name, post in (("张党员", "P1"), ("赵楼长", "P1"), ("李书记", "P2")):
            await self.dm(name, f"认岗 {post}")

    async def _duty_action_impl(self) -> None:
        for name, post in (("张党员", "P1"), ("赵楼长", "P1"), ("李书记", "P2")):
            if self.rng.random() < 0.7:
                note = self.rng.choice(S.DUTY_NOTES[post])
                await self.dm(name, f"到岗 {post}" + (f" {note}" if note else ""))

    def _duty_action(self) -> Callable[[], Awaitable[None]]:
        return self._duty_action_impl

    async def _setup_visits(self) -> None:
        for kind, target, note in S.VISIT_TARGETS:
            await self.dm("刘社工", f"添加走访 {kind} {target} {note}")

    def _visit_action(self, day: datetime) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            done = ["1"]
            if day.weekday() == 1:
                done += ["2", "3"][: self.rng.randint(1, 2)]
            if day.day == 5:
                done.append("4")
            await self.dm("刘社工", "已走访 " + " ".join(done))
        return act

    # ------------------------------------------------------------------ notices and collections
    def _notice_action(self, compound: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            secretary = MAIN[compound]["secretary"]
            await self.dm(secretary, "通知 " + self.rng.choice(S.NOTICES))
            await self.dm(secretary, "确认")
            self.summary.notices += 1
            for name, group in self.rng.sample(self.residents[compound], k=min(len(self.residents[compound]),
                                                                                 self.rng.randint(2, 5))):
                self.later(0.2, 20, self._say(group, name, self.rng.choice(("收到", "收到，谢谢", "收到👌"))))
        return act

    def _say(self, group: str, name: str, text: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.say(group, name, text)
        return act

    def _collection_action(self) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            deadline = self.clock.local() + timedelta(days=4)
            await self.dm("李书记", f"通知 收集 {self.rng.choice(S.COLLECTIONS)} 截止 {deadline:%m-%d} 18:00")
            await self.dm("李书记", "确认")
            self.summary.notices += 1
            buildings = self.buildings["阳光花园"]
            for name, group in self.rng.sample(self.residents["阳光花园"], k=6):
                answer = f"{self.rng.choice(buildings)}号楼{self.rng.randint(1, 3)}单元 {self.rng.randint(1, 4)}人"
                self.later(0.5, 60, self._say(group, name, answer), daytime=True)
        return act

    # ------------------------------------------------------------------ the other compounds
    def _service_ticket_action(self, compound: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            from bot.services.tickets import intake

            cat = self.rng.choices(["property", "sanitation", "parking", "elevator"], weights=(6, 2, 2, 1))[0]
            text, _, _ = S.report(self.rng, cat, self.buildings[compound])
            async with self._deps() as (deps, actors):
                resident = actors[compound]["residents"][self.rng.randrange(len(actors[compound]["residents"]))]
                analysis = _analyze(text)
                result = await intake.report(deps, resident, text, compound_id=self.compound_ids[compound],
                                          analysis=analysis, channel="private")
                ticket_id = result.ticket.id
                created = result.outcome == "created"
            self.summary.service_tickets += 1
            if not created:
                return
            fresh = (self.end - self.clock.now()) < timedelta(days=self.rng.uniform(3, 12))
            self.later(1, 30, self._service_step(compound, ticket_id, "assign"))
            if not fresh:
                self.later(40, 150, self._service_step(compound, ticket_id, "resolve"))
        return act

    def _service_step(self, compound: str, ticket_id: int, step: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            from bot.models.tickets import Ticket, TicketReporter
            from bot.services import ServiceError
            from bot.services.tickets import resolution, workflow

            async with self._deps() as (deps, actors):
                ticket = await deps.session.get(Ticket, ticket_id)
                secretary = actors[DISTRICT_HANDLER]
                try:
                    if step == "assign" and ticket.state == "new":
                        await workflow.assign(deps, secretary, ticket, "物业")
                    elif step == "resolve" and ticket.state == "assigned":
                        await resolution.resolve(deps, secretary, ticket, self.rng.choice(
                            S.RESOLUTIONS.get(ticket.category) or S.RESOLUTIONS["property"]))
                        if self.rng.random() < 0.8:
                            self.later(2, 48, self._service_step(compound, ticket_id, "rate"))
                    elif step == "rate" and ticket.state == "resolved":
                        row = (await deps.session.execute(select(TicketReporter).where(
                            TicketReporter.ticket_id == ticket.id))).scalars().first()
                        reporter = next((a for a in actors[compound]["residents"] if a.person_id == row.person_id), None)
                        if reporter is not None:
                            rating = self.rng.choices(["satisfied", "basic", "unsatisfied"], weights=(6, 3, 1))[0]
                            await resolution.rate(deps, reporter, ticket, rating)
                            if rating == "unsatisfied":
                                self.later(30, 90, self._service_step(compound, ticket_id, "resolve"))
                except ServiceError as exc:
                    log.debug("sample step %s of ticket %s: %s", step, ticket_id, exc)
        return act

    def _deps(self):  # noqa: ANN202
        return _DepsBlock(self)

    # ------------------------------------------------------------------ 12345
    def _hotline_action(self, since: datetime, until: datetime) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            """The days' 12345 export, read and imported like ``zhibu hotline import`` does."""
            from bot.services.hotline import import_hotline_orders, parse_hotline_file

            months = _month_index(self.start, since)
            span = (until - since).total_seconds() / 3600
            rows = []
            for compound, cid in sorted(self.compound_ids.items(), key=lambda item: item[1]):
                # Per month: fewer 12345 calls where the branch answers in the group (the goal
                # of 有事找支部), a steady few elsewhere.
                per_month = 9 * (1.0 - 0.09 * months) if compound in MAIN else 2.5
                for n in range(_poisson(self.rng, per_month * span / (24 * 30.4))):
                    when = self.clock.local(since + timedelta(hours=self.rng.uniform(0, span)))
                    cat = S.category(self.rng)
                    text, where, _ = S.report(self.rng, cat, self.buildings.get(compound, ["1"]))
                    rows.append({"工单号": f"SL{when:%Y%m%d%H%M}{cid:03d}{n:02d}", "受理时间": f"{when:%Y-%m-%d %H:%M}",
                                 "小区": compound, "地址": where, "诉求内容": text, "状态": "已办结"})
            if not rows:
                return
            with tempfile.TemporaryDirectory(prefix="zhibu-sample-") as tmp:
                path = Path(tmp) / "12345.csv"
                with path.open("w", encoding="utf-8", newline="") as handle:
                    writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                    writer.writeheader()
                    writer.writerows(rows)
                parsed = parse_hotline_file(path, self.app.org, self.clock.tz)
            async with self.app.sessions() as session:
                result = await import_hotline_orders(session, parsed, self.clock.now())
                await session.commit()
            self.summary.hotline_orders += result.created
        return act

    # ------------------------------------------------------------------ the figures
    async def _count(self) -> None:
        from bot.models import Event
        from bot.models.tickets import Ticket

        async with self.app.sessions() as session:
            self.summary.counts = {
                "tickets": (await session.execute(select(func.count()).select_from(Ticket))).scalar_one(),
                "events": (await session.execute(select(func.count()).select_from(Event))).scalar_one(),
            }


def _history_scheduler(app: Any) -> Any:
    """The generator's schedules: every job but ``LIVE_ONLY_JOBS``."""
    from schedules.registry import JOBS
    from schedules.runner import Scheduler

    return Scheduler(app, jobs={name: job for name, job in JOBS.items() if name not in LIVE_ONLY_JOBS})


class _DepsBlock:
    """A session as Deps plus Actors for the other compounds' people; commits at the end."""

    def __init__(self, history: _History) -> None:
        self.h = history
        self.session: Any = None

    async def __aenter__(self) -> tuple[Any, dict[str, dict[str, Any]]]:
        from bot.services import Deps

        self.session = self.h.app.sessions()
        await self.session.__aenter__()
        deps = Deps(self.session, self.h.app.clock, self.h.app.outbox, self.h.app.org, self.h.app.settings)
        return deps, await _extra_actors(self.h, self.session)

    async def __aexit__(self, exc_type: Any, *rest: Any) -> None:
        try:
            if exc_type is None:
                await self.session.commit()
        finally:
            await self.session.__aexit__(exc_type, *rest)


async def _extra_actors(history: _History, session: Any) -> dict[str, dict[str, Any]]:
    """The district handler, and per extra compound its residents, as service Actors (loaded once)."""
    if history.actors is not None:
        return history.actors
    from bot.models import Person, Role
    from bot.roles import Roles
    from bot.services import Actor

    people = list((await session.execute(select(Person).where(Person.on_roster.is_(True)))).scalars())
    community_of = history.app.org.community_of
    roles: dict[int, list[Role]] = {}
    for role in (await session.execute(select(Role))).scalars():
        roles.setdefault(role.person_id, []).append(role)
    by_id = {cid: name for name, cid in history.compound_ids.items()}
    out: dict[str, dict[str, Any]] = {}
    for person in people:
        actor = Actor(name=person.name, roles=Roles.from_rows(roles.get(person.id, []), community_of),
                      person_id=person.id)
        if person.name == DISTRICT_HANDLER:
            out[DISTRICT_HANDLER] = actor
        compound = by_id.get(person.compound_id)
        if compound is not None and compound not in MAIN:
            out.setdefault(compound, {"residents": []})["residents"].append(actor)
    history.actors = out
    return out


# ---------------------------------------------------------------------------- helpers
_CATEGORY_WORDS = {"property": "物业", "sanitation": "环境卫生", "parking": "停车", "roads": "道路",
                   "utilities": "水电气暖", "elevator": "电梯", "noise": "噪音", "greening": "绿化", "pets": "宠物",
                   "safety": "安全", "dispute": "邻里纠纷", "assistance": "困难帮扶", "other": "其他"}


def _quiet():  # noqa: ANN202
    """The sample's routine warnings (texts to people who have no WeChat linked, digests with
    nobody to read them) are expected here: keep this thread's lines below ERROR out of the
    demo's console; the live demo's own lines (other threads) still appear."""
    from bot.log_filters import quiet_this_thread

    return quiet_this_thread(QUIET_LOGGERS)


def _analyze(text: str) -> Any:
    import nlp

    return nlp.analyze(text)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: small means only (a day's reports)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _daytime(moment: datetime, tz: Any) -> datetime:
    """People act between 7:30 and 22:00 local: later moments move to the next morning."""
    local = moment.astimezone(tz)
    if local.hour < 7 or (local.hour == 7 and local.minute < 30):
        local = local.replace(hour=7, minute=30) + timedelta(minutes=(local.minute * 7) % 120)
    elif local.hour >= 22:
        local = (local + timedelta(days=1)).replace(hour=7, minute=30) + timedelta(minutes=(local.minute * 7) % 120)
    return local


def _month_starts(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Local calendar months overlapping [start, end), clipped to it."""
    out = []
    cursor = start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while cursor < end:
        following = (cursor + timedelta(days=32)).replace(day=1)
        out.append((max(cursor, start), min(following, end)))
        cursor = following
    return out


def _month_index(start: datetime, moment: datetime) -> int:
    return (moment.year - start.year) * 12 + moment.month - start.month


def run(settings: Settings, **kwargs: Any) -> HistorySummary:
    """Synchronous entry (scripts and bench)."""
    return asyncio.run(generate_history(settings, **kwargs))
