"""Working on an open ticket: assign/transfer, notes, acknowledgement, not-an-issue, recategorize,
merge and split."""
from __future__ import annotations

from dataclasses import dataclass
from sqlalchemy import and_, or_, select

import nlp
from nlp import Analysis, Analyzer

from bot import timefmt
from bot.models import Event, Person, Priority, PropertyProject, Role, RoleName
from bot.models.tickets import ACTIVE_STATES, OPEN_STATES, Ticket, TicketReporter, TicketState
from bot.privacy import mask_pii
from bot.services import Actor, Deps, ServiceError
from bot.services.names import person_names
from bot.services.tickets.corrections import record_correction
from bot.services.tickets.events import record
from bot.services.tickets.intake import location_parts, next_number
from bot.services.tickets.naming import num, quote, ticket_code, what
from bot.services.tickets.notify import tell, tell_many
from bot.services.tickets.people import people_with_role, reporter_ids, reporters, secretaries
from bot.services.tickets.policy import (
    MAX_NOTE, SUBJECT, acks_in_group, category_label, deadlines_for, policy, set_deadlines,
)
from bot.services.tickets.rights import (
    can_handle, is_assignee, is_reporter, require_handler, require_handler_or_assignee, require_open,
)
from bot.texts import tickets as T


@dataclass
class Assignee:
    kind: str
    person_id: int | None
    label: str
    found: bool  # False: nobody registered for that kind; the label stands alone


async def resolve_assignee(deps: Deps, ticket: Ticket, target: str, *, person_id: int | None = None) -> Assignee:
    """"物业" / "网格员 张三" / "楼长" / "业委会" / "社区" / "张三" → who gets the ticket.

    The dashboard may pass a kind code ("property", "grid_worker", …) and a ``person_id``."""
    words = target.split()
    if not words:
        raise ServiceError(T.UNKNOWN_ASSIGNEE.format(who=""))
    kind = T.ASSIGNEE_WORDS.get(words[0])
    if kind is None and words[0] in T.ASSIGNEE_KIND_LABELS and words[0] != "person":
        kind = words[0]
    name = " ".join(words[1:]) if kind else " ".join(words)
    compound_id = ticket.compound_id
    compound = deps.org.name_of(compound_id)
    if kind is None:
        person = await _person_in_compound(deps, name, compound_id)
        if person is None:
            raise ServiceError(T.UNKNOWN_ASSIGNEE.format(who=name[:20]))
        return Assignee("person", person.id, person.name, True)
    role = {"property": RoleName.PROPERTY_MANAGER, "community": RoleName.COMMUNITY_STAFF}.get(kind, kind)
    people = await people_with_role(deps.session, deps.org, role, compound_id)
    kind_label = T.ASSIGNEE_KIND_LABELS[kind]
    if name or person_id is not None:
        people = [p for p in people if (p.id == person_id if person_id is not None else p.name == name)]
        if not people:
            raise ServiceError(T.UNKNOWN_ASSIGNEE_NAMED.format(compound=compound, name=name[:20], kind=kind_label))
    elif kind in ("building_leader", "unit_leader") and ticket.building:
        people = sorted(people, key=lambda p: p.building != ticket.building)
    person = people[0] if people else None
    who = person.name if person is not None else ""
    label = f"{kind_label}{who}"
    if kind == "property":
        project = (await deps.session.execute(select(PropertyProject).where(
            PropertyProject.compound_id == compound_id, PropertyProject.active.is_(True))
            .order_by(PropertyProject.id))).scalars().first()
        if project is not None:
            label = f"物业（{project.company}{'·' + who if who else ''}）"
    elif kind == "community":
        community = deps.org.compounds[compound_id].community if compound_id in deps.org.compounds else "社区"
        label = f"{community}{'·' + who if who else ''}"
    return Assignee(kind, person.id if person else None, label, person is not None)


async def _person_in_compound(deps: Deps, name: str, compound_id: int) -> Person | None:
    if not name:
        return None
    community_id = deps.org.community_of.get(compound_id)
    with_role = (await deps.session.execute(
        select(Person).join(Role, Role.person_id == Person.id).where(
            Person.name == name,
            or_(Role.compound_id == compound_id, Role.community_id == community_id,
                and_(Role.compound_id.is_(None), Role.community_id.is_(None))))
        .order_by(Person.id))).scalars().first()
    if with_role is not None:
        return with_role
    return (await deps.session.execute(select(Person).where(
        Person.name == name, Person.compound_id == compound_id, Person.on_roster.is_(True))
        .order_by(Person.id))).scalars().first()


async def assign(deps: Deps, actor: Actor, ticket: Ticket, target: str, *, transfer: bool = False,
                 note: str | None = None, person_id: int | None = None) -> Assignee:
    """派单 (handlers) / 转办 (handlers or the current assignee): tell the new assignee privately."""
    if transfer:
        require_handler_or_assignee(deps, actor, ticket, "转办")
    else:
        require_handler(deps, actor, ticket)
    await require_open(deps, ticket, "转办" if transfer else "派单")
    assignee = await resolve_assignee(deps, ticket, target, person_id=person_id)
    previous_label = ticket.assignee_label
    before = ticket.state
    ticket.assignee_kind, ticket.assignee_person_id, ticket.assignee_label = (
        assignee.kind, assignee.person_id, assignee.label[:128])
    ticket.state = TicketState.ASSIGNED
    first_response(deps, actor, ticket)
    action = "transferred" if transfer else "assigned"
    text_note = assignee.label + (f"（{note[:MAX_NOTE]}）" if note else "")
    record(deps, actor, ticket, action, from_state=before, to_state=ticket.state, note=text_note,
           data={"kind": assignee.kind, "person_id": assignee.person_id, "previous": previous_label})
    if assignee.person_id is not None and assignee.person_id != actor.person_id:
        tell(deps, assignee.person_id, T.ASSIGNED_TELL.format(
            by=actor.name, code=ticket_code(deps.org, ticket), what=what(ticket), text=quote(ticket.text, 200),
            count=ticket.reporters_count, due=timefmt.stored(deps.clock, ticket.resolve_due), num=num(ticket),
            extra=T.ASSIGNED_EXTRA.format(note=mask_pii(note[:MAX_NOTE])) if note else ""),
            ticket, priority=Priority.URGENT if ticket.urgent else Priority.REPLY)
    if policy(deps, ticket.compound_id, "tell_reporters") or not acks_in_group(
            deps, ticket.compound_id, in_group=ticket.channel != "private"):
        message = T.REPORTER_ASSIGNED.format(code=ticket_code(deps.org, ticket), label=_public_label(assignee))
        tell_many(deps, await reporter_ids(deps.session, ticket), message, ticket, skip=actor.person_id)
    return assignee


def _public_label(assignee: Assignee) -> str:
    """What a resident is told: the kind of handler, not a private person's name."""
    return T.ASSIGNEE_KIND_LABELS.get(assignee.kind) or assignee.label


async def add_note(deps: Deps, actor: Actor, ticket: Ticket, note: str) -> None:
    require_handler_or_assignee(deps, actor, ticket, "备注")
    note = note.strip()[:MAX_NOTE]
    first_response(deps, actor, ticket)
    record(deps, actor, ticket, "noted", note=note)
    message = T.NOTE_TELL.format(code=ticket_code(deps.org, ticket), by=actor.name, note=mask_pii(note))
    others = [ticket.assignee_person_id] if ticket.assignee_person_id else []
    if not actor.roles.has(RoleName.SECRETARY, ticket.compound_id):
        others += [p.id for p in await secretaries(deps.session, deps.org, ticket.compound_id)]
    tell_many(deps, [o for o in others if o], message, ticket, skip=actor.person_id)
    if is_assignee(actor, ticket) and policy(deps, ticket.compound_id, "tell_reporters"):
        # The assignee's progress, not the branch's internal remarks, reaches the reporters.
        tell_many(deps, await reporter_ids(deps.session, ticket),
                   T.REPORTER_PROGRESS.format(code=ticket_code(deps.org, ticket), note=mask_pii(note)), ticket,
                   skip=actor.person_id)


async def acknowledge_assignment(deps: Deps, actor: Actor, ticket: Ticket) -> bool:
    """The assignee's bare 收到 to an assignment: their first response, recorded once per
    assignment; not a progress note. Reporters hear "已有人接单" at most once per ticket (and only
    if the compound tells reporters). False when this assignment was already acknowledged."""
    events = list((await deps.session.execute(select(Event.action, Event.actor_person_id).where(
        Event.subject_kind == SUBJECT, Event.subject_id == ticket.id,
        Event.action.in_(("assigned", "transferred", "acknowledged"))).order_by(Event.id))).all())
    if events and events[-1] == ("acknowledged", actor.person_id):
        return False
    if ticket.first_response_at is None:
        ticket.first_response_at = deps.clock.now()  # the assignee answering is a response, handler or not
    record(deps, actor, ticket, "acknowledged")
    if not any(action == "acknowledged" for action, _ in events) and policy(deps, ticket.compound_id, "tell_reporters"):
        tell_many(deps, await reporter_ids(deps.session, ticket),
                   T.REPORTER_TAKEN.format(code=ticket_code(deps.org, ticket)), ticket, skip=actor.person_id)
    return True


async def mark_not_issue(deps: Deps, actor: Actor, ticket: Ticket, reason: str | None = None) -> None:
    """不是问题: the sole reporter or a handler closes a false ticket; the NLP learns from it."""
    handler = can_handle(actor, ticket.compound_id)
    if not handler:
        if not await is_reporter(deps.session, actor, ticket):
            raise ServiceError(T.NO_RIGHT_NOT_ISSUE)
        if ticket.reporters_count > 1:
            raise ServiceError(T.NOT_ISSUE_OTHERS.format(count=ticket.reporters_count - 1))
    await require_open(deps, ticket, "撤销")
    before = ticket.state
    ticket.state = TicketState.REJECTED
    ticket.closed_at = deps.clock.now()
    record(deps, actor, ticket, "rejected", from_state=before, to_state=ticket.state,
           note=(reason or "")[:MAX_NOTE] or None)
    record_correction(deps, actor, ticket, "not_issue", is_issue=False, category="none", urgent=False)
    message = T.REJECTED_TELL.format(code=ticket_code(deps.org, ticket), by=actor.name)
    told = [ticket.assignee_person_id] if ticket.assignee_person_id else []
    if not handler:
        told += [p.id for p in await secretaries(deps.session, deps.org, ticket.compound_id)]
    tell_many(deps, [t for t in told if t], message, ticket, skip=actor.person_id)


async def recategorize(deps: Deps, actor: Actor, ticket: Ticket, *, category: str | None = None,
                       urgent: bool | None = None) -> None:
    """改类: a new category and/or urgency; deadlines follow; recorded as an NLP correction."""
    require_handler(deps, actor, ticket)
    if ticket.state not in ACTIVE_STATES:
        await require_open(deps, ticket, "改类")
    changed_category = category is not None and category != ticket.category
    changed_urgency = urgent is not None and urgent != ticket.urgent
    if not changed_category and not changed_urgency:
        raise ServiceError(T.SAME_CATEGORY.format(code=ticket_code(deps.org, ticket), label=category_label(ticket.category)))
    before = f"{ticket.category}{'/urgent' if ticket.urgent else ''}"
    if changed_category:
        ticket.category = category
    if changed_urgency:
        ticket.urgent = bool(urgent)
    set_deadlines(deps, ticket, from_time=ticket.created_at)
    first_response(deps, actor, ticket)
    record(deps, actor, ticket, "recategorized", from_state=before,
           to_state=f"{ticket.category}{'/urgent' if ticket.urgent else ''}", note=category_label(ticket.category))
    if changed_category:
        record_correction(deps, actor, ticket, "category", is_issue=True, category=ticket.category, urgent=ticket.urgent)
    if changed_urgency:
        record_correction(deps, actor, ticket, "urgency", is_issue=True, category=ticket.category, urgent=ticket.urgent)


async def merge(deps: Deps, actor: Actor, source: Ticket, target: Ticket) -> None:
    """合并: ``source``'s reporters join ``target``; ``source`` becomes merged."""
    require_handler(deps, actor, target)
    if source.id == target.id:
        raise ServiceError(T.MERGE_SAME)
    if source.compound_id != target.compound_id:
        raise ServiceError(T.MERGE_OTHER_COMPOUND)
    await require_open(deps, source, "合并")
    if target.state not in OPEN_STATES:
        raise ServiceError(T.MERGE_TARGET_STATE.format(code=ticket_code(deps.org, target),
                                                       state=T.STATE_LABELS.get(target.state, target.state)))
    existing = set(await reporter_ids(deps.session, target))
    rows = await reporters(deps.session, source)
    anonymous = max(0, source.reporters_count - len(rows))  # reports with no person (web, hotline)
    moved = 0
    for row in rows:
        if row.person_id in existing:
            await deps.session.delete(row)
            continue
        row.ticket_id = target.id
        moved += 1
    target.reporters_count += moved + anonymous
    if target.urgent is False and source.urgent:
        target.urgent = True
        set_deadlines(deps, target, from_time=target.created_at)
    before = source.state
    source.state = TicketState.MERGED
    source.merged_into_id = target.id
    source.closed_at = deps.clock.now()
    source.reporters_count = 0
    first_response(deps, actor, target)
    src, dst = ticket_code(deps.org, source), ticket_code(deps.org, target)
    record(deps, actor, source, "merged_from", from_state=before, to_state=source.state, note=dst)
    record(deps, actor, target, "merged", note=src, data={"source": source.id, "moved": moved})
    message = T.MERGED_TELL.format(source=src, target=dst)
    if not acks_in_group(deps, target.compound_id, in_group=True):
        rows = (await deps.session.execute(select(TicketReporter.person_id).where(
            TicketReporter.ticket_id == target.id))).scalars().all()
        tell_many(deps, [r for r in rows if r not in existing], message, target, skip=actor.person_id)


async def split(deps: Deps, actor: Actor, ticket: Ticket, who: str,
                analyzer: Analyzer | None = None) -> tuple[Ticket, str]:
    """拆分: one reporter's report (by name or position) becomes a ticket of its own."""
    require_handler(deps, actor, ticket)
    await require_open(deps, ticket, "拆分")
    rows = await reporters(deps.session, ticket)
    code = ticket_code(deps.org, ticket)
    if len(rows) <= 1:
        raise ServiceError(T.SPLIT_ONLY_ONE.format(code=code))
    names = await person_names(deps.session, [r.person_id for r in rows])
    who = who.strip()
    index = int(who) - 1 if who.isdigit() else next(
        (i for i, r in enumerate(rows) if names.get(r.person_id) == who), -1)
    if not 0 <= index < len(rows):
        listing = "、".join(f"{i + 1}.{names.get(r.person_id, '?')}" for i, r in enumerate(rows))
        raise ServiceError(T.SPLIT_WHO.format(code=code, who=who[:20], names=listing))
    if index == 0:
        raise ServiceError(T.SPLIT_FIRST.format(code=code))
    row = rows[index]
    analysis = _analyze(analyzer, row.text)
    now = deps.clock.now()
    category = analysis.category if analysis and analysis.category not in (None, "none") else ticket.category
    first, resolve = deadlines_for(deps, ticket.compound_id, category, bool(analysis and analysis.urgent))
    location = analysis.location if analysis else None
    new = Ticket(
        compound_id=ticket.compound_id, number=await next_number(deps.session, ticket.compound_id),
        state=TicketState.NEW, channel=ticket.channel, text=row.text or ticket.text, category=category,
        urgent=bool(analysis and analysis.urgent), location=(location.label() if location else ticket.location)[:128],
        building=location.building if location else ticket.building,
        location_parts=location_parts(location) if location else dict(ticket.location_parts or {}),
        fingerprint=sorted(analysis.fingerprint) if analysis else [],
        nlp_is_issue=analysis.is_issue if analysis else None,
        nlp_category=analysis.category if analysis else None,
        nlp_confidence=float(analysis.confidence) if analysis else None,
        reporter_person_id=row.person_id, group_id=row.group_id, source_message_id=row.message_id,
        reporters_count=1, created_at=now, updated_at=now, first_response_due=now + first,
        resolve_due=now + resolve, split_from_id=ticket.id, created_by_person_id=actor.person_id,
        created_by_web=actor.web_user)
    deps.session.add(new)
    await deps.session.flush()
    row.ticket_id = new.id
    ticket.reporters_count = max(1, ticket.reporters_count - 1)
    name = names.get(row.person_id, "")
    record(deps, actor, ticket, "split", note=f"{name} → {ticket_code(deps.org, new)}")
    record(deps, actor, new, "split_from", to_state=TicketState.NEW, note=code)
    return new, name


def _analyze(analyzer: Analyzer | None, text: str) -> Analysis | None:
    if not text:
        return None
    return (analyzer or nlp.default_analyzer()).analyze(text)


def first_response(deps: Deps, actor: Actor, ticket: Ticket) -> None:
    if ticket.first_response_at is None and can_handle(actor, ticket.compound_id) and not actor.is_system:
        ticket.first_response_at = deps.clock.now()
