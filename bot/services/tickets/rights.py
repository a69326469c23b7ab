"""Who may do what with a ticket (支部先议: the branch handles first), and the system actor."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models.tickets import OPEN_STATES, Ticket, TicketState
from bot.roles import HANDLING_ROLES, Roles
from bot.services import Actor, Deps, ServiceError
from bot.services.tickets.naming import ticket_code
from bot.services.tickets.people import reporter_row
from bot.texts import tickets as T


SYSTEM = Actor(name="系统", roles=Roles((), {}))  # schedules and automatic steps


def can_handle(actor: Actor, compound_id: int) -> bool:
    """支部先议: the compound's secretary and its delegates; community staff in their community."""
    return actor.is_system or actor.roles.has_any(HANDLING_ROLES, compound_id)


def is_assignee(actor: Actor, ticket: Ticket) -> bool:
    return actor.person_id is not None and actor.person_id == ticket.assignee_person_id


async def is_reporter(session: AsyncSession, actor: Actor, ticket: Ticket) -> bool:
    if actor.person_id is None:
        return False
    return await reporter_row(session, ticket.id, actor.person_id) is not None


def require_handler(deps: Deps, actor: Actor, ticket: Ticket) -> None:
    if not can_handle(actor, ticket.compound_id):
        raise ServiceError(T.NO_RIGHT_HANDLE.format(compound=deps.org.name_of(ticket.compound_id)))


def require_handler_or_assignee(deps: Deps, actor: Actor, ticket: Ticket, action: str) -> None:
    if not (can_handle(actor, ticket.compound_id) or is_assignee(actor, ticket)):
        raise ServiceError(T.NO_RIGHT_RESOLVE.format(compound=deps.org.name_of(ticket.compound_id), action=action))


async def require_view(deps: Deps, actor: Actor, ticket: Ticket) -> None:
    if can_handle(actor, ticket.compound_id) or is_assignee(actor, ticket):
        return
    if await is_reporter(deps.session, actor, ticket):
        return
    raise ServiceError(T.NO_RIGHT_VIEW)


async def require_open(deps: Deps, ticket: Ticket, action: str) -> None:
    """The ticket can still be worked on (new or assigned); else say why not."""
    if ticket.state in OPEN_STATES:
        return
    code = ticket_code(deps.org, ticket)
    if ticket.state == TicketState.RESOLVED:
        raise ServiceError(T.STATE_RESOLVED.format(code=code))
    if ticket.state == TicketState.REJECTED:
        raise ServiceError(T.STATE_REJECTED.format(code=code))
    if ticket.state == TicketState.MERGED:
        target = await deps.session.get(Ticket, ticket.merged_into_id) if ticket.merged_into_id else None
        raise ServiceError(T.STATE_MERGED.format(code=code, target=ticket_code(deps.org, target) if target else "其他工单"))
    raise ServiceError(T.STATE_CLOSED.format(code=code, action=action))


def visible_compounds(deps: Deps, actor: Actor) -> list[int]:
    """Compounds whose tickets ``actor`` may list (handling roles; system: all)."""
    if actor.is_system:
        return list(deps.org.compounds)
    return actor.roles.compounds_with(HANDLING_ROLES, deps.org.compounds)
