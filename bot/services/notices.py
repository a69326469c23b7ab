"""Notices: compose (a draft awaiting 确认, or sent / scheduled at once), confirm, cancel, expire
drafts, and the lists staff read. One implementation for chat (handlers/notices.py), the dashboard
and the schedules; targets and rights live in ``notice_targets``, sending and 收到 in
``notice_delivery``, structured collections (接龙) in ``collections``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from bot import timefmt
from bot.models import OutboxMessage, OutboxStatus
from bot.models.notices import Collection, DeliveryStatus, Notice, NoticeAck, NoticeDelivery, NoticeStatus, PENDING_STATUSES
from bot.roles import STAFF_ROLES
from bot.services import Actor, Deps, ServiceError
from bot.services.collections import answer_counts, collections_changed
from bot.services.notice_delivery import (
    REF_KIND, DeliveryCounts, delivery_counts, ack_counts, fan_out, notice_event, sync_deliveries,
)
from bot.services.notice_targets import Recipient, Target, district_staff, get_notice, is_author, resolve_recipients
from bot.texts import notices as T

MAX_CHARS = 1500                       # one notice; the outbox splits long texts anyway
DRAFT_TTL = timedelta(minutes=30)      # a preview waits this long for 确认
MAX_AHEAD = timedelta(days=180)        # how far ahead a notice may be scheduled


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
        raise ServiceError(T.TIME_PAST.format(when=timefmt.stored(deps.clock, send_at)))
    if send_at - now > MAX_AHEAD:
        raise ServiceError(T.TIME_TOO_FAR.format(days=MAX_AHEAD.days))



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
        collections_changed()  # the answer hook's "is any collection running?" gate looks again
    plan = NoticePlan(notice, recipients, row)
    if len(recipients) > 1:
        notice.draft_expires_at = now + DRAFT_TTL
        notice_event(deps, actor, notice, "drafted", None, note=f"{len(recipients)} targets")
        return plan
    notice_event(deps, actor, notice, "created", None)
    await _confirmed(deps, actor, notice, plan)
    return plan


async def _confirmed(deps: Deps, actor: Actor, notice: Notice, plan: NoticePlan | None = None) -> None:
    now = deps.clock.now()
    before = notice.status
    notice.confirmed_at = now
    notice.draft_expires_at = None
    if notice.send_at is not None and notice.send_at > now:
        notice.status = NoticeStatus.SCHEDULED
        notice_event(deps, actor, notice, "scheduled", before, note=timefmt.stored(deps.clock, notice.send_at))
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
        notice_event(deps, actor, notice, "expired", before)
        raise ServiceError(T.DRAFT_EXPIRED.format(id=notice.id, minutes=int(DRAFT_TTL.total_seconds() // 60)))
    if notice.send_at is not None and notice.send_at <= now:
        notice.send_at = None  # the preview outlived its scheduled time: send now
    collection = (await deps.session.execute(
        select(Collection).where(Collection.notice_id == notice.id))).scalar_one_or_none()
    plan = NoticePlan(notice, await resolve_recipients(deps, notice.target), collection)
    notice_event(deps, actor, notice, "confirmed", notice.status)
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
        notice_event(deps, actor, notice, "cancelled", before)
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
    notice_event(deps, actor, notice, "cancelled", before, note=f"stopped {stopped}")
    return CancelResult(notice, stopped=stopped, sent=sent)


async def expire_drafts(deps: Deps) -> int:
    now = deps.clock.now()
    drafts = list((await deps.session.execute(select(Notice).where(
        Notice.status == NoticeStatus.DRAFT, Notice.draft_expires_at < now))).scalars())
    for notice in drafts:
        notice.status = NoticeStatus.EXPIRED
        notice_event(deps, None, notice, "expired", NoticeStatus.DRAFT)
    return len(drafts)


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
    if district_staff(actor):
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


