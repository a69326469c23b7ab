"""Digests: the secretary's morning picture of their compound (daily), the community
committee's week (weekly), and the complaint counts the property ranking is built on.

Figures for many compounds come from a handful of grouped queries over all of them at once
(1,100 compounds × 1,000 tickets must take seconds, not minutes): never a query per compound.
Each digest sent is a ``digest_runs`` row, so it goes out once and the next one knows where
"new since the last digest" starts.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, bindparam, case, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timefmt
from bot.models import OutboxMessage, Person, Priority, Role, RoleName
from bot.models.schedules import DigestRun
from bot.outbox import FAILED_HOOKS, SENT_HOOKS
from bot.models.tickets import HotlineOrder, Rating, Ticket, TicketState
from bot.models.wishes import ClaimState, Wish, WishClaim, WishState
from bot.privacy import mask_pii
from bot.services import Deps
from bot.services.duty import duty_groups
from bot.services.tickets import stats as ticket_stats
from bot.services.wish_followup import open_wish_lines_by_compound
from bot.services.wishes import REMIND_DAYS as STALE_CLAIM_DAYS  # the claimer was reminded: the branch should know
from bot.texts import digests as T

DEFAULT_DIGEST_TIME = time(8, 30)
DAILY_GRACE = timedelta(hours=2)       # a compound's digest later than this is recorded missed
FIRST_DIGEST_LOOKBACK = timedelta(days=1)
LINES_PER_SECTION = 5                  # keeps a digest to one or two WeChat messages
SUMMARY_CHARS = 18

OPEN_STATES = (TicketState.NEW, TicketState.ASSIGNED)
LIVE_STATES = (TicketState.NEW, TicketState.ASSIGNED, TicketState.RESOLVED)
NOT_COUNTED = (TicketState.MERGED, TicketState.REJECTED)  # duplicates and false reports
STATE_LABELS = {TicketState.NEW: "待处理", TicketState.ASSIGNED: "处理中", TicketState.RESOLVED: "待确认"}
HAPPY = (Rating.SATISFIED, Rating.BASIC)


# ---------------------------------------------------------------- shared query helpers
def overdue_clause(now: datetime):  # noqa: ANN201
    """Open and past a deadline: resolution, or first response while nobody responded; a
    ticket on the agenda of a discussion day still to come waits for the meeting."""
    from bot.services.agenda import awaiting_meeting  # (agenda reaches the tickets service)

    return and_(Ticket.state.in_(OPEN_STATES), Ticket.id.not_in(awaiting_meeting(now)), or_(
        Ticket.resolve_due < now,
        and_(Ticket.first_response_at.is_(None), Ticket.first_response_due < now)))


def _counted():  # noqa: ANN202
    return Ticket.state.not_in(NOT_COUNTED)


def _in(column, ids: Sequence[int] | None):  # noqa: ANN001, ANN202
    """``column IN ids``, or nothing when every compound is asked for (a 1,100-item IN list
    only slows the planner down)."""
    return column.in_(list(ids)) if ids is not None else true()


async def _grouped_counts(session: AsyncSession, where, ids: Sequence[int] | None, by=None) -> dict:  # noqa: ANN001
    """Ticket counts per compound (and per ``by``: {compound: {value: count}})."""
    keys = (Ticket.compound_id,) if by is None else (Ticket.compound_id, by)
    rows = (await session.execute(select(*keys, func.count()).where(where, _in(Ticket.compound_id, ids))
                                  .group_by(*keys))).all()
    if by is None:
        return {cid: n for cid, n in rows}
    out: dict = defaultdict(dict)
    for cid, value, n in rows:
        out[cid][value] = n
    return out


@dataclass(frozen=True)
class TicketLine:
    id: int
    compound_id: int
    number: int
    text: str
    state: str
    created_at: datetime
    due_at: datetime | None = None  # the deadline it missed (overdue lines)


# The four sections a daily digest lists tickets in: (where, order) over the bound parameters
# ``since`` and ``now``. Each section's window query is built once with bind parameters: built
# afresh per digest run, its subquery's column proxies (and their foreign keys' event hooks)
# were a measurable share of a busy schedule.
def _new_where(since, now):  # noqa: ANN001, ANN202
    return and_(Ticket.created_at >= since, Ticket.created_at < now, _counted())


def _urgent_where(_since, _now):  # noqa: ANN001, ANN202
    return and_(Ticket.state.in_(OPEN_STATES), Ticket.urgent.is_(True))


def _agenda_where(_since, now):  # noqa: ANN001, ANN202
    from bot.services.agenda import awaiting_meeting  # (agenda reaches the tickets service)

    return and_(Ticket.state.in_(OPEN_STATES), Ticket.id.in_(awaiting_meeting(now)))


def _overdue_where(_since, now):  # noqa: ANN001, ANN202
    return overdue_clause(now)


_SECTIONS = {
    "new": (_new_where, lambda: Ticket.created_at.desc()),
    "overdue": (_overdue_where, lambda: Ticket.created_at),
    "urgent": (_urgent_where, lambda: Ticket.created_at),
    "agenda": (_agenda_where, lambda: Ticket.resolve_due),
}
_LINE_STATEMENTS: dict[tuple[str, bool], Any] = {}


def _lines_statement(section: str, scoped: bool):  # noqa: ANN202
    """The first ``limit`` tickets per compound of a section and how many match in all, one
    window-function query over every compound (SQLite ≥ 3.25 and PostgreSQL); ``scoped``: only
    the compounds in ``ids``."""
    key = (section, scoped)
    if key not in _LINE_STATEMENTS:
        where, order = _SECTIONS[section]
        since, now = bindparam("since"), bindparam("now")
        rn = func.row_number().over(partition_by=Ticket.compound_id, order_by=order()).label("rn")
        total = func.count().over(partition_by=Ticket.compound_id).label("total")
        inner = (select(Ticket.id, Ticket.compound_id, Ticket.number, func.substr(Ticket.text, 1, 60).label("text"),
                        Ticket.state, Ticket.created_at, Ticket.resolve_due, Ticket.first_response_due,
                        Ticket.first_response_at, rn, total)
                 .where(where(since, now),
                        Ticket.compound_id.in_(bindparam("ids", expanding=True)) if scoped else true())
                 .subquery())
        _LINE_STATEMENTS[key] = (select(inner).where(inner.c.rn <= bindparam("limit"))
                                 .order_by(inner.c.compound_id, inner.c.rn))
    return _LINE_STATEMENTS[key]


async def _top_lines(session: AsyncSession, section: str, ids: Sequence[int] | None, since: datetime | None,
                     now: datetime, limit: int) -> tuple[dict[int, list[TicketLine]], dict[int, int]]:
    """The first ``limit`` tickets per compound of a section (``_SECTIONS``) and how many match in all."""
    params: dict[str, Any] = {"since": since, "now": now, "limit": limit}
    if ids is not None:
        params["ids"] = list(ids)
    rows = (await session.execute(_lines_statement(section, ids is not None), params)).all()
    lines: dict[int, list[TicketLine]] = defaultdict(list)
    totals: dict[int, int] = {}
    for r in rows:
        missed = [d for d in (r.resolve_due, None if r.first_response_at else r.first_response_due) if d is not None]
        lines[r.compound_id].append(TicketLine(r.id, r.compound_id, r.number, r.text or "", r.state, r.created_at,
                                               min(missed) if missed else None))
        totals[r.compound_id] = r.total
    return lines, totals


# ---------------------------------------------------------------- daily figures
@dataclass
class WishLine:
    id: int
    summary: str
    claimer: str
    claimed_at: datetime


@dataclass
class DailyFigures:
    compound_id: int
    since: datetime
    new: int = 0
    new_lines: list[TicketLine] = field(default_factory=list)
    open_by_state: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    overdue_lines: list[TicketLine] = field(default_factory=list)
    urgent: int = 0
    urgent_lines: list[TicketLine] = field(default_factory=list)
    agenda: int = 0  # waiting for the discussion day: not overdue before it
    agenda_lines: list[TicketLine] = field(default_factory=list)
    resolved: int = 0
    ratings: dict[str, int] = field(default_factory=dict)
    wishes_open: int = 0
    open_wish_lines: list = field(default_factory=list)  # wish_followup.OpenWishLine, oldest first
    stale_claims: int = 0
    stale_lines: list[WishLine] = field(default_factory=list)

    @property
    def open_total(self) -> int:
        return sum(self.open_by_state.values())

    @property
    def rated(self) -> int:
        return sum(n for r, n in self.ratings.items() if r != Rating.DEFAULT)

    @property
    def satisfaction_rate(self) -> int | None:
        if not self.rated:
            return None
        return round(100 * sum(self.ratings.get(r, 0) for r in HAPPY) / self.rated)

    @property
    def empty(self) -> bool:
        return not (self.new or self.open_total or self.resolved or self.wishes_open or self.stale_claims)

    def summary(self) -> dict[str, Any]:
        """The numbers, kept on the digest row (week-on-week comparisons, the dashboard)."""
        return {"new": self.new, "open": self.open_by_state, "overdue": self.overdue, "urgent": self.urgent,
                "resolved": self.resolved, "ratings": self.ratings, "wishes_open": self.wishes_open,
                "stale_claims": self.stale_claims}


async def compute_daily(session: AsyncSession, since: datetime, now: datetime,
                        compound_ids: Sequence[int] | None = None) -> dict[int, DailyFigures]:
    """Daily figures of ``compound_ids`` (None: every compound), in eight queries."""
    return await compute_daily_groups(session, [(since, compound_ids)], now, compound_ids)


async def compute_daily_groups(session: AsyncSession, groups: Sequence[tuple[datetime, Sequence[int] | None]],
                               now: datetime, compound_ids: Sequence[int] | None = None) -> dict[int, DailyFigures]:
    """Daily figures of compounds that count from different moments (``groups``: (since, the
    compounds' ids, None: every compound); their last digests went out at different times).
    What depends on the moment (new, resolved, ratings) is read per group; what stands now
    (open, overdue, urgent, agenda, wishes) once, for ``compound_ids`` (None: every compound)."""
    since_of = {cid: since for since, ids in groups if ids is not None for cid in ids}
    everyone_since = next((since for since, ids in groups if ids is None), None)
    figures: dict[int, DailyFigures] = {}

    def since_for(compound_id: int) -> datetime | None:
        return since_of.get(compound_id, everyone_since)

    def fig(compound_id: int) -> DailyFigures:
        if compound_id not in figures:
            figures[compound_id] = DailyFigures(compound_id, since_for(compound_id))
        return figures[compound_id]

    def standing(rows: Iterable) -> Iterable:  # noqa: ANN202
        return (row for row in rows if since_for(row[0]) is not None)

    for cid in compound_ids or ():
        if since_for(cid) is not None:
            fig(cid)
    for since, ids in groups:
        lines, totals = await _top_lines(session, "new", ids, since, now, LINES_PER_SECTION)
        for cid, n in totals.items():
            if since_for(cid) == since:
                fig(cid).new, fig(cid).new_lines = n, lines[cid]
    for cid, by_state in standing((await _grouped_counts(session, Ticket.state.in_(LIVE_STATES), compound_ids,
                                                         Ticket.state)).items()):
        fig(cid).open_by_state = dict(by_state)
    for section in ("overdue", "urgent", "agenda"):
        lines, totals = await _top_lines(session, section, compound_ids, None, now, LINES_PER_SECTION)
        for cid, n in standing(totals.items()):
            setattr(fig(cid), section, n)
            setattr(fig(cid), f"{section}_lines", lines[cid])
    for since, ids in groups:
        resolved = and_(Ticket.resolved_at >= since, Ticket.resolved_at < now)
        for cid, n in (await _grouped_counts(session, resolved, ids)).items():
            if since_for(cid) == since:
                fig(cid).resolved = n
        for given in await ticket_stats.ratings_given(session, since=since, until=now, compound_ids=ids):
            if since_for(given.compound_id) == since:
                ratings = fig(given.compound_id).ratings
                ratings[given.rating] = ratings.get(given.rating, 0) + 1
    wish_rows = list(standing((await session.execute(select(Wish.compound_id, func.count()).where(
        Wish.state == WishState.OPEN, _in(Wish.compound_id, compound_ids)).group_by(Wish.compound_id))).all()))
    for cid, n in wish_rows:
        fig(cid).wishes_open = n
    # Number and age let the secretary name the wish that has waited longest (one query for them all).
    waiting = await open_wish_lines_by_compound(session, [cid for cid, _ in wish_rows], now, limit=LINES_PER_SECTION)
    for cid, wish_lines in waiting.items():
        fig(cid).open_wish_lines = wish_lines
    stale = and_(WishClaim.state == ClaimState.ACTIVE,
                 WishClaim.last_progress_at < now - timedelta(days=STALE_CLAIM_DAYS),
                 Wish.state.in_([WishState.OPEN, WishState.CLAIMED]))
    stale_rows = (await session.execute(
        select(Wish.compound_id, Wish.id, Wish.summary, Person.name, WishClaim.claimed_at)
        .join(Wish, Wish.id == WishClaim.wish_id).join(Person, Person.id == WishClaim.person_id)
        .where(stale, _in(Wish.compound_id, compound_ids)).order_by(Wish.compound_id, WishClaim.claimed_at))).all()
    for cid, wish_id, summary, name, claimed_at in standing(stale_rows):
        f = fig(cid)
        f.stale_claims += 1
        if len(f.stale_lines) < LINES_PER_SECTION:
            f.stale_lines.append(WishLine(wish_id, summary, name, claimed_at))
    return figures


# ---------------------------------------------------------------- daily rendering
def _summary(text: str) -> str:
    one_line = " ".join(mask_pii(text).split())  # mask before cutting: half a number is still a number
    return one_line if len(one_line) <= SUMMARY_CHARS else one_line[:SUMMARY_CHARS] + "…"


def _age(delta: timedelta) -> str:
    if delta >= timedelta(days=1):
        return T.AGE_DAYS.format(days=delta.days)
    return T.AGE_HOURS.format(hours=max(1, int(delta.total_seconds() // 3600)))


def _ticket_lines(lines: Iterable[TicketLine], total: int, extra) -> str:  # noqa: ANN001
    lines = list(lines)
    out = "".join(T.TICKET_LINE.format(id=f"{t.number:04d}", summary=_summary(t.text), extra=extra(t)) for t in lines)
    if total > len(lines):
        out += T.MORE_LINES.format(count=total - len(lines))
    return out


def render_daily(deps: Deps, f: DailyFigures, now: datetime) -> str:
    local = deps.clock.local(now)
    since = deps.clock.local(f.since)
    since_text = timefmt.moment(since) if since.date() != local.date() else since.strftime("%H:%M")
    parts = [T.DAILY_HEADER.format(compound=deps.org.name_of(f.compound_id), date=local.strftime("%Y-%m-%d"))]
    if f.empty:
        parts.append(T.DAILY_ALL_CLEAR)
        return "\n".join(parts)
    if f.new:
        parts.append(T.DAILY_NEW.format(count=f.new, since=since_text, lines=_ticket_lines(
            f.new_lines, f.new, lambda t: T.TICKET_STATE_EXTRA.format(state=STATE_LABELS.get(t.state, "已办结"))
            if t.state != TicketState.NEW else "")))
    else:
        parts.append(T.DAILY_NEW_NONE.format(since=since_text))
    if f.open_total:
        states = "，".join(T.DAILY_STATE.format(label=STATE_LABELS[s], count=f.open_by_state[s])
                          for s in LIVE_STATES if f.open_by_state.get(s))
        parts.append(T.DAILY_OPEN.format(total=f.open_total, states=states))
    else:
        parts.append(T.DAILY_OPEN_NONE)
    if f.overdue:
        parts.append(T.DAILY_OVERDUE.format(count=f.overdue, lines=_ticket_lines(
            f.overdue_lines, f.overdue, lambda t: T.TICKET_OVERDUE_EXTRA.format(age=_age(now - (t.due_at or t.created_at))))))
    if f.urgent:
        parts.append(T.DAILY_URGENT.format(count=f.urgent, lines=_ticket_lines(
            f.urgent_lines, f.urgent, lambda t: T.TICKET_STATE_EXTRA.format(state=STATE_LABELS.get(t.state, "")))))
    if f.agenda:
        parts.append(T.DAILY_AGENDA.format(count=f.agenda, lines=_ticket_lines(
            f.agenda_lines, f.agenda, lambda t: T.TICKET_AGENDA_EXTRA.format(when=timefmt.stored(deps.clock, t.due_at))
            if t.due_at else "")))
    if f.resolved or f.rated:
        satisfaction = ""
        if f.rated:
            unhappy = f.ratings.get(Rating.UNSATISFIED, 0)
            satisfaction = T.DAILY_SATISFACTION.format(
                rated=f.rated, rate=f.satisfaction_rate,
                unhappy=T.DAILY_UNHAPPY.format(count=unhappy) if unhappy else "")
        parts.append(T.DAILY_RESOLVED.format(count=f.resolved, satisfaction=satisfaction))
    else:
        parts.append(T.DAILY_RESOLVED_NONE)
    if f.wishes_open or f.stale_claims:
        stale = ""
        if f.stale_claims:
            lines = "".join(T.WISH_LINE.format(id=f"W{w.id}", summary=_summary(w.summary), who=w.claimer,
                                               when=timefmt.day(deps.clock.local(w.claimed_at)))
                            for w in f.stale_lines)
            if f.stale_claims > len(f.stale_lines):
                lines += T.MORE_LINES.format(count=f.stale_claims - len(f.stale_lines))
            stale = T.DAILY_STALE.format(days=STALE_CLAIM_DAYS, count=f.stale_claims, lines=lines)
        waiting = "".join(T.OPEN_WISH_LINE.format(number=w.number, summary=_summary(w.summary), days=w.age_days)
                          for w in f.open_wish_lines)
        if waiting and f.wishes_open > len(f.open_wish_lines):
            waiting += T.MORE_LINES.format(count=f.wishes_open - len(f.open_wish_lines))
        parts.append(T.DAILY_WISHES.format(open=f.wishes_open, lines=waiting, stale=stale))
    parts.append(T.DAILY_TAIL)
    # Tickets quote residents: no phone or ID number leaves in a digest, even privately.
    return mask_pii("\n".join(parts))


# ---------------------------------------------------------------- daily scheduling
def digest_time(settings: dict[str, Any] | None) -> time | None:
    """A compound's digest time ("07:45"); None when switched off ("off")."""
    raw = (settings or {}).get("digest_time")
    if raw is None or raw == "":
        return DEFAULT_DIGEST_TIME
    if isinstance(raw, str) and raw.strip().lower() in ("off", "none", "关闭", "不发送"):
        return None
    m = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", str(raw))
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return DEFAULT_DIGEST_TIME
    return time(int(m.group(1)), int(m.group(2)))


@dataclass
class DueDigest:
    compound_id: int
    due_at: datetime  # UTC


def due_daily(deps: Deps, done: set[int], now: datetime,
              not_before: datetime | None = None) -> tuple[list[DueDigest], list[DueDigest], list[int]]:
    """Compounds whose digest time today has come and that had none today: (to send, missed,
    not applicable — due before ``not_before``, when the digests were not running yet)."""
    local = deps.clock.local(now)
    send, missed, before = [], [], []
    for cid, info in deps.org.compounds.items():
        if cid in done:
            continue
        at = digest_time(info.settings)
        if at is None:
            continue
        due_local = datetime.combine(local.date(), at, tzinfo=local.tzinfo)
        if due_local > local:
            continue
        due = DueDigest(cid, due_local.astimezone(now.tzinfo))
        if not_before is not None and due.due_at < not_before:
            before.append(cid)
            continue
        (missed if local - due_local > DAILY_GRACE else send).append(due)
    return send, missed, before


async def _done_today(session: AsyncSession, kind: str, period: str) -> set[int]:
    return set((await session.execute(select(DigestRun.scope_id).where(
        DigestRun.kind == kind, DigestRun.period == period))).scalars())


async def _last_covered(session: AsyncSession, kind: str, scope_ids: Sequence[int]) -> dict[int, datetime]:
    rows = (await session.execute(select(DigestRun.scope_id, func.max(DigestRun.covered_to)).where(
        DigestRun.kind == kind, DigestRun.status.in_(COVERED), DigestRun.scope_id.in_(list(scope_ids)))
        .group_by(DigestRun.scope_id))).all()
    return {sid: at for sid, at in rows if at is not None}


async def secretaries(session: AsyncSession, compound_ids: Sequence[int]) -> dict[int, list[int]]:
    rows = (await session.execute(select(Role.compound_id, Role.person_id).where(
        Role.name == RoleName.SECRETARY, Role.compound_id.in_(list(compound_ids))).order_by(Role.person_id))).all()
    out: dict[int, list[int]] = defaultdict(list)
    for cid, pid in rows:
        out[cid].append(pid)
    return out


def _insert(session: AsyncSession):  # noqa: ANN202
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


async def _claim_runs(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert the digest rows first, in one statement: a second process or a rerun finds them
    and sends nothing. Returns {scope id: run id} of those claimed now."""
    if not rows:
        return {}
    keys = set().union(*rows)
    rows = [{k: row.get(k) for k in keys} for row in rows]  # one shape for a multi-row INSERT
    claimed: dict[int, int] = {}
    # The rows as executemany parameters (SQLAlchemy sends them as one multi-row INSERT): a
    # VALUES list of each run's own length was compiled afresh every time.
    table = DigestRun.__table__
    stmt = (_insert(session)(table).on_conflict_do_nothing(index_elements=["kind", "scope_id", "period"])
            .returning(table.c.scope_id, table.c.id))
    for start in range(0, len(rows), 500):  # stay under the database's bound-parameter limits
        claimed.update({scope_id: run_id for scope_id, run_id in
                        (await session.execute(stmt, rows[start:start + 500])).all()})
    return claimed


# A digest run is "queued" with its outbox rows and becomes "sent" only when one of them was
# sent (``sent_at`` then); "failed" when one failed and none was sent. The outbox tells us.
QUEUED, SENT, FAILED = "queued", "sent", "failed"
COVERED = (QUEUED, SENT)  # the next digest counts from the last one that went or will go out
RUN_REF = "digest_run"


async def _run_sent(session: AsyncSession, row: OutboxMessage) -> None:
    await session.execute(update(DigestRun).where(
        DigestRun.id == row.ref_id, DigestRun.status.in_((QUEUED, FAILED)),
    ).values(status=SENT, sent_at=row.sent_at).execution_options(synchronize_session=False))


async def _run_failed(session: AsyncSession, row: OutboxMessage) -> None:
    await session.execute(update(DigestRun).where(DigestRun.id == row.ref_id, DigestRun.status == QUEUED)
                          .values(status=FAILED).execution_options(synchronize_session=False))


SENT_HOOKS[RUN_REF] = _run_sent
FAILED_HOOKS[RUN_REF] = _run_failed


@dataclass
class DailyResult:
    sent: int = 0                                  # messages enqueued
    settled: set[int] = field(default_factory=set)  # compounds done for today (sent, missed, earlier)


async def send_daily_digests(deps: Deps, skip: Iterable[int] = (), not_before: datetime | None = None) -> DailyResult:
    """Send every compound's daily digest that is due now; record the missed ones. ``skip``:
    compounds the caller already knows are done today (spares a query every minute);
    ``not_before``: since when digests run at all (a fresh install starts with tomorrow's)."""
    session = deps.session
    now = deps.clock.now()
    period = deps.clock.local(now).date().isoformat()
    result = DailyResult(settled=set(skip))
    send, missed, before = due_daily(deps, result.settled, now, not_before)
    result.settled.update(before)
    if not send and not missed:
        return result
    done = await _done_today(session, "daily", period)
    result.settled |= done
    send = [d for d in send if d.compound_id not in done]
    missed = [d for d in missed if d.compound_id not in done]
    await _claim_runs(session, [dict(kind="daily", scope_id=d.compound_id, period=period, due_at=d.due_at,
                                     covered_to=now, status="missed", recipients=0) for d in missed])
    result.settled.update(d.compound_id for d in missed)
    if not send:
        return result
    ids = [d.compound_id for d in send]
    due_at = {d.compound_id: d.due_at for d in send}
    last = await _last_covered(session, "daily", ids)
    by_since: dict[datetime, list[int]] = defaultdict(list)
    for cid in ids:
        by_since[last.get(cid, now - FIRST_DIGEST_LOOKBACK)].append(cid)

    def scope(group: list[int]) -> list[int] | None:  # all at once when it is everyone: no IN list of a thousand ids
        return None if len(group) == len(deps.org.compounds) else group

    computed = await compute_daily_groups(session, [(since, scope(group)) for since, group in by_since.items()],
                                          now, scope(ids))
    figures = {cid: f for cid, f in computed.items() if cid in due_at}
    recipients = await secretaries(session, ids)
    result.settled.update(ids)
    rows, texts = [], {}
    for cid in ids:
        f = figures.get(cid) or DailyFigures(cid, last.get(cid, now - FIRST_DIGEST_LOOKBACK))
        people = recipients.get(cid, [])
        rows.append(dict(kind="daily", scope_id=cid, period=period, due_at=due_at[cid], covered_from=f.since,
                         covered_to=now, status=QUEUED if people else "no_recipient",
                         recipients=len(people), data=f.summary()))
        texts[cid] = f
    duty = await duty_groups(session, ids)
    for cid, run_id in sorted((await _claim_runs(session, rows)).items()):
        text = render_daily(deps, texts[cid], now)
        for person_id in recipients.get(cid, []):
            deps.outbox.enqueue(session, text, person_id=person_id, priority=Priority.BROADCAST,
                                ref=(RUN_REF, run_id))
            result.sent += 1
        for group_id in duty.get(cid, []):
            deps.outbox.enqueue(session, text, group_id=group_id, priority=Priority.BROADCAST,
                                ref=(RUN_REF, run_id))
            result.sent += 1
    return result


# ---------------------------------------------------------------- weekly (community committee)
@dataclass
class WeekFigures:
    compound_id: int
    new: int = 0
    prev_new: int = 0
    resolved: int = 0
    open: int = 0
    overdue: int = 0
    happy: int = 0
    rated: int = 0
    hotline_linked: int = 0
    hotline_imported: int = 0


async def compute_weekly(session: AsyncSession, start: datetime, end: datetime,
                         compound_ids: Sequence[int] | None = None) -> dict[int, WeekFigures]:
    """Per-compound figures of the week [start, end) and the week before, grouped queries only."""
    prev_start = start - (end - start)
    out: dict[int, WeekFigures] = {}

    def fig(cid: int) -> WeekFigures:
        return out.setdefault(cid, WeekFigures(cid))

    for cid in compound_ids or ():
        fig(cid)
    this_week = case((Ticket.created_at >= start, 1), else_=0)
    rows = (await session.execute(select(Ticket.compound_id, func.sum(this_week), func.count())
                                  .where(Ticket.created_at >= prev_start, Ticket.created_at < end, _counted(),
                                         _in(Ticket.compound_id, compound_ids))
                                  .group_by(Ticket.compound_id))).all()
    for cid, current, both in rows:
        fig(cid).new, fig(cid).prev_new = int(current or 0), int(both) - int(current or 0)
    for cid, n in (await _grouped_counts(session, and_(Ticket.resolved_at >= start, Ticket.resolved_at < end),
                                         compound_ids)).items():
        fig(cid).resolved = n
    for cid, n in (await _grouped_counts(session, Ticket.state.in_(OPEN_STATES), compound_ids)).items():
        fig(cid).open = n
    for cid, n in (await _grouped_counts(session, overdue_clause(end), compound_ids)).items():
        fig(cid).overdue = n
    for given in await ticket_stats.ratings_given(session, since=start, until=end, compound_ids=compound_ids):
        if given.rating != Rating.DEFAULT:
            fig(given.compound_id).rated += 1
            fig(given.compound_id).happy += given.rating in HAPPY
    hotline = (await session.execute(
        select(HotlineOrder.compound_id, HotlineOrder.source, func.count())
        .where(HotlineOrder.imported_at >= start, HotlineOrder.imported_at < end,
               HotlineOrder.compound_id.is_not(None), _in(HotlineOrder.compound_id, compound_ids))
        .group_by(HotlineOrder.compound_id, HotlineOrder.source))).all()
    for cid, source, n in hotline:
        if source == "linked":
            fig(cid).hotline_linked += n
        else:
            fig(cid).hotline_imported += n
    return out


def _trend(delta: int) -> str:
    if delta > 0:
        return T.WEEKLY_TREND_UP.format(delta=delta)
    if delta < 0:
        return T.WEEKLY_TREND_DOWN.format(delta=-delta)
    return T.WEEKLY_TREND_SAME


def render_weekly(deps: Deps, community_id: int, figures: list[WeekFigures], start: datetime, end: datetime) -> str:
    name = deps.org.communities.get(community_id, "社区")
    last_day = deps.clock.local(end - timedelta(seconds=1))
    lines = [T.WEEKLY_HEADER.format(community=name, start=timefmt.day(deps.clock.local(start)),
                                    end=timefmt.day(last_day))]
    total = WeekFigures(0)
    for f in figures:
        for attr in ("new", "prev_new", "resolved", "open", "overdue", "happy", "rated",
                     "hotline_linked", "hotline_imported"):
            setattr(total, attr, getattr(total, attr) + getattr(f, attr))
    lines.append(T.WEEKLY_TOTALS.format(new=total.new, prev_new=total.prev_new, trend=_trend(total.new - total.prev_new),
                                        resolved=total.resolved, open=total.open, overdue=total.overdue))
    if total.rated:
        lines.append(T.WEEKLY_SATISFACTION.format(rate=round(100 * total.happy / total.rated), rated=total.rated))
    lines.append(T.WEEKLY_HOTLINE.format(linked=total.hotline_linked, imported=total.hotline_imported))
    worst = sorted((f for f in figures if f.overdue), key=lambda f: (-f.overdue, f.compound_id))[:3]
    if worst:
        lines.append(T.WEEKLY_MOST_OVERDUE.format(lines="、".join(
            T.WEEKLY_OVERDUE_ITEM.format(compound=deps.org.name_of(f.compound_id), count=f.overdue) for f in worst)))
    active = [f for f in figures if f.new or f.prev_new or f.open or f.resolved]
    if not active:
        lines.append(T.WEEKLY_NONE)
    else:
        lines.append(T.WEEKLY_COMPOUNDS)
        for f in sorted(active, key=lambda f: (-f.overdue, -f.new, deps.org.name_of(f.compound_id))):
            delta = f.new - f.prev_new
            trend = T.WEEKLY_COMPOUND_TREND.format(sign="+" if delta > 0 else "", delta=delta) if delta else ""
            lines.append(T.WEEKLY_COMPOUND_LINE.format(compound=deps.org.name_of(f.compound_id), new=f.new,
                                                       resolved=f.resolved, open=f.open, overdue=f.overdue,
                                                       trend=trend))
    return "\n".join(lines)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


async def community_staff(session: AsyncSession) -> dict[int, list[int]]:
    rows = (await session.execute(select(Role.community_id, Role.person_id).where(
        Role.name == RoleName.COMMUNITY_STAFF, Role.community_id.is_not(None)).order_by(Role.person_id))).all()
    out: dict[int, list[int]] = defaultdict(list)
    for community_id, person_id in rows:
        if person_id not in out[community_id]:
            out[community_id].append(person_id)
    return out


async def send_weekly_digests(deps: Deps, due: datetime) -> int:
    """The past week (the seven local days before ``due``'s day) to each community's staff."""
    session = deps.session
    now = deps.clock.now()
    local_due = deps.clock.local(due)
    end = datetime.combine(local_due.date(), time(0), tzinfo=local_due.tzinfo).astimezone(now.tzinfo)
    start = end - timedelta(days=7)
    period = iso_week(deps.clock.local(start).date())
    figures = await compute_weekly(session, start, end)
    staff = await community_staff(session)
    compounds_of: dict[int, list[int]] = defaultdict(list)
    for cid, community_id in deps.org.community_of.items():
        compounds_of[community_id].append(cid)
    communities = sorted(compounds_of)
    rows_of = {community_id: [figures.get(cid) or WeekFigures(cid) for cid in sorted(compounds_of[community_id])]
               for community_id in communities}
    # Every community's run claimed in one statement (not one INSERT per community).
    claimed = await _claim_runs(session, [dict(
        kind="weekly", scope_id=community_id, period=period, due_at=due, covered_from=start, covered_to=end,
        status=QUEUED if staff.get(community_id) else "no_recipient", recipients=len(staff.get(community_id, [])),
        data={"new": sum(r.new for r in rows), "overdue": sum(r.overdue for r in rows)})
        for community_id, rows in rows_of.items()])
    sent = 0
    for community_id in communities:
        if community_id not in claimed:
            continue
        people = staff.get(community_id, [])
        text = mask_pii(render_weekly(deps, community_id, rows_of[community_id], start, end))
        for person_id in people:
            deps.outbox.enqueue(session, text, person_id=person_id, priority=Priority.BROADCAST,
                                ref=(RUN_REF, claimed[community_id]))
            sent += 1
    return sent
