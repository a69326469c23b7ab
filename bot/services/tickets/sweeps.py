"""The scheduled sweeps: overdue tickets escalate, unconfirmed resolutions close."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from bot import timefmt
from bot.models.tickets import OPEN_STATES, Rating, Ticket, TicketReporter, TicketState
from bot.services import Deps
from bot.services.agenda import awaiting_meeting
from bot.services.tickets.events import DEFAULTED
from bot.services.tickets.resolution import close, worst_rating
from bot.services.tickets.rights import SYSTEM
from bot.services.tickets.supervision import supervise
from bot.texts import tickets as T


async def escalate_overdue(deps: Deps, now: datetime | None = None) -> int:
    """The sweep: open tickets past their first-response or resolution deadline are escalated
    to the community committee, once per deadline. Returns how many escalations."""
    now = now or deps.clock.now()
    rows = (await deps.session.execute(select(Ticket).where(
        # Tickets on a discussion day's agenda wait for the meeting.
        Ticket.state.in_(OPEN_STATES), Ticket.id.not_in(awaiting_meeting(now)),
        or_(and_(Ticket.first_response_at.is_(None), Ticket.first_response_due <= now,
                 Ticket.response_escalated_at.is_(None)),
            and_(Ticket.resolve_due <= now, Ticket.resolve_escalated_at.is_(None))))
        .order_by(Ticket.id))).scalars().all()
    count = 0
    for ticket in rows:
        if ticket.resolve_due is not None and ticket.resolve_due <= now and ticket.resolve_escalated_at is None:
            ticket.resolve_escalated_at = now
            ticket.response_escalated_at = ticket.response_escalated_at or now
            reason = T.REASON_RESOLVE_OVERDUE.format(due=timefmt.stored(deps.clock, ticket.resolve_due))
        else:
            ticket.response_escalated_at = now
            reason = T.REASON_RESPONSE_OVERDUE.format(due=timefmt.stored(deps.clock, ticket.first_response_due))
        await supervise(deps, SYSTEM, ticket, reason)
        count += 1
    return count


async def close_unconfirmed(deps: Deps, now: datetime | None = None) -> int:
    """Resolved tickets not everyone confirmed within the window close as resolved. The event
    counts the reporters who were asked and never answered: their rating is the default one."""
    now = now or deps.clock.now()
    rows = (await deps.session.execute(select(Ticket).where(
        Ticket.state == TicketState.RESOLVED, Ticket.confirm_due <= now).order_by(Ticket.id))).scalars().all()
    # Every such ticket's answers in one query (not one per ticket).
    answers_of: dict[int, list[tuple[str | None, datetime | None]]] = {ticket.id: [] for ticket in rows}
    if rows:
        for ticket_id, rating, asked in (await deps.session.execute(
                select(TicketReporter.ticket_id, TicketReporter.rating, TicketReporter.confirm_asked_at).where(
                    TicketReporter.ticket_id.in_(list(answers_of))))).all():
            answers_of[ticket_id].append((rating, asked))
    for ticket in rows:
        answers = answers_of[ticket.id]
        ratings = [rating for rating, _ in answers if rating is not None]
        silent = sum(1 for rating, asked in answers if rating is None and asked is not None)
        close(deps, SYSTEM, ticket, worst_rating(ratings) if ratings else Rating.DEFAULT, action="auto_closed",
              data={DEFAULTED: silent})
    return len(rows)
