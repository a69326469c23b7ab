"""The computed items: one figure per compound per metric, with the rows behind it.

Every metric is computed for all compounds at once (a few grouped queries, then Python), so
a district-wide run reads each table once (``bench/rating.py``: 1,100 compounds).
A ``Measure`` keeps the ids it counted, so the dashboard can drill down to them."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Identity, Role, RoleName
from bot.models.members import IdentityRequest, RequestState, VolunteerPost
from bot.models.notices import DeliveryStatus, Notice, NoticeAck, NoticeDelivery
from bot.models.rating import EntryKind, RatingEntry
from bot.models.schedules import VisitTarget
from bot.models.tickets import AgendaItem, DiscussionDay, HotlineOrder, Rating, Ticket
from bot.models.wishes import Wish, WishState
from bot.services.rating.complaints import NOT_COUNTED, matches
from bot.services.rating.standard import ComplaintRule
from bot.services.tickets.stats import ratings_given


@dataclass
class Measure:
    value: float | None                 # None: nothing to measure this period
    shown: str                          # "3/4", "2 次" — the figure as people read it
    data: dict[str, list[int]] = field(default_factory=dict)  # "tickets" / "meetings" / "wishes" … → ids


def _share(good: Sequence[int], all_ids: Sequence[int], kind: str, *, miss_key: str | None = None,
           misses: Sequence[int] = ()) -> Measure:
    if not all_ids:
        return Measure(None, "无数据", {})
    data = {kind: sorted(all_ids)}
    if miss_key:
        data[miss_key] = sorted(misses)
    return Measure(len(good) / len(all_ids), f"{len(good)}/{len(all_ids)}", data)


@dataclass
class Period:
    start: datetime
    end: datetime
    previous_start: datetime  # the period before, for "this period against the last"
    now: datetime             # deadlines after now have not passed yet

    @property
    def cutoff(self) -> datetime:
        return min(self.end, self.now)


class _TicketRow:
    """A ticket as the rating needs it: deadlines are compared in SQL, so the rows carry
    flags, not datetimes (31,000 rows of a district's quarter load in a fraction of the time)."""

    __slots__ = ("id", "compound_id", "state", "category", "assignee_kind", "response_due", "response_ok",
                 "resolve_due", "resolve_ok", "overdue", "property_late")

    def __init__(self, row) -> None:  # noqa: ANN001
        for name, value in zip(self.__slots__, row):
            setattr(self, name, value)


async def _tickets(session: AsyncSession, p: Period, compounds: Sequence[int] | None) -> list[_TicketRow]:
    cutoff = p.cutoff
    t = Ticket
    responded_ok = and_(t.first_response_at.is_not(None), t.first_response_at <= t.first_response_due)
    resolved_ok = and_(t.resolved_at.is_not(None), t.resolved_at <= t.resolve_due)
    late = and_(t.resolve_due.is_not(None), t.resolve_due <= cutoff,
                or_(t.resolved_at.is_(None), t.resolved_at > t.resolve_due))
    query = select(
        t.id, t.compound_id, t.state, t.category, t.assignee_kind,
        # a deadline counts once it has passed, or once it was met early
        and_(t.first_response_due.is_not(None), or_(t.first_response_at.is_not(None),
                                                      t.first_response_due <= cutoff)),
        responded_ok,
        and_(t.resolve_due.is_not(None), or_(t.resolved_at.is_not(None), t.resolve_due <= cutoff)),
        resolved_ok,
        or_(t.reopen_count > 0, late),
        and_(t.assignee_kind == "property", late),
    ).where(t.created_at >= p.start, t.created_at < p.end, t.state.not_in(NOT_COUNTED))
    if compounds is not None:
        query = query.where(t.compound_id.in_(list(compounds)))
    return [_TicketRow(r) for r in (await session.execute(query)).all()]


def _in(column, compounds: Sequence[int] | None):  # noqa: ANN001, ANN202
    return True if compounds is None else column.in_(list(compounds))


async def measure_all(session: AsyncSession, p: Period, rule: ComplaintRule,
                      compounds: Sequence[int] | None = None) -> dict[str, dict[int, Measure]]:
    """metric name → compound id → Measure, for every metric the standard may name."""
    out: dict[str, dict[int, Measure]] = {}
    tickets = await _tickets(session, p, compounds)
    by_compound: dict[int, list[_TicketRow]] = defaultdict(list)
    for t in tickets:
        by_compound[t.compound_id].append(t)
    ids = list(compounds) if compounds is not None else None

    out["staff_linked"] = await _staff_linked(session, ids)
    out["party_shown"] = await _party_shown(session, p, ids)
    out["posts_staffed"] = await _posts_staffed(session, ids)
    days, fixes, resolved = await _deliberation(session, p, ids)
    out["discussion_days"], out["four_fixes"], out["agenda_resolved"] = days, fixes, resolved
    out["first_response_on_time"] = _per(by_compound, _first_response, p)
    out["resolved_on_time"] = _per(by_compound, _resolved_on_time, p)
    ratings = await _ratings(session, p, ids)
    out["satisfaction"] = {cid: _satisfaction(rows) for cid, rows in ratings.items()}
    out["wishes_fulfilled"] = await _wishes(session, p, ids)
    out["visits_done"] = await _visits(session, p, ids)
    out["notice_acks"] = await _notice_acks(session, p, ids)
    out["overdue_closed"] = _per(by_compound, _overdue_closed, p)
    out["audit_on_time"] = await _audit(session, p, ids)
    out["hotline_change"] = await _hotline(session, p, ids)

    counted = {cid: [t for t in rows if matches(rule, t.category, t.assignee_kind, t.state)]
               for cid, rows in by_compound.items()}
    out["property_complaints"] = {
        cid: Measure(float(len(rows)), f"{len(rows)} 件", {"tickets": sorted(t.id for t in rows)})
        for cid, rows in counted.items()}
    out["property_overdue"] = {cid: _property_overdue(rows, p) for cid, rows in by_compound.items()}
    counted_ids = {t.id for rows in counted.values() for t in rows}
    out["property_satisfaction"] = {
        cid: _satisfaction([r for r in rows if r[0] in counted_ids]) for cid, rows in ratings.items()}
    return out


def _per(by_compound: dict[int, list[_TicketRow]], fn, p: Period) -> dict[int, Measure]:  # noqa: ANN001
    return {cid: fn(rows, p) for cid, rows in by_compound.items()}


def _first_response(rows: Iterable[_TicketRow], p: Period) -> Measure:  # noqa: ARG001
    due = [t for t in rows if t.response_due]
    return _share([t.id for t in due if t.response_ok], [t.id for t in due], "tickets", miss_key="late",
                  misses=[t.id for t in due if not t.response_ok])


def _resolved_on_time(rows: Iterable[_TicketRow], p: Period) -> Measure:  # noqa: ARG001
    due = [t for t in rows if t.resolve_due]
    return _share([t.id for t in due if t.resolve_ok], [t.id for t in due], "tickets", miss_key="late",
                  misses=[t.id for t in due if not t.resolve_ok])


def _overdue_closed(rows: Iterable[_TicketRow], p: Period) -> Measure:  # noqa: ARG001
    """Tickets that went past their deadline or were reopened: closed (or resolved) since?"""
    bad = [t for t in rows if t.overdue]
    done = [t.id for t in bad if t.state in ("resolved", "closed")]
    return _share(done, [t.id for t in bad], "tickets", miss_key="open",
                  misses=[t.id for t in bad if t.state not in ("resolved", "closed")])


def _property_overdue(rows: Iterable[_TicketRow], p: Period) -> Measure:  # noqa: ARG001
    late = sorted(t.id for t in rows if t.property_late)
    return Measure(float(len(late)), f"{len(late)} 件", {"tickets": late})


def _satisfaction(rows: list[tuple[int, str]]) -> Measure:
    rated = [r for r in rows if r[1] != Rating.DEFAULT]
    good = [tid for tid, rating in rated if rating in (Rating.SATISFIED, Rating.BASIC)]
    if not rated:
        return Measure(None, "无评价", {})
    return Measure(len(good) / len(rated), f"{len(good)}/{len(rated)}",
                   {"tickets": sorted({tid for tid, _ in rated})})


async def _ratings(session: AsyncSession, p: Period, ids) -> dict[int, list[tuple[int, str]]]:  # noqa: ANN001
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for given in await ratings_given(session, since=p.start, until=p.end, compound_ids=ids):
        out[given.compound_id].append((given.ticket_id, given.rating))
    return out


async def _staff_linked(session: AsyncSession, ids) -> dict[int, Measure]:  # noqa: ANN001
    """Secretary and grid worker each held by someone whose chat identity is linked."""
    wanted = (RoleName.SECRETARY, RoleName.GRID_WORKER)
    roles = (await session.execute(select(Role.compound_id, Role.name, Role.person_id).where(
        Role.name.in_(wanted), Role.compound_id.is_not(None), _in(Role.compound_id, ids)))).all()
    linked = set((await session.execute(select(Identity.person_id).where(Identity.active.is_(True)))).scalars())
    held: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for cid, name, pid in roles:
        held[cid][name].append(pid)
    out = {}
    for cid, by_name in held.items():
        people = sorted({pid for pids in by_name.values() for pid in pids if pid in linked})
        ok = sum(1 for name in wanted if any(pid in linked for pid in by_name.get(name, ())))
        out[cid] = Measure(ok / len(wanted), f"{ok}/{len(wanted)}", {"people": people})
    return out


async def _party_shown(session: AsyncSession, p: Period, ids) -> dict[int, Measure]:  # noqa: ANN001
    members = (await session.execute(select(Role.compound_id, Role.person_id).where(
        Role.name == RoleName.PARTY_MEMBER, Role.compound_id.is_not(None), _in(Role.compound_id, ids)))).all()
    shown = set((await session.execute(select(IdentityRequest.compound_id, IdentityRequest.person_id).where(
        IdentityRequest.role == RoleName.PARTY_MEMBER, IdentityRequest.state == RequestState.APPROVED,
        IdentityRequest.decided_at < p.end, _in(IdentityRequest.compound_id, ids)))).all())
    per: dict[int, list[int]] = defaultdict(list)
    for cid, pid in members:
        per[cid].append(pid)
    return {cid: _share([x for x in pids if (cid, x) in shown], pids, "people") for cid, pids in per.items()}


async def _posts_staffed(session: AsyncSession, ids) -> dict[int, Measure]:  # noqa: ANN001
    rows = (await session.execute(select(VolunteerPost.compound_id, VolunteerPost.id, VolunteerPost.holder_count)
                                  .where(VolunteerPost.active.is_(True), _in(VolunteerPost.compound_id, ids)))).all()
    per: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for cid, pid, holders in rows:
        per[cid].append((pid, holders))
    return {cid: _share([i for i, n in posts if n > 0], [i for i, _ in posts], "posts")
            for cid, posts in per.items()}


async def _deliberation(session: AsyncSession, p: Period, ids):  # noqa: ANN001, ANN202
    days = (await session.execute(select(DiscussionDay.compound_id, DiscussionDay.id).where(
        DiscussionDay.state == "held", DiscussionDay.starts_at >= p.start, DiscussionDay.starts_at < p.end,
        _in(DiscussionDay.compound_id, ids)))).all()
    held: dict[int, list[int]] = defaultdict(list)
    for cid, did in days:
        held[cid].append(did)
    day_ids = [d for _, d in days]
    items = (await session.execute(select(
        AgendaItem.compound_id, AgendaItem.id, AgendaItem.topic, AgendaItem.scope, AgendaItem.owner_person_id,
        AgendaItem.owner_label, AgendaItem.state, AgendaItem.outcome).where(
        AgendaItem.discussion_day_id.in_(day_ids)))).all() if day_ids else []
    per: dict[int, list] = defaultdict(list)
    for row in items:
        per[row[0]].append(row)
    count = {cid: Measure(float(len(d)), f"{len(d)} 次", {"meetings": sorted(d)}) for cid, d in held.items()}
    fixes, resolved = {}, {}
    for cid, rows in per.items():
        # 定时间 is the day itself; 定议题, 定范围 and 定责任 must be written down.
        full = [r[1] for r in rows if (r[2] or "").strip() and r[3] and (r[4] or (r[5] or "").strip())]
        fixes[cid] = _share(full, [r[1] for r in rows], "agenda")
        done = [r[1] for r in rows if r[6] == "discussed" and (r[7] or "").strip()]
        resolved[cid] = _share(done, [r[1] for r in rows], "agenda")
    return count, fixes, resolved


async def _wishes(session: AsyncSession, p: Period, ids) -> dict[int, Measure]:  # noqa: ANN001
    rows = (await session.execute(select(Wish.compound_id, Wish.id, Wish.state).where(
        Wish.created_at >= p.start, Wish.created_at < p.end, Wish.state != WishState.CANCELLED,
        _in(Wish.compound_id, ids)))).all()
    per: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for cid, wid, state in rows:
        per[cid].append((wid, state))
    return {cid: _share([w for w, s in ws if s in (WishState.DONE, WishState.CONFIRMED)], [w for w, _ in ws], "wishes")
            for cid, ws in per.items()}


async def _visits(session: AsyncSession, p: Period, ids) -> dict[int, Measure]:  # noqa: ANN001
    rows = (await session.execute(select(VisitTarget.compound_id, VisitTarget.id, VisitTarget.last_visited_at).where(
        VisitTarget.active.is_(True), VisitTarget.created_at < p.end, _in(VisitTarget.compound_id, ids)))).all()
    per: dict[int, list[tuple[int, datetime | None]]] = defaultdict(list)
    for cid, vid, at in rows:
        per[cid].append((vid, at))
    return {cid: _share([v for v, at in vs if at is not None and p.start <= at < p.end], [v for v, _ in vs], "visits")
            for cid, vs in per.items()}


async def _notice_acks(session: AsyncSession, p: Period, ids) -> dict[int, Measure]:  # noqa: ANN001
    """Deliveries of notices that ask for 收到, to this compound, answered by at least one 收到."""
    rows = (await session.execute(select(NoticeDelivery.compound_id, NoticeDelivery.id, NoticeDelivery.notice_id,
                                         NoticeDelivery.group_id, NoticeDelivery.person_id).join(
        Notice, Notice.id == NoticeDelivery.notice_id).where(
        Notice.ack_until.is_not(None), NoticeDelivery.status == DeliveryStatus.SENT,
        NoticeDelivery.sent_at >= p.start, NoticeDelivery.sent_at < p.end, NoticeDelivery.compound_id.is_not(None),
        _in(NoticeDelivery.compound_id, ids)))).all()
    if not rows:
        return {}
    acks = (await session.execute(select(NoticeAck.notice_id, NoticeAck.delivery_id, NoticeAck.group_id,
                                         NoticeAck.person_id).where(
        NoticeAck.notice_id.in_(sorted({r[2] for r in rows}))))).all()
    by_delivery = {a[1] for a in acks if a[1] is not None}
    by_group = {(a[0], a[2]) for a in acks if a[2] is not None}
    by_person = {(a[0], a[3]) for a in acks}
    per: dict[int, list[tuple[int, int, bool]]] = defaultdict(list)
    for cid, did, nid, gid, pid in rows:
        acked = did in by_delivery or (gid is not None and (nid, gid) in by_group) or \
            (pid is not None and (nid, pid) in by_person)
        per[cid].append((did, nid, acked))
    out = {}
    for cid, ds in per.items():
        m = _share([d for d, _, a in ds if a], [d for d, _, _ in ds], "deliveries")
        m.data["notices"] = sorted({n for _, n, _ in ds})
        out[cid] = m
    return out


async def _audit(session: AsyncSession, p: Period, ids) -> dict[int, Measure]:  # noqa: ANN001
    rows = (await session.execute(select(RatingEntry.compound_id, RatingEntry.id, RatingEntry.deadline,
                                         RatingEntry.closed_at).where(
        RatingEntry.kind == EntryKind.AUDIT, RatingEntry.withdrawn.is_(False), RatingEntry.deadline.is_not(None),
        RatingEntry.deadline >= p.start, RatingEntry.deadline < p.end, RatingEntry.deadline <= p.now,
        _in(RatingEntry.compound_id, ids)))).all()
    per: dict[int, list] = defaultdict(list)
    for row in rows:
        per[row[0]].append(row)
    return {cid: _share([r[1] for r in rs if r[3] is not None and r[3] <= r[2]], [r[1] for r in rs], "entries",
                        miss_key="late", misses=[r[1] for r in rs if r[3] is None or r[3] > r[2]])
            for cid, rs in per.items()}


async def _hotline(session: AsyncSession, p: Period, ids) -> dict[int, Measure]:  # noqa: ANN001
    rows = (await session.execute(select(HotlineOrder.compound_id, HotlineOrder.id, HotlineOrder.received_at).where(
        HotlineOrder.compound_id.is_not(None), HotlineOrder.received_at >= p.previous_start,
        HotlineOrder.received_at < p.end, _in(HotlineOrder.compound_id, ids)))).all()
    now: dict[int, list[int]] = defaultdict(list)
    before: dict[int, int] = defaultdict(int)
    for cid, oid, at in rows:
        if at >= p.start:
            now[cid].append(oid)
        else:
            before[cid] += 1
    out = {}
    for cid in set(now) | set(before):
        this, last = len(now.get(cid, [])), before.get(cid, 0)
        if this == 0:
            change = -1.0  # no orders at all: nothing left to reduce
        else:
            change = (this - last) / last if last else 1.0
        out[cid] = Measure(change, f"本期 {this} 件 / 上期 {last} 件", {"hotline_orders": sorted(now.get(cid, []))})
    return out


def empty_measure(metric: str) -> Measure:
    """A compound with no rows for a metric: counts are zero, shares have no data."""
    if metric in ("discussion_days", "property_complaints", "property_overdue"):
        return Measure(0.0, "0 件" if metric.startswith("property") else "0 次", {})
    if metric == "staff_linked":
        return Measure(0.0, "0/2", {})
    if metric == "hotline_change":
        return Measure(-1.0, "本期 0 件 / 上期 0 件", {})
    return Measure(None, "无数据", {})


