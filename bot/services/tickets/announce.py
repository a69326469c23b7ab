"""Who hears of a new ticket: the secretary; for an urgent one at once secretary, grid worker and
duty groups, passed further up when the alert is not delivered."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timefmt
from bot.audit import record_event
from bot.models import ChatGroup, Compound, OutboxMessage, Person, Priority, RoleName
from bot.models.tickets import Ticket
from bot.services import Actor, Deps
from bot.services.duty import duty_groups
from bot.services.names import person_names
from bot.services.tickets.events import record
from bot.services.tickets.naming import num, quote, ticket_code, what
from bot.services.tickets.notify import tell_many
from bot.services.tickets.people import people_with_role, secretaries, supervisors
from bot.services.tickets.policy import SUBJECT, after_quiet_hours
from bot.services.tickets.rights import SYSTEM
from bot.texts import tickets as T


async def reporter_where(deps: Deps, actor: Actor, group_id: int | None) -> tuple[str, str]:
    names = await person_names(deps.session, [actor.person_id])
    reporter = names.get(actor.person_id or 0, actor.name)
    if group_id is not None:
        group = await deps.session.get(ChatGroup, group_id)
        return reporter, T.WHERE_GROUP.format(group=group.topic if group else "")
    return reporter, T.WHERE_PRIVATE


async def tell_secretaries_new(deps: Deps, actor: Actor, ticket: Ticket, text: str, group_id: int | None) -> None:
    reporter, where = await reporter_where(deps, actor, group_id)
    message = T.NEW_TICKET.format(code=ticket_code(deps.org, ticket), what=what(ticket), reporter=reporter,
                                  where=where, text=quote(text, 200), due=timefmt.stored(deps.clock, ticket.first_response_due),
                                  num=num(ticket), address=T.REPORTER_ADDRESS.format(address=ticket.reporter_address)
                                  if ticket.reporter_address else "")
    tell_many(deps, await secretaries(deps.session, deps.org, ticket.compound_id), message, ticket,
               skip=actor.person_id, not_before=after_quiet_hours(deps, ticket))


async def urgent_alert(deps: Deps, actor: Actor, ticket: Ticket, text: str, group_id: int | None) -> list[str]:
    """Secretary and grid worker hear of an urgent ticket at once (community staff if neither)."""
    reporter, where = await reporter_where(deps, actor, group_id)
    message = T.URGENT_ALERT.format(code=ticket_code(deps.org, ticket), what=what(ticket), reporter=reporter,
                                    where=where, text=quote(text, 200), num=num(ticket))
    labels: list[str] = []
    recipients: list[Person] = []
    for role, label in ((RoleName.SECRETARY, "支部书记"), (RoleName.GRID_WORKER, "网格员")):
        found = await people_with_role(deps.session, deps.org, role, ticket.compound_id)
        if found:
            labels.append(label)
            recipients.extend(found)
    if not recipients:
        recipients = await supervisors(deps.session, deps.org, ticket.compound_id)
        labels = [T.URGENT_WHO_FALLBACK] if recipients else []
    told = tell_many(deps, recipients, message, ticket, priority=Priority.URGENT)
    for group_id in (await duty_groups(deps.session, [ticket.compound_id])).get(ticket.compound_id, []):
        deps.outbox.enqueue(deps.session, message, group_id=group_id, priority=Priority.URGENT)
    record(deps, SYSTEM, ticket, "urgent_alert", note="、".join(labels), data={"told": told})
    return labels


async def escalate_undelivered_alert(session: AsyncSession, outbox: Any, clock: Any, row: Any,
                                     minutes: int) -> list[str]:
    """An urgent alert to ``row.person_id`` was not delivered within ``minutes``: pass it to the
    next people up (community staff, then district staff) who were not alerted yet, and record
    it on the ticket. Returns their names (empty when nobody is left: the event says so)."""
    ticket = await session.get(Ticket, row.ref_id)
    if ticket is None:
        return []
    compound = await session.get(Compound, ticket.compound_id)
    scope = SimpleNamespace(community_of={ticket.compound_id: compound.community_id} if compound else {})
    alerted = set((await session.execute(select(OutboxMessage.person_id).where(
        OutboxMessage.ref_kind == SUBJECT, OutboxMessage.ref_id == ticket.id,
        OutboxMessage.priority == Priority.URGENT, OutboxMessage.person_id.is_not(None)))).scalars())
    backups: list[Person] = []
    for role in (RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF):
        backups = [p for p in await people_with_role(session, scope, role, ticket.compound_id)
                   if p.id not in alerted]
        if backups:
            break
    who = (await person_names(session, [row.person_id])).get(row.person_id, "")
    text = T.URGENT_ESCALATED.format(minutes=minutes, who=who, alert=row.text)
    for person in backups:
        outbox.enqueue(session, text, person_id=person.id, priority=Priority.URGENT, ref=(SUBJECT, ticket.id))
    names = [p.name for p in backups]
    record_event(session, SUBJECT, ticket.id, "alert_escalated", clock.now(),
                 note="、".join(names) or T.URGENT_ESCALATED_NOBODY,
                 data={"outbox_id": row.id, "undelivered_to": row.person_id, "told": [p.id for p in backups]})
    return names
