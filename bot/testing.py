"""A public test kit: drive the bot the way WeChat would, with a fake transport and clock.

    from bot.testing import BotHarness
    async with BotHarness(org="path/to/org.yaml") as h:
        await h.say("阳光花园业主1群", "张三", "4号楼门口积水了")
        await h.dm("李书记", "工单")
        await h.advance(hours=2)     # jumps from due time to due time
        await h.restart()
        h.now, h.sent

Names are display names: groups by topic, people by name. A roster person with a
``wechat_id`` in the org file speaks under that id; anyone else gets a stable made-up id.

To find a text without copying its wording, match the fixed part of its template in
``bot/texts``: ``[t for t in h.texts_to("李书记") if fixed_part(digests.DAILY_HEADER) in t]``.
"""
from __future__ import annotations

import atexit
import itertools
import os
import random
import shutil
import string
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot import db
from bot.app import BotApp
from bot.clock import FakeClock
from bot.config import SAMPLE_ORG, Settings
from bot.inline_sqlite import create_inline_engine
from bot.models import Base, ChatGroup, Identity, Person
from bot.services import gate
from bot.transports.base import (
    Incoming, LoggedIn, MediaRef, MemberInfo, MessageKind, RoomInfo, RoomJoined, RoomLeft,
)
from bot.transports.fake import FakeTransport
from bot.transports.mentions import strip_mention

DEFAULT_START = datetime(2026, 12, 1, 9, 0)


@dataclass(frozen=True)
class Sent:
    """One text the bot sent: to a group (``group`` is its topic) or a person (``person``)."""

    group: str | None
    person: str | None
    text: str
    mentions: tuple[str, ...]
    at: datetime
    message_id: str = ""  # the platform id: ``say(..., quote=sent)`` quotes this message

    def __str__(self) -> str:
        return f"[{self.group or '私聊:' + str(self.person)}] {self.text}"


_templates: dict[tuple[str, str], Path] = {}


async def _sqlite_template(org: Path | None, account: str, now: datetime) -> Path:
    key = (str(org), account)
    if key not in _templates:
        from bot.orgimport import apply_plan, parse_file

        path = Path(tempfile.mkdtemp(prefix="zhibu-template-")) / "template.db"
        engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
        await db.create_all_and_stamp(engine)
        if org is not None:
            async with db.session_factory(engine)() as session:
                await apply_plan(session, parse_file(org), now, account=account)
                await session.commit()
        async with engine.connect() as conn:  # fold the WAL into the file before copying it
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await engine.dispose()
        _templates[key] = path
    return _templates[key]


def _listener_counts(engine: AsyncEngine) -> dict[str, int]:
    counts = {}
    for target in (engine.sync_engine, engine.sync_engine.pool):
        dispatch = target.dispatch
        for name in dispatch._event_names:
            counts[f"{type(target).__name__}.{name}"] = len(getattr(dispatch, name))
    return counts


@dataclass
class _Slot:
    """A SQLite file path and its engine, used by one harness after another in a process.

    Each harness still starts on a fresh copy of the template; what is kept is the engine, and
    with it SQLAlchemy's compiled-statement cache (it is per engine: a new engine compiles
    every statement again, a large part of a short test's CPU). The engine is disposed between
    harnesses, so no connection outlives one.

    Its statements run in the event loop's thread (``bot.inline_sqlite``, each one still a point
    where the loop's other tasks run): the two thread switches aiosqlite makes per statement
    were most of a test's remaining CPU. The bot's writers queue in the loop (``bot.write_gate``)
    and readers never wait (WAL): a statement that would wait for SQLite's lock is an error at
    once, not a wait."""

    path: Path
    engine: AsyncEngine
    listeners: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"sqlite+aiosqlite:///{self.path}"

    @classmethod
    def new(cls) -> _Slot:
        path = Path(tempfile.mkdtemp(prefix="zhibu-db-")) / "test.db"
        atexit.register(shutil.rmtree, path.parent, True)
        engine = create_inline_engine(f"sqlite+aiosqlite:///{path}", interleave=True)
        return cls(path, engine, _listener_counts(engine))

    def fill_from(self, template: Path) -> None:
        """The template's content as a new file (a new inode: nothing of the last test's file,
        its WAL or a connection left open on it, can reach this one)."""
        for leftover in (f"{self.path}-wal", f"{self.path}-shm", f"{self.path}-journal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
        fresh = self.path.with_name("fresh.db")
        shutil.copyfile(template, fresh)
        os.replace(fresh, self.path)

    def reusable(self) -> bool:
        """False when a test added an event listener to the engine: the next test gets a new one."""
        return _listener_counts(self.engine) == self.listeners


_free_slots: list[_Slot] = []


def fixed_part(template: str) -> str:
    """The longest literal stretch of a ``bot/texts`` template ("【{compound}每日简报】{date}"
    → "每日简报】"): what every text made from it contains, whatever was filled in."""
    return max((literal for literal, *_ in string.Formatter().parse(template)), key=len, default="")


def _quoted(quote: Sent | str | None) -> dict[str, Any]:
    if quote is None:
        return {}
    if isinstance(quote, Sent):
        return {"quoted_message_id": quote.message_id or None, "quoted_text": quote.text}
    return {"quoted_text": quote}


class BotHarness:
    def __init__(self, org: str | Path | None = SAMPLE_ORG, *, start: datetime | None = None,
                 database_url: str | None = None, settings: dict[str, Any] | None = None,
                 seed: int = 0, account: str = "sim") -> None:
        self.org_path = Path(org) if org else None
        self.clock = FakeClock(start or DEFAULT_START)  # naive: Asia/Shanghai
        self._database_url = database_url
        self._overrides = settings or {}
        self.transport = FakeTransport(account=account, now=self.clock.now)
        self.rng = random.Random(seed)
        self._tmp: Path | None = None
        self._ids = itertools.count(1)
        self.app: BotApp | None = None
        self._sent_seen = 0
        self._groups: dict[str, str] = {}
        self._people: dict[str, str] = {}
        # topic → platform id and display name → platform id on this account, read with the names
        # after each drain; trusted until a test opens a session of its own (it may change them).
        self._group_ids: dict[str, str] = {}
        self._person_ids: dict[str, str] = {}
        self._ids_fresh = False
        self._slot: _Slot | None = None

    # ------------------------------------------------------------------ setup
    async def __aenter__(self) -> BotHarness:
        self._tmp = Path(tempfile.mkdtemp(prefix="zhibu-test-"))
        if self._database_url is None:
            self._slot = _free_slots.pop() if _free_slots else _Slot.new()
        url = self._database_url or self._slot.url
        self.settings = Settings.model_validate(
            {"database_url": url, "org_file": self.org_path, "media_dir": self._tmp / "media", **self._overrides})
        if url.startswith("sqlite"):
            # Schema and org are built once per process and copied: a test starts in milliseconds.
            template = await _sqlite_template(self.org_path, self.transport.account, self.clock.now())
            if self._slot is not None:
                self._slot.fill_from(template)
            else:
                shutil.copyfile(template, url.split(":///", 1)[1])
        else:
            engine = db.create_engine(url)
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
                await conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            await db.create_all_and_stamp(engine)
            await engine.dispose()
        await self._boot()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self.app is not None:
                await self.app.stop()
        finally:
            slot, self._slot = self._slot, None
            if slot is not None:
                await slot.engine.dispose()
                if slot.reusable():
                    _free_slots.append(slot)
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)

    async def _boot(self) -> None:
        engine = self._slot.engine if self._slot is not None else None
        if engine is not None:
            gate.forget_all()  # its answers are per engine, and this engine served another database
        self.app = BotApp(self.settings, transports=[self.transport], clock=self.clock, rng=self.rng, engine=engine)
        await self.app.open()
        await self.transport.start(self.app)

    async def _stop_app(self) -> None:
        """Stop the app and close its connections (the app disposes only an engine it made)."""
        assert self.app is not None
        await self.app.stop()
        if self._slot is not None:
            await self._slot.engine.dispose()

    async def restart(self) -> None:
        """Stop the bot and start it again on the same database (the fake clock keeps going)."""
        await self._stop_app()
        await self._boot()
        await self.drain()

    # ------------------------------------------------------------------ driving
    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def bot(self) -> BotApp:
        assert self.app is not None
        return self.app

    def session(self) -> AsyncSession:
        self._ids_fresh = False  # the test may change groups or identities directly
        return self._session()

    def _session(self) -> AsyncSession:
        assert self.app is not None and self.app.sessions is not None
        return self.app.sessions()

    async def group_id(self, topic: str) -> str:
        if self._ids_fresh and topic in self._group_ids:
            return self._group_ids[topic]
        async with self._session() as session:
            found = (await session.execute(select(ChatGroup.platform_id).where(
                ChatGroup.account == self.transport.account, ChatGroup.topic == topic))).scalars().first()
        return found or f"room:{topic}"

    async def person_id(self, name: str) -> str:
        if self._ids_fresh and name in self._person_ids:
            return self._person_ids[name]
        async with self._session() as session:
            found = (await session.execute(select(Identity.platform_id).where(
                Identity.account == self.transport.account, Identity.display_name == name)
                .order_by(Identity.id))).scalars().first()
        return found or f"wxid:{name}"

    async def say(self, group: str, sender: str, text: str, *, message_id: str | None = None,
                  mention: bool = False, kind: MessageKind = MessageKind.TEXT,
                  sender_id: str | None = None, sent_at: datetime | None = None,
                  quote: Sent | str | None = None) -> None:
        """A group message from ``sender``; then the outbox drains.

        ``quote``: the message this one quotes (引用) — a ``Sent`` of the bot, or just a text.
        An "@支部助手" in ``text`` is noted and removed, as WeChat's transport does."""
        text, named = strip_mention(text, [self.settings.wechaty.bot_name])
        await self.deliver(Incoming(
            account=self.transport.account, message_id=message_id or self._next_id(),
            sender_id=sender_id or await self.person_id(sender), sender_name=sender, text=text,
            sent_at=sent_at or self.now, chat_id=await self.group_id(group), chat_topic=group,
            kind=kind, mentions_bot=mention or named, **_quoted(quote),
        ))

    async def dm(self, sender: str, text: str, *, message_id: str | None = None,
                 kind: MessageKind = MessageKind.TEXT, sender_id: str | None = None,
                 quote: Sent | str | None = None) -> None:
        """A private message to the bot from ``sender``; then the outbox drains."""
        await self.deliver(Incoming(
            account=self.transport.account, message_id=message_id or self._next_id(),
            sender_id=sender_id or await self.person_id(sender), sender_name=sender, text=text,
            sent_at=self.now, kind=kind, **_quoted(quote),
        ))

    async def photo(self, group: str | None, sender: str, data: bytes = b"\xff\xd8\xff\xe0 photo",
                    *, kind: MessageKind = MessageKind.IMAGE, name: str = "photo.jpg",
                    mime: str = "image/jpeg", message_id: str | None = None) -> str:
        """An image (or video: ``kind=MessageKind.VIDEO``) posted by ``sender`` in ``group``
        (``None``: privately); the bytes are what the transport hands out when asked.
        Returns the message id (to ``recall`` it)."""
        message_id = message_id or self._next_id()
        self.transport.media[message_id] = data
        await self.deliver(Incoming(
            account=self.transport.account, message_id=message_id, sender_id=await self.person_id(sender),
            sender_name=sender, text="", sent_at=self.now,
            chat_id=await self.group_id(group) if group else None, chat_topic=group, kind=kind,
            media=MediaRef(name=name, mime=mime, size=len(data)),
        ))
        return message_id

    async def recall(self, group: str | None, sender: str, message_id: str) -> None:
        """``sender`` withdraws (撤回) their message ``message_id`` in ``group`` (``None``: privately)."""
        await self.deliver(Incoming(
            account=self.transport.account, message_id=f"recall-{message_id}",
            sender_id=await self.person_id(sender), sender_name=sender, text=message_id, sent_at=self.now,
            chat_id=await self.group_id(group) if group else None, chat_topic=group,
            kind=MessageKind.RECALL, recalled_message_id=message_id,
        ))

    async def deliver(self, incoming: Incoming) -> None:
        await self.bot.on_message(incoming)
        await self.drain()

    async def bot_joins(self, topic: str, room_id: str | None = None) -> None:
        room = RoomInfo(platform_id=room_id or await self.group_id(topic), topic=topic, member_count=3)
        await self.bot.on_room_joined(RoomJoined(self.transport.account, room, (), bot_joined=True, at=self.now))
        await self.drain()

    async def member_joins(self, topic: str, name: str) -> None:
        room = RoomInfo(platform_id=await self.group_id(topic), topic=topic)
        member = MemberInfo(platform_id=await self.person_id(name), name=name)
        await self.bot.on_room_joined(RoomJoined(self.transport.account, room, (member,), bot_joined=False))
        await self.drain()

    async def bot_removed(self, topic: str) -> None:
        await self.bot.on_room_left(RoomLeft(self.transport.account, await self.group_id(topic), (), bot_left=True))
        await self.drain()

    async def login(self, rooms: list[RoomInfo], self_id: str = "wxid_bot") -> None:
        await self.bot.on_login(LoggedIn(self.transport.account, self_id, "支部助手", tuple(rooms)))
        await self.drain()

    async def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0,
                      seconds: float = 0, step: timedelta | None = None) -> None:
        """Move the clock forward: jobs due in the interval run, in time order, at their due
        times, and the outbox drains at each stop.

        The clock jumps from one due time to the next (a scheduled job, a polling job's next
        work, a text the outbox may send), so a month costs per event, not per minute.
        ``step``: stop every ``step`` instead, running what is due at each stop."""
        target = self.now + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if step is not None:
            while self.now < target:
                self.clock.set(min(self.now + step, target))
                await self.bot.run_due_jobs()
                await self.drain()
            return
        while True:
            stop = min(await self._next_due(), target)
            if stop < self.now or (stop == self.now == target):
                return
            self.clock.set(stop)
            await self.bot.run_due_jobs()
            await self.drain()
            if self.now >= target:
                return

    async def _next_due(self) -> datetime:
        """The next moment something is due: a job (possibly now), or a send (strictly later:
        the outbox has just drained). Far future when nothing is."""
        now = self.now
        moments = []
        if self.bot.scheduler is not None:
            moments.append(await self.bot.scheduler.next_due(now))
        assert self.app is not None and self.app.sender is not None
        send = await self.app.sender.next_due()
        if send is not None and send > now:
            moments.append(send)
        return min((m for m in moments if m is not None), default=datetime.max.replace(tzinfo=now.tzinfo))

    async def drain(self) -> int:
        assert self.app is not None and self.app.sender is not None
        count = await self.app.sender.drain()
        await self.app.dispatcher.flush_chatter()
        await self._refresh_names()
        return count

    def _next_id(self) -> str:
        return f"msg-{next(self._ids)}"

    # ------------------------------------------------------------------ reading
    @property
    def sent(self) -> list[Sent]:
        """Every text the bot sent, in order, with display names resolved."""
        return [self._named(s) for s in self.transport.sent]

    def new_sent(self) -> list[Sent]:
        """Texts sent since the last call of ``new_sent``."""
        out = self.sent[self._sent_seen:]
        self._sent_seen = len(self.transport.sent)
        return out

    def texts_to(self, name: str) -> list[str]:
        """Texts sent to a group (by topic) or a person (by name)."""
        return [s.text for s in self.sent if name in (s.group, s.person)]

    def _named(self, s: Any) -> Sent:
        mentions = tuple(self._people.get(m, m) for m in s.mention_ids)
        if s.to.kind == "group":
            return Sent(self._groups.get(s.to.platform_id, s.to.platform_id), None, s.text, mentions, s.at,
                        s.message_id)
        return Sent(None, self._people.get(s.to.platform_id, s.to.platform_id), s.text, mentions, s.at,
                    s.message_id)

    async def _refresh_names(self) -> None:
        account = self.transport.account
        async with self._session() as session:
            groups = (await session.execute(
                select(ChatGroup.platform_id, ChatGroup.topic, ChatGroup.account).order_by(ChatGroup.id))).all()
            identities = (await session.execute(
                select(Identity.platform_id, Person.name, Identity.display_name, Identity.account)
                .outerjoin(Person, Person.id == Identity.person_id).order_by(Identity.id))).all()
        self._groups = {platform_id: topic for platform_id, topic, _ in groups}
        self._people = {platform_id: name for platform_id, name, _, _ in identities if name is not None}
        self._group_ids, self._person_ids = {}, {}
        for platform_id, topic, on in groups:
            if on == account:
                self._group_ids.setdefault(topic, platform_id)
        for platform_id, _, display_name, on in identities:
            if on == account and display_name is not None:
                self._person_ids.setdefault(display_name, platform_id)
        self._ids_fresh = True
