"""Ticket jobs: the deadline sweep (督办 to the community committee, auto-close of resolved
tickets nobody confirmed) and the reminder the day before a discussion day."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.services import agenda as A
from bot.services.tickets import sweeps
from schedules.context import job_deps
from schedules.registry import daily, every

log = logging.getLogger(__name__)


@every("tickets.sweep", minutes=5)
async def sweep(app, now: datetime) -> None:  # noqa: ANN001
    """Every 5 minutes: the urgent first-response deadline is 30 minutes, so this is precise enough."""
    async with job_deps(app) as deps:
        escalated = await sweeps.escalate_overdue(deps, deps.clock.now())
        closed = await sweeps.close_unconfirmed(deps, deps.clock.now())
    if escalated or closed:
        log.info("tickets sweep: %d escalated, %d auto-closed", escalated, closed)
        app.outbox.notify()


@daily("tickets.agenda_reminder", hour=9, minute=0, grace=timedelta(hours=10))
async def agenda_reminder(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        count = await A.remind_tomorrow(deps)
    if count:
        app.outbox.notify()
