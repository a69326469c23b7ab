"""Notices on time: scheduled sending, draft expiry, collection reminders and closing, and
delivery records brought up to date from the outbox."""
from __future__ import annotations

from datetime import datetime

from bot.services import collections, notice_delivery, notices
from schedules.context import job_deps
from schedules.registry import every


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
