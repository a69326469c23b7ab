"""Notices: who may send what to whom, preview/confirm, scheduled sending, fan-out through the
outbox with a delivery record per group, 收到 acknowledgements, cancellation.

One implementation for chat (handlers/notices.py), the dashboard and the schedules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot import timefmt
from bot.models import (
    Building, ChatGroup, Event, Identity, OutboxMessage, OutboxStatus, Person, Priority, RoleName,
)
from bot.models.notices import (
    Collection, DeliveryStatus, Notice, NoticeAck, NoticeDelivery, NoticeStatus, PENDING_STATUSES,
)
from bot.roles import STAFF_ROLES
from bot.services import Actor, Deps, ServiceError, acks
from bot.services.duty import is_duty_group
from bot.services.gate import CachedFlag
from bot.texts import notices as T
from nlp.buildings import building_label, building_of

MAX_CHARS = 1500                       # one notice; the outbox splits long texts anyway
DRAFT_TTL = timedelta(minutes=30)      # a preview waits this long for 确认
MAX_AHEAD = timedelta(days=180)        # how far ahead a notice may be scheduled
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

_SPLIT = re.compile(r"^(\S+?)(?:[\s:：,，]+|$)(.*)$", re.S)


# ---------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """Who a notice goes to, before resolving groups: stored on the notice as ``target``."""

    scope: str                       # compound / building / community / district
    label: str
    compound_ids: tuple[int, ...] = ()
    community_ids: tuple[int, ...] = ()
    building: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "compound_ids": list(self.compound_ids),
                "community_ids": list(self.community_ids), "building": self.building}


@dataclass(frozen=True)
class Recipient:
    group_id: int | None
    person_id: int | None
    compound_id: int | None
    label: str
    account: str | None


@dataclass
class Composed:
    """A parsed ``通知 …`` command: its target words and its body."""

    target: Target
    body: str
    collection: Any = None  # bot.services.collections.CollectionSpec


def _district_staff(actor: Actor) -> bool:
    return any(g.name == RoleName.DISTRICT_STAFF and g.compound_id is None and g.community_id is None
               for g in actor.roles.grants)


def _community_ids_of(actor: Actor) -> list[int]:
    return sorted({g.community_id for g in actor.roles.grants
                   if g.name == RoleName.COMMUNITY_STAFF and g.community_id is not None})


def can_send_to(deps: Deps, actor: Actor, compound_id: int) -> bool:
    return actor.roles.is_staff_for(compound_id)


def is_notice_staff(actor: Actor) -> bool:
    return actor.roles.has_any(STAFF_ROLES)


def default_target(deps: Deps, actor: Actor, compound_id: int | None) -> Target:
    """No scope word: the group's compound; privately, the actor's own area."""
    if compound_id is not None:
        return compound_target(deps, actor, compound_id)
    if _district_staff(actor):
        return district_target(deps, actor)
    communities = _community_ids_of(actor)
    if communities:
        return community_target(deps, actor, communities)
    mine = actor.roles.compounds_with([RoleName.SECRETARY], deps.org.compounds)
    if len(mine) == 1:
        return compound_target(deps, actor, mine[0])
    if mine:
        raise ServiceError(T.NO_COMPOUND)
    raise ServiceError(T.NOT_STAFF if not is_notice_staff(actor) else T.NO_COMPOUND)


def compound_target(deps: Deps, actor: Actor, compound_id: int, building: str | None = None) -> Target:
    name = deps.org.name_of(compound_id)
    if not can_send_to(deps, actor, compound_id):
        raise ServiceError(T.NOT_YOUR_COMPOUND.format(compound=name))
    if building:
        return Target("building", f"{name} {building_label(building)}", (compound_id,), building=building)
    return Target("compound", name, (compound_id,))


def community_target(deps: Deps, actor: Actor, community_ids: Sequence[int]) -> Target:
    compounds = tuple(sorted(c for c, k in deps.org.community_of.items() if k in community_ids))
    if not compounds or not all(can_send_to(deps, actor, c) for c in compounds):
        raise ServiceError(T.NOT_COMMUNITY)
    names = "、".join(deps.org.communities.get(k, "") for k in community_ids)
    return Target("community", f"{names}（{len(compounds)}个小区）", compounds, tuple(community_ids))


def district_target(deps: Deps, actor: Actor) -> Target:
    if not _district_staff(actor):
        raise ServiceError(T.NOT_DISTRICT)
    return Target("district", f"全区（{len(deps.org.compounds)}个小区）", tuple(sorted(deps.org.compounds)))


async def parse_scope(deps: Deps, actor: Actor, args: str, compound_id: int | None) -> tuple[Target, str]:
    """Scope words at the start of ``通知 …``: 全区 / 全社区 / a compound name / 3号楼 (any order)."""
    rest = args.strip()
    compound: int | None = None
    building: str | None = None
    scope_word: str | None = None
    for _ in range(3):
        m = _SPLIT.match(rest)
        if not m:
            break
        token, tail = m.group(1), m.group(2)
        if token in ("全区", "全部小区") and scope_word is None:
            scope_word = "district"
        elif token in ("全社区", "本社区") and scope_word is None:
            scope_word = "community"
        elif building is None and (number := building_of(token)):
            building = number
        elif compound is None and token in deps.org.by_name:
            compound = deps.org.by_name[token].id
        else:
            break
        rest = tail.strip()
    if scope_word == "district":
        return district_target(deps, actor), rest
    if scope_word == "community":
        base = compound or compound_id
        ids = [deps.org.community_of[base]] if base in deps.org.community_of else _community_ids_of(actor)
        if not ids:
            raise ServiceError(T.NOT_COMMUNITY)
        return community_target(deps, actor, ids), rest
    if compound is not None:
        target = compound_target(deps, actor, compound, building)
    elif building is not None:
        base = compound_id
        if base is None:
            mine = actor.roles.compounds_with(STAFF_ROLES, deps.org.compounds)
            if len(mine) != 1:
                raise ServiceError(T.BUILDING_NEEDS_ONE_COMPOUND)
            base = mine[0]
        target = compound_target(deps, actor, base, building)
    else:
        target = default_target(deps, actor, compound_id)
    if target.building is not None:
        await _check_building(deps, target.compound_ids[0], target.building)
    return target, rest


async def _check_building(deps: Deps, compound_id: int, building: str) -> None:
    known = list((await deps.session.execute(
        select(Building.number).where(Building.compound_id == compound_id))).scalars())
    if known and building not in known:
        ordered = sorted(known, key=lambda b: (len(b), b))
        raise ServiceError(T.UNKNOWN_BUILDING.format(compound=deps.org.name_of(compound_id), building=building,
                                                     known="、".join(building_label(b) for b in ordered)))


async def resolve_recipients(deps: Deps, target: dict[str, Any]) -> list[Recipient]:
    """The groups (or, for a building without a group, the people) a target means right now."""
    session = deps.session
    scope = target.get("scope")
    if scope == "district":
        where = ChatGroup.compound_id.is_not(None)
    elif scope == "community":
        ids = [c for c, k in deps.org.community_of.items() if k in set(target.get("community_ids") or [])]
        where = ChatGroup.compound_id.in_(ids)
    else:
        where = ChatGroup.compound_id.in_(target.get("compound_ids") or [])
    building = target.get("building")
    if building:
        where = and_(where, ChatGroup.building == building)
    groups = (await session.execute(
        select(ChatGroup.id, ChatGroup.compound_id, ChatGroup.topic, ChatGroup.account)
        .where(where, ChatGroup.active.is_(True), ~is_duty_group())  # staff duty groups get alerts, not notices
        .order_by(ChatGroup.compound_id, ChatGroup.id))).all()
    if groups or not building:
        return [Recipient(g.id, None, g.compound_id, g.topic, g.account) for g in groups]
    compound_id = (target.get("compound_ids") or [None])[0]
    reachable = select(Identity.person_id).where(Identity.active.is_(True))
    people = (await session.execute(
        select(Person.id, Person.name).where(Person.compound_id == compound_id, Person.building == building,
                                             Person.id.in_(reachable)).order_by(Person.id))).all()
    return [Recipient(None, p.id, compound_id, p.name, None) for p in people]


# ---------------------------------------------------------------- creating
@dataclass
class NoticePlan:
    notice: Notice
    recipients: list[Recipient] = field(default_factory=list)
    collection: Collection | None = None

    @property
    def needs_confirm(self) -> bool:
        return self.notice.status == NoticeStatus.DRAFT

    @property
    def unit(self) -> str:
        return T.UNIT_PERSON if self.recipients and self.recipients[0].group_id is None else T.UNIT_GROUP

    def targets_text(self, limit: int = 5) -> str:
        names = [r.label for r in self.recipients[:limit]]
        return "、".join(names) + (T.PREVIEW_MORE if len(self.recipients) > limit else "")


def _event(deps: Deps, actor: Actor | None, notice: Notice, action: str, from_state: str | None,
           note: str | None = None) -> None:
    deps.session.add(Event(
        subject_kind="notice", subject_id=notice.id, action=action, at=deps.clock.now(),
        actor_person_id=actor.person_id if actor else None, actor_web_user=actor.web_user if actor else None,
        from_state=from_state, to_state=notice.status, note=note))


def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ServiceError(T.EMPTY)
    if len(text) > MAX_CHARS:
        raise ServiceError(T.TOO_LONG.format(length=len(text), limit=MAX_CHARS))
    return text


def check_send_at(deps: Deps, send_at: datetime | None) -> None:
    if send_at is None:
        return
    now = deps.clock.now()
    if send_at <= now:
        raise ServiceError(T.TIME_PAST.format(when=fmt_time(deps, send_at)))
    if send_at - now > MAX_AHEAD:
        raise ServiceError(T.TIME_TOO_FAR.format(days=MAX_AHEAD.days))


def fmt_time(deps: Deps, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return timefmt.moment_near(deps.clock.local(moment), deps.clock.local().date())


async def create_notice(deps: Deps, actor: Actor, text: str, target: Target, *,
                        send_at: datetime | None = None, collection: Any = None,
                        origin_group_id: int | None = None) -> NoticePlan:
    """A new notice: sent (or scheduled) at once for one target, else a draft awaiting 确认."""
    text = check_text(text)
    check_send_at(deps, send_at)
    now = deps.clock.now()
    recipients = await resolve_recipients(deps, target.as_json())
    if not recipients:
        extra = T.NO_TARGETS_BUILDING if target.building else ""
        raise ServiceError(T.NO_TARGETS.format(label=target.label, extra=extra))
    notice = Notice(
        kind="collection" if collection is not None else "notice", status=NoticeStatus.DRAFT, text=text,
        scope=target.scope, scope_label=target.label[:255], target=target.as_json(),
        target_count=len(recipients),
        compound_id=target.compound_ids[0] if len(target.compound_ids) == 1 else None,
        community_id=target.community_ids[0] if len(target.community_ids) == 1 else
        (deps.org.community_of.get(target.compound_ids[0]) if len(target.compound_ids) == 1 else None),
        author_person_id=actor.person_id, author_web_user=actor.web_user, author_name=actor.name[:64],
        origin_group_id=origin_group_id, created_at=now, send_at=send_at,
    )
    deps.session.add(notice)
    await deps.session.flush()
    row = None
    if collection is not None:
        row = Collection(notice_id=notice.id, title=collection.title[:64], fields=list(collection.fields),
                         deadline=collection.deadline)
        deps.session.add(row)
        await deps.session.flush()
        from bot.services.collections import collections_changed  # (collections imports this module)

        collections_changed()  # the answer hook's "is any collection running?" gate looks again
    plan = NoticePlan(notice, recipients, row)
    if len(recipients) > 1:
        notice.draft_expires_at = now + DRAFT_TTL
        _event(deps, actor, notice, "drafted", None, note=f"{len(recipients)} targets")
        return plan
    _event(deps, actor, notice, "created", None)
    await _confirmed(deps, actor, notice, plan)
    return plan


async def _confirmed(deps: Deps, actor: Actor, notice: Notice, plan: NoticePlan | None = None) -> None:
    now = deps.clock.now()
    before = notice.status
    notice.confirmed_at = now
    notice.draft_expires_at = None
    if notice.send_at is not None and notice.send_at > now:
        notice.status = NoticeStatus.SCHEDULED
        _event(deps, actor, notice, "scheduled", before, note=fmt_time(deps, notice.send_at))
        return
    recipients = await fan_out(deps, notice, actor=actor)
    if plan is not None:
        plan.recipients = recipients


async def latest_draft(deps: Deps, actor: Actor) -> Notice | None:
    query = select(Notice).where(Notice.status == NoticeStatus.DRAFT)
    if actor.person_id is not None:
        query = query.where(Notice.author_person_id == actor.person_id)
    else:
        query = query.where(Notice.author_web_user == actor.web_user)
    return (await deps.session.execute(query.order_by(Notice.id.desc()).limit(1))).scalar_one_or_none()


def is_author(notice: Notice, actor: Actor) -> bool:
    if actor.person_id is not None:
        return notice.author_person_id == actor.person_id
    return actor.web_user is not None and notice.author_web_user == actor.web_user


def _may_manage(deps: Deps, notice: Notice, actor: Actor) -> bool:
    """The author, or staff over every compound the notice reaches (a community over its secretaries)."""
    if is_author(notice, actor):
        return True
    target = notice.target or {}
    if target.get("scope") == "district":
        return _district_staff(actor)
    compounds = target.get("compound_ids") or []
    return bool(compounds) and all(actor.roles.is_staff_for(c) for c in compounds)


async def get_notice(deps: Deps, actor: Actor, notice_id: int) -> Notice:
    notice = await deps.session.get(Notice, notice_id)
    if notice is None:
        raise ServiceError(T.NOT_FOUND.format(id=notice_id))
    if not _may_manage(deps, notice, actor):
        raise ServiceError(T.NOT_AUTHOR.format(id=notice_id))
    return notice


async def confirm_notice(deps: Deps, actor: Actor, notice_id: int | None = None) -> NoticePlan:
    """确认: send (or schedule) the actor's draft."""
    if notice_id is None:
        notice = await latest_draft(deps, actor)
        if notice is None:
            raise ServiceError(T.NO_DRAFT)
    else:
        notice = await deps.session.get(Notice, notice_id)
        if notice is None or notice.status != NoticeStatus.DRAFT:
            raise ServiceError(T.NOT_FOUND.format(id=notice_id) if notice is None else T.NO_DRAFT)
        if not is_author(notice, actor):
            raise ServiceError(T.NOT_AUTHOR.format(id=notice_id))
    now = deps.clock.now()
    if notice.draft_expires_at is not None and notice.draft_expires_at < now:
        before = notice.status
        notice.status = NoticeStatus.EXPIRED
        _event(deps, actor, notice, "expired", before)
        raise ServiceError(T.DRAFT_EXPIRED.format(id=notice.id, minutes=int(DRAFT_TTL.total_seconds() // 60)))
    if notice.send_at is not None and notice.send_at <= now:
        notice.send_at = None  # the preview outlived its scheduled time: send now
    collection = (await deps.session.execute(
        select(Collection).where(Collection.notice_id == notice.id))).scalar_one_or_none()
    plan = NoticePlan(notice, await resolve_recipients(deps, notice.target), collection)
    _event(deps, actor, notice, "confirmed", notice.status)
    await _confirmed(deps, actor, notice, plan)
    return plan


@dataclass(frozen=True)
class CancelResult:
    notice: Notice
    stopped: int = 0
    sent: int = 0

    @property
    def partly(self) -> bool:
        return self.notice.sent_at is not None


async def cancel_notice(deps: Deps, actor: Actor, notice_id: int) -> CancelResult:
    """撤回: a draft or scheduled notice is never sent; a fan-out in progress stops."""
    notice = await get_notice(deps, actor, notice_id)
    before = notice.status
    now = deps.clock.now()
    if notice.status in PENDING_STATUSES:
        notice.status = NoticeStatus.CANCELLED
        notice.cancelled_at = now
        _event(deps, actor, notice, "cancelled", before)
        return CancelResult(notice)
    if notice.status != NoticeStatus.SENT:
        raise ServiceError(T.ALREADY_DONE.format(id=notice.id, state=T.STATE_LABELS.get(notice.status, notice.status)))
    deliveries = select(NoticeDelivery.id).where(NoticeDelivery.notice_id == notice.id)
    result = await deps.session.execute(update(OutboxMessage).where(
        OutboxMessage.ref_kind == REF_KIND, OutboxMessage.ref_id.in_(deliveries),
        OutboxMessage.status == OutboxStatus.PENDING,
    ).values(status=OutboxStatus.CANCELLED, error="通知已撤回"))
    stopped = result.rowcount or 0
    if not stopped:
        raise ServiceError(T.ALREADY_SENT.format(id=notice.id))
    await sync_deliveries(deps, [notice.id])
    sent = (await deps.session.execute(select(func.count()).where(
        NoticeDelivery.notice_id == notice.id, NoticeDelivery.status == DeliveryStatus.SENT))).scalar_one()
    notice.status = NoticeStatus.CANCELLED
    notice.cancelled_at = now
    _event(deps, actor, notice, "cancelled", before, note=f"stopped {stopped}")
    return CancelResult(notice, stopped=stopped, sent=sent)


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
        from bot.services.collections import render_request

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
    _event(deps, actor, notice, "sent", before, note=f"{len(recipients)} deliveries")
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
            _event(deps, None, notice, "missed", NoticeStatus.SCHEDULED, note=f"due {notice.send_at.isoformat()}")
            if notice.author_person_id is not None:
                deps.outbox.enqueue(deps.session, T.MISSED_TO_AUTHOR.format(
                    id=notice.id, when=fmt_time(deps, notice.send_at), hours=int(LATE_GRACE.total_seconds() // 3600)),
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


async def expire_drafts(deps: Deps) -> int:
    now = deps.clock.now()
    drafts = list((await deps.session.execute(select(Notice).where(
        Notice.status == NoticeStatus.DRAFT, Notice.draft_expires_at < now))).scalars())
    for notice in drafts:
        notice.status = NoticeStatus.EXPIRED
        _event(deps, None, notice, "expired", NoticeStatus.DRAFT)
    return len(drafts)


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


# ---------------------------------------------------------------- reading
def _visible(deps: Deps, actor: Actor):  # noqa: ANN202
    """Notices the actor wrote, or that reach compounds the actor is staff for."""
    conditions = []
    if actor.person_id is not None:
        conditions.append(Notice.author_person_id == actor.person_id)
    if actor.web_user is not None:
        conditions.append(Notice.author_web_user == actor.web_user)
    compounds = actor.roles.compounds_with(STAFF_ROLES, deps.org.compounds)
    if compounds:
        conditions.append(Notice.compound_id.in_(compounds))
    communities = {deps.org.community_of[c] for c in compounds if c in deps.org.community_of}
    if communities:
        conditions.append(and_(Notice.compound_id.is_(None), Notice.community_id.in_(communities)))
    if _district_staff(actor):
        conditions.append(Notice.scope == "district")
    return or_(*conditions) if conditions else Notice.id.is_(None)


@dataclass
class NoticeLine:
    notice: Notice
    counts: DeliveryCounts
    acks: int
    answers: int | None


async def list_notices(deps: Deps, actor: Actor, limit: int = 10) -> list[NoticeLine]:
    """Pending ones first, then the most recent, for 通知列表 and the dashboard."""
    visible = _visible(deps, actor)
    pending = list((await deps.session.execute(select(Notice).where(
        visible, Notice.status.in_(list(PENDING_STATUSES))).order_by(Notice.id.desc()).limit(limit))).scalars())
    recent = list((await deps.session.execute(select(Notice).where(
        visible, Notice.status.not_in(list(PENDING_STATUSES))).order_by(Notice.id.desc())
        .limit(max(0, limit - len(pending))))).scalars())
    notices = pending + recent
    ids = [n.id for n in notices]
    await sync_deliveries(deps, ids)
    counts = await delivery_counts(deps, ids)
    acks = await ack_counts(deps, ids)
    from bot.services.collections import answer_counts

    answers = await answer_counts(deps, ids)
    return [NoticeLine(n, counts.get(n.id, DeliveryCounts()), acks.get(n.id, 0), answers.get(n.id)) for n in notices]


@dataclass
class NoticeDetail:
    notice: Notice
    deliveries: list[NoticeDelivery]
    acks_by_delivery: dict[int, int]
    acks: int
    counts: DeliveryCounts


async def notice_detail(deps: Deps, actor: Actor, notice_id: int) -> NoticeDetail:
    notice = await get_notice(deps, actor, notice_id)
    await sync_deliveries(deps, [notice.id])
    deliveries = list((await deps.session.execute(select(NoticeDelivery).where(
        NoticeDelivery.notice_id == notice.id).order_by(NoticeDelivery.id))).scalars())
    by_delivery = dict((await deps.session.execute(select(NoticeAck.delivery_id, func.count()).where(
        NoticeAck.notice_id == notice.id).group_by(NoticeAck.delivery_id))).all())
    counts = (await delivery_counts(deps, [notice.id])).get(notice.id, DeliveryCounts())
    return NoticeDetail(notice, deliveries, by_delivery, sum(by_delivery.values()), counts)


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
    from bot.models import Role
    from bot.models.notices import CollectionAnswer

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
    from bot.models import Role

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
            label = T.BUILDING_KEY.format(building=building)
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
    _event(deps, actor, silent.notice, "leaders_reminded", silent.notice.status, note="；".join(reminded)[:500])
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
