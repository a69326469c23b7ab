"""Who hears of a new ticket: the secretary; for an urgent one at once secretary, grid worker and
duty groups, passed further up when the alert is not delivered."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timefmt
from bot.audit import record_event
from bot.db import read
from bot.models import ChatGroup, Compound, OutboxMessage, Person, Priority, Role, RoleName
from bot.models.tickets import Ticket
from bot.services import Actor, Deps
from bot.services.duty import duty_groups
from bot.services.names import person_names
from bot.services.tickets.events import record
from bot.services.tickets.naming import num, quote, ticket_code, what
from bot.services.tickets.notify import tell_many
from bot.services.tickets.people import ids_with_roles, people_with_role
from bot.services.tickets.policy import SUBJECT, after_quiet_hours
from bot.services.tickets.rights import SYSTEM
from bot.texts import tickets as T


@dataclass
class Audience:
    """Who hears of a new ticket, and how its reporter is named: all read before the ticket is
    written (reads inside the write transaction would hold SQLite's one write lock meanwhile)."""

    reporter: str                       # the reporter's name
    where: str                          # "in group X" / "privately"
    secretaries: list[int]              # the compound's secretaries (person ids)
    home: tuple[int | None, str | None, str | None] | None = None  # the reporter's compound, building, unit
    urgent_labels: list[str] = field(default_factory=list)  # role labels told of an urgent ticket
    urgent_people: list[int] = field(default_factory=list)
    duty_groups: list[int] = field(default_factory=list)
    urgent_known: bool = False          # the three above were read


def _audience_query(in_group: bool):  # noqa: ANN202
    secretary = select(Role.person_id).where(Role.name == RoleName.SECRETARY,
                                             Role.compound_id == bindparam("compound_id"))
    topic = (select(ChatGroup.topic).where(ChatGroup.id == bindparam("group_id")).scalar_subquery()
             if in_group else literal(None))
    return (select(Person.id, Person.name, Person.compound_id, Person.building, Person.unit,
                   Person.id.in_(secretary).label("secretary"), topic.label("topic"))
            .where(or_(Person.id == bindparam("me"), Person.id.in_(secretary))).order_by(Person.id))


# Built once (private report, group report): every report asks it, and building a statement
# costs more CPU than SQLite takes to run it.
_AUDIENCE = {False: _audience_query(False), True: _audience_query(True)}


async def audience(deps: Deps, actor: Actor, compound_id: int, group_id: int | None, *,
                   urgent: bool = False) -> Audience:
    """One query for the reporter (name, roster address), the compound's secretaries and the
    group's name; an urgent ticket's further recipients after it."""
    rows = (await read(deps.session, _AUDIENCE[group_id is not None], {
        "compound_id": compound_id, "me": actor.person_id or 0, "group_id": group_id})).all()
    me = next((r for r in rows if r.id == actor.person_id), None)
    if group_id is None:
        where = T.WHERE_PRIVATE
    else:
        group_topic = rows[0].topic if rows else (await read(deps.session,
            select(ChatGroup.topic).where(ChatGroup.id == group_id))).scalar_one_or_none()
        where = T.WHERE_GROUP.format(group=group_topic or "")
    found = Audience(reporter=me.name if me is not None else actor.name, where=where,
                     secretaries=[r.id for r in rows if r.secretary],
                     home=(me.compound_id, me.building, me.unit) if me is not None else None)
    if urgent:
        await _urgent_audience(deps, compound_id, found)
    return found


URGENT_ROLES = (RoleName.SECRETARY, RoleName.GRID_WORKER, RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF)


async def _urgent_audience(deps: Deps, compound_id: int, found: Audience) -> None:
    """Secretary and grid worker at once (community staff if neither, else district staff: as
    ``supervisors``), and the duty groups. The four roles' holders in one query."""
    holders = await ids_with_roles(deps.session, deps.org, URGENT_ROLES, compound_id)
    recipients: list[int] = []
    for role, label in ((RoleName.SECRETARY, "支部书记"), (RoleName.GRID_WORKER, "网格员")):
        if holders[role]:
            found.urgent_labels.append(label)
            recipients.extend(holders[role])
    if not recipients:
        recipients = holders[RoleName.COMMUNITY_STAFF] or holders[RoleName.DISTRICT_STAFF]
        found.urgent_labels = [T.URGENT_WHO_FALLBACK] if recipients else []
    found.urgent_people = recipients
    found.duty_groups = (await duty_groups(deps.session, [compound_id])).get(compound_id, [])
    found.urgent_known = True


def tell_secretaries_new(deps: Deps, actor: Actor, ticket: Ticket, text: str, told: Audience) -> None:
    message = T.NEW_TICKET.format(code=ticket_code(deps.org, ticket), what=what(ticket), reporter=told.reporter,
                                  where=told.where, text=quote(text, 200), due=timefmt.stored(deps.clock, ticket.first_response_due),
                                  num=num(ticket), address=T.REPORTER_ADDRESS.format(address=ticket.reporter_address)
                                  if ticket.reporter_address else "")
    tell_many(deps, told.secretaries, message, ticket, skip=actor.person_id, not_before=after_quiet_hours(deps, ticket))


async def urgent_alert(deps: Deps, actor: Actor, ticket: Ticket, text: str, group_id: int | None,
                       told: Audience | None = None) -> list[str]:
    """Secretary and grid worker hear of an urgent ticket at once (community staff if neither)."""
    if told is None or not told.urgent_known:
        told = await audience(deps, actor, ticket.compound_id, group_id, urgent=True)
    message = T.URGENT_ALERT.format(code=ticket_code(deps.org, ticket), what=what(ticket), reporter=told.reporter,
                                    where=told.where, text=quote(text, 200), num=num(ticket))
    sent_to = tell_many(deps, told.urgent_people, message, ticket, priority=Priority.URGENT)
    for duty_group in told.duty_groups:
        deps.outbox.enqueue(deps.session, message, group_id=duty_group, priority=Priority.URGENT)
    record(deps, SYSTEM, ticket, "urgent_alert", note="、".join(told.urgent_labels), data={"told": sent_to})
    return list(told.urgent_labels)


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
