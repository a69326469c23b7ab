"""Read-only views of tickets for chat, dashboard and digests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timefmt
from bot.models import Event
from bot.models.tickets import OPEN_STATES, AgendaItem, DiscussionDay, Ticket, TicketReporter, TicketState
from bot.services import Actor, Deps
from bot.services.names import person_names
from bot.services.tickets.naming import fmt_span, quote, ticket_code
from bot.services.tickets.policy import SUBJECT, category_label
from bot.services.tickets.rights import visible_compounds
from bot.texts import agenda as TA
from bot.texts import tickets as T


@dataclass(frozen=True)
class TicketView:
    id: int
    code: str
    number: int
    compound_id: int
    compound: str
    state: str
    state_label: str
    category: str
    category_label: str
    urgent: bool
    location: str
    summary: str              # masked, shortened report
    reporters_count: int
    assignee_label: str | None
    assignee_person_id: int | None
    created_at: datetime
    first_response_due: datetime | None
    resolve_due: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    overdue: bool
    supervised: bool
    reopen_count: int
    satisfaction: str | None
    hotline_order_no: str | None
    channel: str
    first_response_at: datetime | None = None


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    if ticket.state not in OPEN_STATES:
        return False
    if ticket.resolve_due is not None and ticket.resolve_due <= now:
        return True
    return (ticket.first_response_at is None and ticket.first_response_due is not None
            and ticket.first_response_due <= now)


def ticket_view(deps: Deps, ticket: Ticket) -> TicketView:
    return TicketView(
        id=ticket.id, code=ticket_code(deps.org, ticket), number=ticket.number, compound_id=ticket.compound_id,
        compound=deps.org.name_of(ticket.compound_id), state=ticket.state,
        state_label=T.STATE_LABELS.get(ticket.state, ticket.state), category=ticket.category,
        category_label=category_label(ticket.category), urgent=ticket.urgent, location=ticket.location,
        summary=quote(ticket.text), reporters_count=ticket.reporters_count, assignee_label=ticket.assignee_label,
        assignee_person_id=ticket.assignee_person_id, created_at=ticket.created_at,
        first_response_due=ticket.first_response_due, resolve_due=ticket.resolve_due,
        resolved_at=ticket.resolved_at, closed_at=ticket.closed_at,
        overdue=is_overdue(ticket, deps.clock.now()), supervised=ticket.supervised,
        reopen_count=ticket.reopen_count, satisfaction=ticket.satisfaction,
        hotline_order_no=ticket.hotline_order_no, channel=ticket.channel,
        first_response_at=ticket.first_response_at)


async def meeting_times(session: AsyncSession, ticket_ids: Sequence[int], now: datetime) -> dict[int, datetime]:
    """Ticket id → start of the discussion day it waits for (tickets on a coming day's agenda)."""
    if not ticket_ids:
        return {}
    rows = await session.execute(
        select(AgendaItem.ticket_id, DiscussionDay.starts_at)
        .join(DiscussionDay, DiscussionDay.id == AgendaItem.discussion_day_id)
        .where(AgendaItem.ticket_id.in_(list(ticket_ids)), AgendaItem.state == "open",
               DiscussionDay.state == "planned", DiscussionDay.starts_at > now))
    return {ticket_id: starts_at for ticket_id, starts_at in rows}


def due_text(deps: Deps, *, urgent: bool, first_response_at: datetime | None, first_response_due: datetime | None,
             resolve_due: datetime | None, meeting: datetime | None, now: datetime) -> str:
    """The deadline that matters now, as people read it: the meeting for an agenda ticket; for an
    urgent ticket nobody answered, the first response in minutes (its 24-hour resolve deadline would
    read as leisurely); else the resolve deadline."""
    if meeting is not None:
        return T.DUE_SEP + TA.WAITING.format(when=timefmt.stored(deps.clock, meeting))
    if urgent and first_response_at is None and first_response_due is not None:
        if first_response_due <= now:
            return T.DUE_RESPONSE_OVERDUE.format(ago=fmt_span(now - first_response_due))
        # "within N minutes": round up, so 28.5 minutes left reads 29 (still true), never 28.
        left = -(-(first_response_due - now) // timedelta(minutes=1))
        return T.DUE_RESPOND.format(left=fmt_span(timedelta(minutes=left)))
    if resolve_due is None:
        return ""
    if resolve_due <= now:
        return T.DUE_OVERDUE.format(ago=fmt_span(now - resolve_due))
    return T.DUE_LEFT.format(left=fmt_span(resolve_due - now))


def _sort_key(view: TicketView) -> tuple:
    """督办 or overdue first, then urgent, then the nearest deadline."""
    due = view.resolve_due or view.created_at
    return (not view.supervised and not view.overdue, not view.overdue, not view.urgent, due, view.id)


async def list_tickets(deps: Deps, actor: Actor, *, compound_ids: Sequence[int] | None = None,
                       states: Sequence[str] | None = OPEN_STATES, overdue_only: bool = False,
                       supervised_only: bool = False, category: str | None = None,
                       since: datetime | None = None, until: datetime | None = None,
                       limit: int = 200) -> list[TicketView]:
    """Tickets ``actor`` may see, filtered; 督办/overdue first, then urgent, then by due time."""
    allowed = set(visible_compounds(deps, actor))
    wanted = [c for c in (compound_ids if compound_ids is not None else allowed) if c in allowed]
    if not wanted:
        return []
    query = select(Ticket).where(Ticket.compound_id.in_(wanted))
    if states:
        query = query.where(Ticket.state.in_(list(states)))
    if category:
        query = query.where(Ticket.category == category)
    if supervised_only:
        query = query.where(Ticket.supervised.is_(True))
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    if until is not None:
        query = query.where(Ticket.created_at < until)
    rows = (await deps.session.execute(query.order_by(Ticket.id.desc()).limit(5000))).scalars().all()
    views = [ticket_view(deps, t) for t in rows]
    if overdue_only:
        views = [v for v in views if v.overdue]
    views.sort(key=_sort_key)
    return views[:limit]


async def overdue_tickets(session: AsyncSession, now: datetime,
                          compound_ids: Sequence[int] | None = None) -> list[Ticket]:
    """Open tickets past a deadline (first response or resolution), oldest due first."""
    query = select(Ticket).where(
        Ticket.state.in_(OPEN_STATES),
        or_(Ticket.resolve_due <= now,
            and_(Ticket.first_response_at.is_(None), Ticket.first_response_due <= now)))
    if compound_ids is not None:
        query = query.where(Ticket.compound_id.in_(list(compound_ids)))
    rows = (await session.execute(query)).scalars().all()
    return sorted(rows, key=lambda t: (not t.supervised, t.resolve_due or t.created_at, t.id))


async def new_tickets(session: AsyncSession, compound_id: int, since: datetime,
                      until: datetime | None = None) -> list[Ticket]:
    query = select(Ticket).where(Ticket.compound_id == compound_id, Ticket.created_at >= since,
                                 Ticket.state != TicketState.MERGED)
    if until is not None:
        query = query.where(Ticket.created_at < until)
    return list((await session.execute(query.order_by(Ticket.id))).scalars())


@dataclass
class TimelineEntry:
    at: datetime
    action: str
    label: str
    actor: str
    from_state: str | None
    to_state: str | None
    note: str | None


async def ticket_timeline(deps: Deps, ticket: Ticket) -> list[TimelineEntry]:
    events = (await deps.session.execute(select(Event).where(
        Event.subject_kind == SUBJECT, Event.subject_id == ticket.id).order_by(Event.at, Event.id))).scalars().all()
    names = await person_names(deps.session, [e.actor_person_id for e in events])
    return [TimelineEntry(
        at=e.at, action=e.action, label=T.EVENT_LABELS.get(e.action, e.action),
        actor=names.get(e.actor_person_id or 0) or e.actor_web_user or "系统",
        from_state=e.from_state, to_state=e.to_state, note=e.note) for e in events]


async def my_tickets(session: AsyncSession, person_id: int, *, limit: int = 10) -> tuple[list[Ticket], list[Ticket]]:
    """(tickets the person reported, newest first; open tickets assigned to them)."""
    reported = list((await session.execute(
        select(Ticket).join(TicketReporter, TicketReporter.ticket_id == Ticket.id)
        .where(TicketReporter.person_id == person_id).order_by(Ticket.created_at.desc()).limit(limit))).scalars())
    assigned = list((await session.execute(select(Ticket).where(
        Ticket.assignee_person_id == person_id, Ticket.state.in_(OPEN_STATES))
        .order_by(Ticket.resolve_due).limit(limit))).scalars())
    return reported, assigned
