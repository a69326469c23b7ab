"""Finding the ticket a chat message means: by reference, or the sender's latest."""
from __future__ import annotations

from datetime import timedelta
from typing import Sequence

from sqlalchemy import select, union

from bot.models.tickets import OPEN_STATES, Ticket, TicketReporter
from bot.services import Actor, Deps, ServiceError
from bot.services.tickets.naming import parse_ref, ticket_code
from bot.services.tickets.rights import can_handle
from bot.texts import tickets as T


async def find_ticket(deps: Deps, ref: str, compound_ids: Sequence[int], *, usage: str = "") -> Ticket:
    """A ticket by "0042" (among ``compound_ids``) or "阳光花园-0042" (anywhere)."""
    parsed = parse_ref(ref)
    if parsed is None:
        raise ServiceError(T.BAD_REF.format(usage=usage or T.PROGRESS_USAGE))
    name, number = parsed
    if name:
        info = deps.org.find(name)
        if info is None:
            raise ServiceError(T.NOT_FOUND.format(ref=ref.strip()[:40]))
        compound_ids = [info.id]
    if not compound_ids:
        raise ServiceError(T.NOT_FOUND.format(ref=ref.strip()[:40]))
    found = (await deps.session.execute(select(Ticket).where(
        Ticket.compound_id.in_(list(dict.fromkeys(compound_ids))), Ticket.number == number)
        .order_by(Ticket.compound_id))).scalars().all()
    if not found:
        raise ServiceError(T.NOT_FOUND.format(ref=ref.strip()[:40]))
    if len(found) > 1:
        codes = "、".join(ticket_code(deps.org, t) for t in found)
        raise ServiceError(T.AMBIGUOUS.format(ref=ref.strip(), codes=codes, example=ticket_code(deps.org, found[0])))
    return found[0]


async def actor_compounds(deps: Deps, actor: Actor, own_compound: int | None = None) -> list[int]:
    """Compounds a bare ticket number may refer to for this person: their own, where they hold a
    role, and where they reported or handle tickets."""
    ids: list[int] = [own_compound] if own_compound else []
    ids += actor.roles.compounds_with(actor.roles.names(), deps.org.compounds)
    if actor.person_id is not None:
        reported = (select(Ticket.compound_id).join(TicketReporter, TicketReporter.ticket_id == Ticket.id)
                    .where(TicketReporter.person_id == actor.person_id))
        handled = select(Ticket.compound_id).where(Ticket.assignee_person_id == actor.person_id)
        ids += (await deps.session.execute(union(reported, handled))).scalars().all()
    return list(dict.fromkeys(i for i in ids if i))


async def latest_ticket_of(deps: Deps, actor: Actor, *, group_id: int | None, within: timedelta) -> Ticket | None:
    """The ticket "不是问题" without a number means: the sender's latest open one; for a handler
    in a group, the group's latest open one."""
    since = deps.clock.now() - within
    query = select(Ticket).where(Ticket.state.in_(OPEN_STATES), Ticket.created_at >= since)
    mine = query.join(TicketReporter, TicketReporter.ticket_id == Ticket.id).where(
        TicketReporter.person_id == actor.person_id)
    if group_id is not None:
        mine = mine.where(Ticket.group_id == group_id)
    found = (await deps.session.execute(mine.order_by(Ticket.created_at.desc()).limit(1))).scalars().first()
    if found is not None or group_id is None:
        return found
    ticket = (await deps.session.execute(query.where(Ticket.group_id == group_id)
                                         .order_by(Ticket.created_at.desc()).limit(1))).scalars().first()
    if ticket is not None and can_handle(actor, ticket.compound_id):
        return ticket
    return None
