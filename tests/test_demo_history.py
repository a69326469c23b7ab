"""The demo's sample history (bot/demo_history.py): six months made by the bot itself, checked
with the invariants live data has. Generated once for this module (it takes a while)."""
from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.app import BotApp
from bot.clock import FakeClock
from bot.config import SAMPLE_ORG, Settings
from bot.demo_history import MAIN, generate_history, prepare_demo
from bot.models import Compound, Event, InboundMessage, InboundStatus, OutboxMessage
from bot.models.schedules import DigestRun, PropertyRanking, RankingAction
from bot.models.tickets import HotlineOrder, Ticket, TicketState
from bot.services import digests as D
from bot.transports.fake import FakeTransport
from bot.web.testing import WebKit

pytestmark = pytest.mark.asyncio(loop_scope="module")

UNTIL = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TICKET_STATES = {s.value for s in TicketState}


def _settings(directory: Path, name: str = "demo.db") -> Settings:
    return Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{directory / name}"})


_generated: dict[str, tuple[Path, object]] = {}


async def demo_database(directory: Path) -> tuple[Settings, object]:
    """A copy of the demo database in ``directory``: generated once per test process (it takes
    a while), copied for each module that opens it (this one and the browser test)."""
    if "demo" not in _generated:
        source = Path(tempfile.mkdtemp(prefix="zhibu-demo-history-"))
        atexit.register(shutil.rmtree, source, True)
        _generated["demo"] = (source, await generate_history(_settings(source), until=UNTIL))
    source, summary = _generated["demo"]
    for suffix in ("", "-wal", "-shm"):
        if (source / f"demo.db{suffix}").exists():
            shutil.copyfile(source / f"demo.db{suffix}", directory / f"demo.db{suffix}")
    return _settings(directory), summary


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo():
    """The generated demo database, opened on a clock stopped at the end of its history."""
    directory = Path(tempfile.mkdtemp(prefix="zhibu-demo-history-"))
    settings, summary = await demo_database(directory)
    app = BotApp(settings, transports=[FakeTransport(account="sim")], clock=FakeClock(UNTIL))
    await app.open()
    yield app, summary
    await app.stop()
    shutil.rmtree(directory, ignore_errors=True)


async def _scalar(app: BotApp, query) -> int:  # noqa: ANN001
    async with app.sessions() as session:
        return (await session.execute(query)).scalar_one()


async def _ticket_events(app: BotApp) -> dict[int, list[Event]]:
    async with app.sessions() as session:
        rows = (await session.execute(select(Event).where(Event.subject_kind == "ticket")
                                      .order_by(Event.subject_id, Event.at, Event.id))).scalars().all()
    out: dict[int, list[Event]] = {}
    for event in rows:
        out.setdefault(event.subject_id, []).append(event)
    return out


def _state_at(events: list[Event], moment: datetime) -> str | None:
    state = None
    for event in events:
        if event.at > moment:
            break
        if event.to_state in TICKET_STATES:
            state = event.to_state
    return state


async def test_history_spans_six_months_in_every_sample_compound(demo):
    app, _ = demo
    async with app.sessions() as session:
        first = (await session.execute(select(func.min(Ticket.created_at)))).scalar_one()
        compounds = dict((await session.execute(select(Compound.name, Compound.id))).all())
        per_compound = dict((await session.execute(
            select(Ticket.compound_id, func.count()).group_by(Ticket.compound_id))).all())
    assert (UNTIL - first).days >= 170
    assert all(per_compound.get(compounds[name], 0) >= 15 for name in MAIN)
    assert sum(1 for cid in compounds.values() if per_compound.get(cid)) > 30


async def test_every_sample_message_was_handled_without_error(demo):
    app, summary = demo
    failed = await _scalar(app, select(func.count()).select_from(InboundMessage).where(
        InboundMessage.status == InboundStatus.FAILED))
    stored = await _scalar(app, select(func.count()).select_from(InboundMessage))
    assert failed == 0 and stored > 0


async def test_every_tickets_events_lead_to_its_state(demo):
    app, _ = demo
    events = await _ticket_events(app)
    async with app.sessions() as session:
        tickets = (await session.execute(select(Ticket))).scalars().all()
    wrong = []
    for ticket in tickets:
        mine = events.get(ticket.id, [])
        if not mine or mine[0].action != "created" or _state_at(mine, UNTIL) != ticket.state:
            wrong.append((ticket.id, ticket.state, [e.action for e in mine]))
        elif any(e.at < ticket.created_at for e in mine):
            wrong.append((ticket.id, "event before creation"))
    assert tickets and not wrong, wrong[:5]


async def test_closed_and_resolved_tickets_carry_their_times(demo):
    app, _ = demo
    async with app.sessions() as session:
        tickets = (await session.execute(select(Ticket).where(
            Ticket.state.in_([TicketState.RESOLVED, TicketState.CLOSED])))).scalars().all()
    bad = [t.id for t in tickets if t.resolved_at is None or t.resolved_at < t.created_at
           or (t.state == TicketState.CLOSED and (t.closed_at is None or t.closed_at < t.resolved_at))]
    assert tickets and not bad


async def test_daily_digests_counted_the_tickets_the_database_had(demo):
    """Each digest's "new" is the tickets created in its window that were not merged or
    rejected at the time it was sent (replayed from the events)."""
    app, _ = demo
    events = await _ticket_events(app)
    async with app.sessions() as session:
        runs = (await session.execute(select(DigestRun).where(
            DigestRun.kind == "daily", DigestRun.status == "sent"))).scalars().all()
        tickets = (await session.execute(select(Ticket.id, Ticket.compound_id, Ticket.created_at))).all()
    assert len(runs) > 60
    mismatches = []
    for run in runs:
        expected = sum(1 for tid, cid, created in tickets
                       if cid == run.scope_id and run.covered_from <= created < run.covered_to
                       and _state_at(events[tid], run.covered_to) not in D.NOT_COUNTED)
        if run.data["new"] != expected:
            mismatches.append((run.scope_id, run.period, run.data["new"], expected))
    assert not mismatches, mismatches[:5]


async def test_latest_ranking_shows_the_top_30_and_both_running_rules(demo):
    app, _ = demo
    async with app.sessions() as session:
        month = (await session.execute(select(func.max(PropertyRanking.month)))).scalar_one()
        rows = (await session.execute(select(PropertyRanking).where(PropertyRanking.month == month))).scalars().all()
    actions = {r.action for r in rows}
    assert month == "2026-11"
    assert {None, RankingAction.SUPERVISE, RankingAction.REPLACE_MANAGER, RankingAction.REPLACE_COMPANY} <= actions
    assert max(r.rank for r in rows if r.action is not None) <= 30 < len(rows)


FEATURES = {
    "urgent tickets": select(func.count()).select_from(Ticket).where(Ticket.urgent.is_(True)),
    "merged duplicates": select(func.count()).select_from(Ticket).where(Ticket.reporters_count > 1),
    "reopened tickets": select(func.count()).select_from(Ticket).where(Ticket.reopen_count > 0),
    "escalated tickets": select(func.count()).select_from(Event).where(Event.action == "supervised"),
    "notes": select(func.count()).select_from(Event).where(Event.action == "noted"),
    "recategorised tickets": select(func.count()).select_from(Event).where(Event.action == "recategorized"),
    "open tickets": select(func.count()).select_from(Ticket).where(Ticket.state.in_(["new", "assigned"])),
    "auto-closed tickets": select(func.count()).select_from(Ticket).where(Ticket.satisfaction == "default"),
    "tickets linked to 12345 orders": select(func.count()).select_from(HotlineOrder).where(
        HotlineOrder.source == "linked"),
}


@pytest.mark.parametrize("feature", sorted(FEATURES))
async def test_history_has_tickets_of_every_kind(demo, feature):
    app, _ = demo
    assert await _scalar(app, FEATURES[feature]) > 0


async def test_history_has_wishes_posts_notices_visits_agenda_and_hotline(demo):
    from bot.models.members import DutyReport
    from bot.models.notices import CollectionAnswer, NoticeAck
    from bot.models.schedules import VisitTarget
    from bot.models.tickets import AgendaItem, HotlineOrder
    from bot.models.wishes import Wish, WishClaim

    app, _ = demo
    async with app.sessions() as session:
        wish_states = set((await session.execute(select(Wish.state))).scalars())
        claim_states = set((await session.execute(select(WishClaim.state))).scalars())
        counts = {model.__name__: (await session.execute(select(func.count()).select_from(model))).scalar_one()
                  for model in (DutyReport, NoticeAck, CollectionAnswer, AgendaItem, HotlineOrder)}
        counts["visits"] = (await session.execute(select(func.count()).select_from(VisitTarget).where(
            VisitTarget.last_visited_at.is_not(None)))).scalar_one()
    assert {"confirmed", "open"} <= wish_states, wish_states  # fulfilled and thanked; waiting for a helper
    assert {"done", "gave_up"} <= claim_states, claim_states  # fulfilled, and given back by a helper
    assert all(counts.values()), counts


async def test_nothing_left_waiting_in_the_outbox_to_flood_the_demo(demo):
    app, _ = demo
    due = await _scalar(app, select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == "pending", (OutboxMessage.not_before.is_(None)) | (OutboxMessage.not_before <= UNTIL)))
    assert due == 0


async def test_statistics_api_has_a_non_empty_series_for_every_chart(demo):
    app, _ = demo
    kit = WebKit(_Shim(app))
    async with kit:
        await kit.add_user("han", "district_staff", admin=True)
        token = await kit.token("han")
        tables = {}
        for name in ("categories", "resolve_time", "satisfaction", "overdue", "ranking", "hotline", "compounds"):
            resp = await kit.api("GET", f"/api/v1/stats/{name}", token=token)
            assert resp.status == 200, name
            tables[name] = (await resp.json())["items"]
        summary = (await (await kit.api("GET", "/api/v1/stats", token=token)).json())["summary"]
    assert all(tables.values()), [name for name, items in tables.items() if not items]
    assert sum(r["resolved"] for r in tables["resolve_time"]) > 0 and all(r["resolved"] for r in tables["resolve_time"])
    assert all(r["rate"] is not None for r in tables["satisfaction"])
    assert all(summary["hotline_per_month"].values())
    assert summary["open"] > 0 and summary["median_resolve_hours"] > 0


async def test_an_empty_demo_gets_no_history(tmp_path):
    settings = _settings(tmp_path)
    assert await prepare_demo(settings, empty=True, show_progress=False) is None
    app = BotApp(settings.model_copy(update={"org_file": SAMPLE_ORG}), transports=[FakeTransport(account="sim")],
                 clock=FakeClock(UNTIL))
    await app.open()
    try:
        assert await _scalar(app, select(func.count()).select_from(Ticket)) == 0
        assert await _scalar(app, select(func.count()).select_from(Compound)) == 3
    finally:
        await app.stop()


async def test_a_demo_with_data_is_not_given_history_again(demo):
    app, _ = demo
    assert await prepare_demo(app.settings, show_progress=False) is None


class _Shim:
    """What the dashboard test kit needs of a harness: the bot and its clock."""

    def __init__(self, app: BotApp) -> None:
        self.bot, self.clock = app, app.clock



async def test_the_last_finished_quarter_has_an_approved_star_rating(demo):
    from bot.models.rating import RatingRun

    app, _ = demo
    async with app.sessions() as session:
        runs = dict((await session.execute(select(RatingRun.period, RatingRun.status))).all())
    assert runs.get("2026-Q3") == "approved", runs


async def test_the_history_runs_every_schedule_but_the_reminders_nobody_would_read(demo):
    from bot.demo_history import LIVE_ONLY_JOBS
    from bot.models.schedules import JobRun

    app, _ = demo
    async with app.sessions() as session:
        ran = set((await session.execute(select(JobRun.job).where(JobRun.status == "ok"))).scalars())
    assert {"rankings.monthly", "tickets.sweep", "digests.daily", "maintenance.purge_chatter"} <= ran
    assert not ran & LIVE_ONLY_JOBS
