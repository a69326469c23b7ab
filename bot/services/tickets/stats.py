"""Counts over tickets for the dashboard, digests and the monthly ranking."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Event
from bot.months import month_bounds
from bot.models.tickets import OPEN_STATES, Rating, Ticket, TicketState
from bot.services.tickets.events import DEFAULTED
from bot.services.tickets.policy import SUBJECT
from bot.services.tickets.queries import is_overdue


@dataclass(frozen=True)
class GivenRating:
    ticket_id: int
    compound_id: int
    rating: str
    at: datetime


async def ratings_given(session: AsyncSession, *, since: datetime, until: datetime | None = None,
                        compound_ids: Sequence[int] | None = None) -> list[GivenRating]:
    """Every rating given in [since, until): each reporter's answer ("rated" events) and, for
    those asked who never answered, the default rating of the auto-close. Read from the
    ticket's history, so a 不满意 stays counted after the ticket is resolved and rated again."""
    query = (select(Event.subject_id, Ticket.compound_id, Event.action, Event.to_state, Event.data, Event.at)
             .join(Ticket, Ticket.id == Event.subject_id)
             .where(Event.subject_kind == SUBJECT, Event.action.in_(("rated", "auto_closed")), Event.at >= since))
    if until is not None:
        query = query.where(Event.at < until)
    if compound_ids is not None:
        query = query.where(Ticket.compound_id.in_(list(compound_ids)))
    out: list[GivenRating] = []
    for ticket_id, compound_id, action, to_state, data, at in (await session.execute(query.order_by(Event.id))).all():
        if action == "rated":
            out.append(GivenRating(ticket_id, compound_id, to_state, at))
        else:
            out += [GivenRating(ticket_id, compound_id, Rating.DEFAULT, at)] * int((data or {}).get(DEFAULTED, 0))
    return out


@dataclass
class TicketStats:
    total: int
    by_state: dict[str, int]
    by_category: dict[str, int]
    by_satisfaction: dict[str, int]
    open: int
    overdue: int
    supervised: int
    urgent: int
    reopened: int
    rejected: int
    avg_resolve_hours: float | None
    satisfaction_rate: float | None  # (满意 + 基本满意) / rated, default closes excluded


async def ticket_stats(session: AsyncSession, *, now: datetime, compound_ids: Sequence[int] | None = None,
                       since: datetime | None = None, until: datetime | None = None) -> TicketStats:
    """Counts over tickets created in [since, until) (merged ones left out: they are duplicates)."""
    query = select(Ticket).where(Ticket.state != TicketState.MERGED)
    if compound_ids is not None:
        query = query.where(Ticket.compound_id.in_(list(compound_ids)))
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    if until is not None:
        query = query.where(Ticket.created_at < until)
    rows = (await session.execute(query)).scalars().all()
    by_state = Counter(t.state for t in rows)
    by_category = Counter(t.category for t in rows if t.state != TicketState.REJECTED)
    by_satisfaction = Counter(t.satisfaction for t in rows if t.satisfaction)
    hours = [(t.resolved_at - t.created_at).total_seconds() / 3600 for t in rows
             if t.resolved_at is not None]
    rated = by_satisfaction.get(Rating.SATISFIED, 0) + by_satisfaction.get(Rating.BASIC, 0) \
        + by_satisfaction.get(Rating.UNSATISFIED, 0)
    return TicketStats(
        total=len(rows), by_state=dict(by_state), by_category=dict(by_category),
        by_satisfaction=dict(by_satisfaction),
        open=sum(by_state.get(s, 0) for s in OPEN_STATES),
        overdue=sum(1 for t in rows if is_overdue(t, now)),
        supervised=sum(1 for t in rows if t.supervised), urgent=sum(1 for t in rows if t.urgent),
        reopened=sum(1 for t in rows if t.reopen_count), rejected=by_state.get(TicketState.REJECTED, 0),
        avg_resolve_hours=round(sum(hours) / len(hours), 1) if hours else None,
        satisfaction_rate=round((rated - by_satisfaction.get(Rating.UNSATISFIED, 0)) / rated, 3) if rated else None)


async def tickets_by_compound(session: AsyncSession, month: str, tz) -> dict[int, int]:  # noqa: ANN001
    start, end = month_bounds(month, tz)
    rows = (await session.execute(select(Ticket.compound_id, func.count()).where(
        Ticket.created_at >= start, Ticket.created_at < end,
        Ticket.state.not_in([TicketState.MERGED, TicketState.REJECTED])).group_by(Ticket.compound_id))).all()
    return {cid: n for cid, n in rows}
