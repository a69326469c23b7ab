"""Ticket jobs: the deadline sweep (督办 to the community committee, auto-close of resolved
tickets nobody confirmed) and the reminder the day before a discussion day."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.models.tickets import OPEN_STATES, Ticket, TicketState
from bot.services import agenda as A
from bot.services.tickets import sweeps
from schedules.context import job_deps
from schedules.registry import daily, every, next_work

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


@next_work("tickets.sweep")
async def sweep_due(app, after: datetime) -> datetime | None:  # noqa: ANN001
    """The next deadline not yet escalated, or the next confirmation window to end. Tickets
    waiting for a discussion day count too: early is harmless, the sweep just finds nothing."""
    async with app.worker_sessions() as session:
        open_ = Ticket.state.in_(OPEN_STATES)
        moments = (await session.execute(select(
            select(func.min(Ticket.first_response_due)).where(
                open_, Ticket.first_response_at.is_(None), Ticket.response_escalated_at.is_(None)).scalar_subquery(),
            select(func.min(Ticket.resolve_due)).where(open_, Ticket.resolve_escalated_at.is_(None)).scalar_subquery(),
            select(func.min(Ticket.confirm_due)).where(Ticket.state == TicketState.RESOLVED).scalar_subquery(),
        ))).one()
    return min((m for m in moments if m is not None), default=None)


@daily("tickets.agenda_reminder", hour=9, minute=0, grace=timedelta(hours=10))
async def agenda_reminder(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        count = await A.remind_tomorrow(deps)
    if count:
        app.outbox.notify()
