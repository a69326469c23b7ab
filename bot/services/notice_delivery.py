"""Notice delivery and acknowledgements: fan-out through the outbox with a delivery record per
group (or person), scheduled sending, delivery records kept up to date from the outbox, reports
to the author, 收到 acknowledgements, who has not replied and reminders to building leaders."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot import timefmt
from bot.audit import record_event
from bot.models import ChatGroup, Event, OutboxMessage, OutboxStatus, Person, Priority, Role, RoleName
from bot.models.notices import (
    Collection, CollectionAnswer, DeliveryStatus, Notice, NoticeAck, NoticeDelivery, NoticeStatus,
)
from bot.services import Actor, Deps, acks
from bot.services.collections import render_request
from bot.services.gate import CachedFlag
from bot.services.notice_targets import Recipient, get_notice, resolve_recipients
from bot.texts import notices as T
from nlp.buildings import building_label

LATE_GRACE = timedelta(hours=2)        # a scheduled notice later than this is not sent (stale news)
ACK_WINDOW = timedelta(days=3)         # 收到 replies count this long after sending
# No stagger of our own: the outbox spaces every account's sends and puts replies before
# broadcasts, so residents' answers still get through; a global stagger only made a district
# notice (3,000 groups over 6 accounts) take 149 min instead of ~13 (bench/broadcast.py).
REF_KIND = "notice_delivery"
UNSETTLED = {OutboxStatus.PENDING, OutboxStatus.SENDING}
NOT_DELIVERED = {OutboxStatus.FAILED, OutboxStatus.EXPIRED, OutboxStatus.UNCERTAIN}
# Accounts (by name prefix) whose "sent" only hands a task over that a person still has to
# confirm (WeCom customer-group sends): their transport's tracker settles those deliveries.
deferred_account_prefixes: set[str] = set()


def notice_event(deps: Deps, actor: Actor | None, notice: Notice, action: str, from_state: str | None,
                 note: str | None = None) -> None:
    """The notice's audit row: its state after the change is its status now."""
    record_event(deps.session, "notice", notice.id, action, deps.clock.now(), actor=actor, from_state=from_state,
                 to_state=notice.status, note=note)


# ---------------------------------------------------------------- sending
def render(deps: Deps, notice: Notice, collection: Collection | None = None) -> str:
    """The text residents see."""
    if notice.scope in ("compound", "building"):
        header = T.HEADER_COMPOUND.format(compound=deps.org.name_of(notice.compound_id))
    elif notice.scope == "community":
        header = T.HEADER_COMMUNITY.format(community=deps.org.communities.get(notice.community_id, "社区")
                                           if notice.community_id else "社区")
    else:
        header = T.HEADER_DISTRICT
    if collection is not None:
        return f"{header}\n{render_request(deps, collection, notice.text)}"
    return f"{header}\n{notice.text}\n{T.ACK_HINT}"


async def fan_out(deps: Deps, notice: Notice, *, actor: Actor | None = None) -> list[Recipient]:
    """One delivery row and its outbox rows per recipient, in the caller's transaction: a
    crash before commit sends nothing, and the status change means it is never sent twice."""
    now = deps.clock.now()
    recipients = await resolve_recipients(deps, notice.target)
    collection = (await deps.session.execute(
        select(Collection).where(Collection.notice_id == notice.id))).scalar_one_or_none()
    text = render(deps, notice, collection)
    before = notice.status
    notice.status = NoticeStatus.SENT
    notice.sent_at = now
    notice.ack_until = now + ACK_WINDOW
    any_ack_open.reset()  # the 收到 hook's gate looks again
    deliveries = [NoticeDelivery(notice_id=notice.id, group_id=r.group_id, person_id=r.person_id,
                                 compound_id=r.compound_id, label=r.label[:128], created_at=now)
                  for r in recipients]
    deps.session.add_all(deliveries)
    await deps.session.flush()
    for recipient, delivery in zip(recipients, deliveries):
        deps.outbox.enqueue(deps.session, text, group_id=recipient.group_id, person_id=recipient.person_id,
                            priority=Priority.BROADCAST, account=recipient.account,
                            ref=(REF_KIND, delivery.id))
    if not recipients:
        notice.settled_at = now
    notice_event(deps, actor, notice, "sent", before, note=f"{len(recipients)} deliveries")
    return recipients


async def dispatch_due(deps: Deps) -> list[Notice]:
    """Scheduled notices whose time has come: fan out (or, far too late, record missed)."""
    now = deps.clock.now()
    due = list((await deps.session.execute(
        select(Notice).where(Notice.status == NoticeStatus.SCHEDULED, Notice.send_at <= now)
        .order_by(Notice.send_at, Notice.id))).scalars())
    done = []
    for notice in due:
        # Compare-and-set: whoever flips the status sends it, nobody else.
        claimed = await deps.session.execute(update(Notice).where(
            Notice.id == notice.id, Notice.status == NoticeStatus.SCHEDULED,
        ).values(status="sending").execution_options(synchronize_session=False))
        if not claimed.rowcount:
            continue
        if now - notice.send_at > LATE_GRACE:
            notice.status = NoticeStatus.MISSED
            notice_event(deps, None, notice, "missed", NoticeStatus.SCHEDULED, note=f"due {notice.send_at.isoformat()}")
            if notice.author_person_id is not None:
                deps.outbox.enqueue(deps.session, T.MISSED_TO_AUTHOR.format(
                    id=notice.id, when=timefmt.stored(deps.clock, notice.send_at), hours=int(LATE_GRACE.total_seconds() // 3600)),
                    person_id=notice.author_person_id, priority=Priority.REPLY)
        else:
            await fan_out(deps, notice)
        done.append(notice)
    return done


async def work_due(deps: Deps) -> tuple[bool, bool]:
    """(notices to send, expire or sync?, collections open?) in one query: most ticks have
    nothing to do and should cost one round trip."""
    now = deps.clock.now()
    row = (await deps.session.execute(select(
        or_(exists().where(Notice.status == NoticeStatus.DRAFT, Notice.draft_expires_at < now),
            exists().where(Notice.status == NoticeStatus.SCHEDULED, Notice.send_at <= now),
            exists().where(NoticeDelivery.status == DeliveryStatus.PENDING)),
        exists().where(Collection.closed_at.is_(None)),
    ))).one()
    return bool(row[0]), bool(row[1])


# ---------------------------------------------------------------- delivery records
async def sync_deliveries(deps: Deps, notice_ids: Iterable[int] | None = None) -> list[Notice]:
    """Bring pending deliveries up to date from their outbox rows; returns notices that just
    settled (every delivery sent, failed or cancelled)."""
    session = deps.session
    query = (select(NoticeDelivery.id, OutboxMessage.status, OutboxMessage.error, OutboxMessage.sent_at,
                    OutboxMessage.account)
             .join(OutboxMessage, and_(OutboxMessage.ref_kind == REF_KIND, OutboxMessage.ref_id == NoticeDelivery.id))
             .where(NoticeDelivery.status == DeliveryStatus.PENDING))
    if notice_ids is not None:
        query = query.where(NoticeDelivery.notice_id.in_(list(notice_ids)))
    per_delivery: dict[int, list[tuple[str, str | None, datetime | None]]] = {}
    deferred: set[int] = set()
    for delivery_id, status, error, sent_at, account in (await session.execute(query)).all():
        per_delivery.setdefault(delivery_id, []).append((status, error, sent_at))
        if status == OutboxStatus.SENT and account and account.startswith(tuple(deferred_account_prefixes)):
            deferred.add(delivery_id)
    touched: set[int] = set()
    for delivery_id, rows in per_delivery.items():
        statuses = {s for s, _, _ in rows}
        if statuses & UNSETTLED or delivery_id in deferred:
            continue  # still on its way (an in-flight row may yet be sent)
        delivery = await session.get(NoticeDelivery, delivery_id)
        assert delivery is not None
        if statuses & NOT_DELIVERED:
            # Failed, expired unsent, or in doubt after a crash: not a delivery anyone can count on.
            delivery.status = DeliveryStatus.FAILED
            delivery.error = next((e for s, e, _ in rows if s in NOT_DELIVERED and e), None) or T.UNKNOWN_ERROR
        elif statuses == {OutboxStatus.CANCELLED}:
            delivery.status = DeliveryStatus.CANCELLED
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = max((t for _, _, t in rows if t is not None), default=deps.clock.now())
        touched.add(delivery.notice_id)
    if not touched:
        return []
    await session.flush()
    still_pending = set((await session.execute(select(NoticeDelivery.notice_id).where(
        NoticeDelivery.notice_id.in_(touched), NoticeDelivery.status == DeliveryStatus.PENDING).distinct())).scalars())
    settled = []
    for notice_id in sorted(touched - still_pending):
        notice = await session.get(Notice, notice_id)
        if notice is not None and notice.settled_at is None:
            notice.settled_at = deps.clock.now()
            settled.append(notice)
    return settled


@dataclass
class DeliveryCounts:
    sent: int = 0
    failed: int = 0
    pending: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.pending + self.cancelled


async def delivery_counts(deps: Deps, notice_ids: Sequence[int]) -> dict[int, DeliveryCounts]:
    rows = (await deps.session.execute(select(NoticeDelivery.notice_id, NoticeDelivery.status, func.count())
                                       .where(NoticeDelivery.notice_id.in_(list(notice_ids)))
                                       .group_by(NoticeDelivery.notice_id, NoticeDelivery.status))).all()
    out: dict[int, DeliveryCounts] = {}
    for notice_id, status, count in rows:
        counts = out.setdefault(notice_id, DeliveryCounts())
        setattr(counts, status if status in ("sent", "failed", "pending", "cancelled") else "pending", count)
    return out


async def ack_counts(deps: Deps, notice_ids: Sequence[int]) -> dict[int, int]:
    rows = (await deps.session.execute(select(NoticeAck.notice_id, func.count()).where(
        NoticeAck.notice_id.in_(list(notice_ids))).group_by(NoticeAck.notice_id))).all()
    return dict(rows)


async def report_settled(deps: Deps, notices: Iterable[Notice]) -> None:
    """Tell each author how a broadcast went (skipped for a single group that simply worked)."""
    for notice in notices:
        if notice.reported_at is not None or notice.author_person_id is None or notice.status != NoticeStatus.SENT:
            continue
        deliveries = list((await deps.session.execute(select(NoticeDelivery).where(
            NoticeDelivery.notice_id == notice.id).order_by(NoticeDelivery.id))).scalars())
        failed = [d for d in deliveries if d.status == DeliveryStatus.FAILED]
        notice.reported_at = deps.clock.now()
        if len(deliveries) <= 1 and not failed:
            continue
        sent = sum(1 for d in deliveries if d.status == DeliveryStatus.SENT)
        lines = "".join(T.DELIVERY_FAILURE_LINE.format(label=d.label, error=d.error or T.UNKNOWN_ERROR)
                        for d in failed[:20])
        if len(failed) > 20:
            lines += T.DETAIL_MORE_FAILURES.format(count=len(failed) - 20)
        deps.outbox.enqueue(deps.session, T.DELIVERY_REPORT.format(
            id=notice.id, sent=sent, failed=len(failed), failures=lines),
            person_id=notice.author_person_id, priority=Priority.BROADCAST)


# ---------------------------------------------------------------- acknowledgements
def is_ack(text: str) -> bool:
    """收到 as people write it (emoji, [强], room numbers, thanks): see bot.services.acks."""
    return acks.is_ack(text)


async def _query_any_ack_open(deps: Deps) -> bool:
    found = (await deps.session.execute(select(Notice.id).where(
        Notice.status == NoticeStatus.SENT, Notice.ack_until >= deps.clock.now(),
        Notice.kind == "notice").limit(1))).first()
    return found is not None


any_ack_open = CachedFlag(_query_any_ack_open)


async def record_ack(deps: Deps, person_id: int, *, group_id: int | None,
                     compound_fallback: bool = True) -> Notice | None:
    """A 收到 from ``person_id`` in ``group_id`` (None: privately): counted for the newest notice
    sent there whose acknowledgement window is open. None when no notice applies."""
    if not await any_ack_open.get(deps):
        return None
    now = deps.clock.now()
    open_deliveries = (
        select(NoticeDelivery.id, NoticeDelivery.notice_id).join(Notice, Notice.id == NoticeDelivery.notice_id)
        .where(NoticeDelivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENT]),
               Notice.status == NoticeStatus.SENT, Notice.ack_until >= now, Notice.kind == "notice")
        .order_by(NoticeDelivery.created_at.desc(), NoticeDelivery.id.desc()).limit(1))
    where = NoticeDelivery.group_id == group_id if group_id is not None else NoticeDelivery.person_id == person_id
    row = (await deps.session.execute(open_deliveries.where(where))).first()
    if row is None and group_id is None and compound_fallback:
        # A private 收到 answers the notice that reached the groups of the person's compound
        # (and building): many residents reply to the bot rather than in the group.
        person = await deps.session.get(Person, person_id)
        if person is not None and person.compound_id is not None:
            row = (await deps.session.execute(open_deliveries.join(
                ChatGroup, ChatGroup.id == NoticeDelivery.group_id).where(
                NoticeDelivery.compound_id == person.compound_id,
                or_(ChatGroup.building.is_(None), ChatGroup.building == person.building)))).first()
    if row is None:
        return None
    notice = await deps.session.get(Notice, row.notice_id)
    if notice is None or notice.author_person_id == person_id:
        return None
    insert = postgresql.insert if deps.session.bind.dialect.name == "postgresql" else sqlite.insert
    await deps.session.execute(insert(NoticeAck).values(
        notice_id=row.notice_id, delivery_id=row.id, person_id=person_id, group_id=group_id, at=now,
    ).on_conflict_do_nothing(index_elements=["notice_id", "person_id"]))
    return notice


# ---------------------------------------------------------------- who has not replied
# The roster people a notice is meant to reach; staff and the property are not counted.
ROSTER_ROLES = (RoleName.RESIDENT, RoleName.PARTY_MEMBER, RoleName.BUILDING_LEADER)
NO_BUILDING = ""  # key of people whose building the roster does not know


@dataclass
class Silent:
    """Roster people who have not acknowledged a notice, by building ("" = not on the roster)."""

    notice: Notice
    by_building: dict[str, list[Person]]
    expected: int            # roster people the notice reached
    compound_ids: list[int]

    @property
    def count(self) -> int:
        return sum(len(p) for p in self.by_building.values())


async def silent_people(deps: Deps, actor: Actor, notice_id: int) -> Silent:
    """Per notice: roster residents, party members and building leaders of the compounds (and
    building) it reached who have not replied 收到 (for a collection: not answered)."""
    return await silent_of(deps, await get_notice(deps, actor, notice_id))


async def silent_of(deps: Deps, notice: Notice) -> Silent:
    """``silent_people`` without the actor's check (schedules)."""
    session = deps.session
    rows = (await session.execute(select(NoticeDelivery.compound_id, ChatGroup.building)
                                  .outerjoin(ChatGroup, ChatGroup.id == NoticeDelivery.group_id)
                                  .where(NoticeDelivery.notice_id == notice.id,
                                         NoticeDelivery.status != DeliveryStatus.CANCELLED))).all()
    compounds = sorted({c for c, _ in rows if c is not None})
    # A notice that only reached building groups (or a building target) concerns those buildings.
    buildings = {b for _, b in rows}
    if (notice.target or {}).get("building"):
        buildings = {notice.target["building"]}
    only_buildings = None if None in buildings or not buildings else buildings
    if notice.kind == "collection":
        replied = select(CollectionAnswer.person_id).join(
            Collection, Collection.id == CollectionAnswer.collection_id).where(Collection.notice_id == notice.id)
    else:
        replied = select(NoticeAck.person_id).where(NoticeAck.notice_id == notice.id)
    roster = select(Role.person_id).where(Role.name.in_([str(r) for r in ROSTER_ROLES]))
    query = select(Person).where(Person.compound_id.in_(compounds), Person.on_roster.is_(True),
                                 Person.id.in_(roster))
    if only_buildings is not None:
        query = query.where(Person.building.in_(sorted(only_buildings)))
    if notice.author_person_id is not None:
        query = query.where(Person.id != notice.author_person_id)
    people = list((await session.execute(query)).scalars())
    done = set((await session.execute(replied)).scalars())
    by_building: dict[str, list[Person]] = {}
    for person in sorted(people, key=_roster_order):
        if person.id not in done:
            by_building.setdefault(person.building or NO_BUILDING, []).append(person)
    return Silent(notice, by_building, len(people), compounds)


def _roster_order(person: Person) -> tuple:
    def number(value: str | None) -> tuple[int, str]:
        return (int(value), "") if value and value.isdigit() else (10 ** 6, value or "")
    return (person.building is None, number(person.building), number(person.unit), number(person.room_no),
            person.name)


def person_place(person: Person) -> str:
    """"2单元302" — the place next to a name in lists staff read (never a phone number)."""
    return (f"{person.unit}单元" if person.unit else "") + (person.room_no or "")


async def building_leaders(deps: Deps, compound_ids: Sequence[int], buildings: Iterable[str]) -> dict[tuple, list[Person]]:
    """(compound_id, building) -> its building leaders on the roster."""
    wanted = [b for b in buildings if b]
    if not wanted:
        return {}
    rows = (await deps.session.execute(select(Person).where(
        Person.compound_id.in_(list(compound_ids)), Person.building.in_(wanted),
        Person.id.in_(select(Role.person_id).where(Role.name == RoleName.BUILDING_LEADER)))
        .order_by(Person.id))).scalars()
    out: dict[tuple, list[Person]] = {}
    for person in rows:
        out.setdefault((person.compound_id, person.building), []).append(person)
    return out


async def remind_building_leaders(deps: Deps, actor: Actor, notice_id: int) -> tuple[Silent, list[str], list[str]]:
    """Send each building leader the names in their building who have not replied.

    Returns (silent, "3号楼 赵楼长" lines reminded, buildings without a leader)."""
    return await remind_leaders_of(deps, actor, await get_notice(deps, actor, notice_id))


async def remind_leaders_of(deps: Deps, actor: Actor | None, notice: Notice) -> tuple[Silent, list[str], list[str]]:
    """``remind_building_leaders`` without the actor's check (schedules)."""
    silent = await silent_of(deps, notice)
    leaders = await building_leaders(deps, silent.compound_ids, silent.by_building)
    reminded: list[str] = []
    orphans: list[str] = []
    for building, people in silent.by_building.items():
        if building == NO_BUILDING:
            continue
        for compound_id in silent.compound_ids:
            mine = [p for p in people if p.compound_id == compound_id]
            if not mine:
                continue
            found = leaders.get((compound_id, building), [])
            label = building_label(building)
            if len(silent.compound_ids) > 1:
                label = f"{deps.org.name_of(compound_id)}{label}"
            if not found:
                orphans.append(label)
                continue
            names = "、".join(f"{p.name}（{person_place(p)}）" if person_place(p) else p.name for p in mine)
            for leader in found:
                deps.outbox.enqueue(deps.session, T.LEADER_REMINDER.format(
                    id=silent.notice.id, preview=_one_line(silent.notice.text, 30), building=label,
                    count=len(mine), names=names), person_id=leader.id, priority=Priority.BROADCAST)
                reminded.append(f"{label} {leader.name}")
    notice_event(deps, actor, silent.notice, "leaders_reminded", silent.notice.status, note="；".join(reminded)[:500])
    return silent, reminded, orphans


def _one_line(text: str, limit: int) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[:limit] + "…"


# Compound setting: hours after sending when building leaders get their lists by themselves
# (absent: only on request, 通知详情 N 提醒楼长).
LEADER_REMINDER_SETTING = "remind_leaders_after_hours"


async def remind_leaders_due(deps: Deps) -> int:
    """Notices whose compound asks for it: once, N hours after sending, while 收到 still counts,
    each building leader gets their building's non-responders."""
    now = deps.clock.now()
    reminded = select(Event.subject_id).where(Event.subject_kind == "notice", Event.action == "leaders_reminded")
    notices = list((await deps.session.execute(select(Notice).where(
        Notice.status == NoticeStatus.SENT, Notice.kind == "notice", Notice.compound_id.is_not(None),
        Notice.ack_until >= now, Notice.id.not_in(reminded)).order_by(Notice.id))).scalars())
    count = 0
    for notice in notices:
        hours = deps.org.setting(notice.compound_id, LEADER_REMINDER_SETTING)
        if not isinstance(hours, (int, float)) or hours <= 0 or notice.sent_at is None:
            continue
        if notice.sent_at + timedelta(hours=hours) > now:
            continue
        await remind_leaders_of(deps, None, notice)
        count += 1
    return count
