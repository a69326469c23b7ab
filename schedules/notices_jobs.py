"""Notices on time: scheduled sending, draft expiry, collection reminders and closing, and
delivery records brought up to date from the outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select

from bot.models.notices import Collection, DeliveryStatus, Notice, NoticeDelivery, NoticeStatus
from bot.services import collections, notice_delivery, notices
from schedules.context import job_deps
from schedules.registry import every, next_work


@every("notices.tick", minutes=1)
async def tick(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        notice_work, open_collections = await notice_delivery.work_due(deps)
        if notice_work:
            await notices.expire_drafts(deps)
            await notice_delivery.dispatch_due(deps)
        if open_collections:
            await collections.remind_due(deps)
            await collections.close_due(deps)
        if notice_work:
            settled = await notice_delivery.sync_deliveries(deps)
            await notice_delivery.report_settled(deps, settled)


@next_work("notices.tick")
async def tick_due(app, after: datetime) -> datetime | None:  # noqa: ANN001
    """A scheduled send, a draft's expiry, a collection's reminder or close; now while
    deliveries wait on the outbox (they are synced every minute)."""
    async with app.worker_sessions() as session:
        waiting, send_at, expires_at = (await session.execute(select(  # one read for the three
            exists().where(NoticeDelivery.status == DeliveryStatus.PENDING),
            select(func.min(Notice.send_at)).where(Notice.status == NoticeStatus.SCHEDULED).scalar_subquery(),
            select(func.min(Notice.draft_expires_at)).where(Notice.status == NoticeStatus.DRAFT).scalar_subquery(),
        ))).one()
        if waiting:
            return after
        moments = [send_at, expires_at]
        for deadline, sent_at, created_at in (await session.execute(
                select(Collection.deadline, Notice.sent_at, Notice.created_at)
                .join(Notice, Notice.id == Collection.notice_id).where(Collection.closed_at.is_(None)))).all():
            if deadline is not None:
                # The reminder goes at most REMIND_BEFORE ahead of the deadline: never later.
                moments.append(deadline - collections.REMIND_BEFORE)
            else:
                moments.append((sent_at or created_at) + collections.OPEN_WITHOUT_DEADLINE)
    return min((m for m in moments if m is not None), default=None)
