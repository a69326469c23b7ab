"""督办: a ticket flagged for the community committee (by hand, by a sweep, or a second reopen)."""
from __future__ import annotations

from bot import timefmt
from bot.models import Priority, RoleName
from bot.models.tickets import Ticket
from bot.services import Actor, Deps, ServiceError
from bot.services.tickets.events import record
from bot.services.tickets.naming import ticket_code, what
from bot.services.tickets.notify import tell_many
from bot.services.tickets.people import secretaries, supervisors
from bot.services.tickets.policy import MAX_NOTE, after_quiet_hours
from bot.services.tickets.rights import require_open
from bot.texts import tickets as T


async def supervise(deps: Deps, actor: Actor, ticket: Ticket, reason: str) -> list[str]:
    """督办: flag the ticket and tell the community committee (and the secretary, the assignee)."""
    now = deps.clock.now()
    ticket.supervised = True
    ticket.supervised_at = ticket.supervised_at or now
    record(deps, actor, ticket, "supervised", note=reason[:MAX_NOTE])
    assignee = f"（{ticket.assignee_label}）" if ticket.assignee_label else ""
    message = T.SUPERVISE_TELL.format(
        code=ticket_code(deps.org, ticket), what=what(ticket), reason=reason,
        state=T.STATE_LABELS.get(ticket.state, ticket.state), assignee=assignee,
        created=timefmt.stored(deps.clock, ticket.created_at), count=ticket.reporters_count)
    priority = Priority.URGENT if ticket.urgent else Priority.REPLY
    bosses = await supervisors(deps.session, deps.org, ticket.compound_id)
    people = bosses + await secretaries(deps.session, deps.org, ticket.compound_id)
    ids = [p.id for p in people] + ([ticket.assignee_person_id] if ticket.assignee_person_id else [])
    tell_many(deps, ids, message, ticket, skip=actor.person_id, priority=priority,
               not_before=after_quiet_hours(deps, ticket))
    return [p.name for p in bosses]


async def supervise_by_hand(deps: Deps, actor: Actor, ticket: Ticket, note: str = "") -> list[str]:
    """督办 by community or district staff."""
    if not (actor.is_system or actor.roles.has_any((RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF),
                                                   ticket.compound_id)):
        raise ServiceError(T.NO_RIGHT_SUPERVISE)
    await require_open(deps, ticket, "督办")
    return await supervise(deps, actor, ticket, T.REASON_MANUAL.format(by=actor.name, note=note or "请加快办理"))
