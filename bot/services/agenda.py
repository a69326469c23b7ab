"""四定议事 on the 小区议事日: tickets put on the agenda of a compound's next discussion day,
each item with its four fixes — 定时间 (the day's time), 定议题 (topic), 定范围 (who attends),
定责任 (who owns the outcome).

- ``next_discussion_day(deps, compound_id, create=True)`` — the next planned day; made from the
  compound's ``discussion_day`` setting when none is planned (``{"day": 15, "hour": 15}`` monthly
  — the default — or ``{"weekday": 5, "hour": 19, "minute": 30}`` weekly, 1 = Monday; optional
  ``"place"``).
- ``set_discussion_day(deps, actor, compound_id, when, place)`` — plan one by hand.
- ``put_on_agenda(deps, actor, ticket, topic=None, scope=None, owner=None)`` — 议事 0042.
- ``agenda_items(session, day_id)``; ``remind_tomorrow(deps)`` — the day-before reminder to
  everyone under 范围 and 责任 and the residents who reported each item.
- ``record_outcome(deps, actor, ticket, outcome, owner=None, due=None)`` — 议定: the item's
  outcome, its owner (定责任) and deadline flow back to the ticket.
- ``awaiting_meeting(now)`` — tickets waiting for their discussion day: their deadline is the
  meeting, so the sweep does not escalate them before it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timefmt
from bot.audit import record_event
from bot.models import Person, Priority, RoleName
from bot.models.tickets import AgendaItem, DiscussionDay, Ticket, TicketState
from bot.services import Actor, Deps, ServiceError
from bot.services.tickets import events, naming, notify, people, policy, rights, workflow
from bot.texts import agenda as TA
from bot.texts import tickets as T

DEFAULT_DAY = {"day": 15, "hour": 15, "minute": 0}
DUE_TIME = time(18, 0)  # "期限 12月20日" means the end of that working day
COMMITTEE_CATEGORIES = frozenset({"property", "parking", "greening", "dispute", "sanitation", "elevator"})

_FIX = re.compile(r"(议题|范围|责任|定议题|定范围|定责任)\s*[:：]?\s*")


def parse_four_fixes(text: str) -> dict[str, str]:
    """"议题 路面积水 范围 物业、业委会 责任 王网格" → {"topic": …, "scope": …, "owner": …}."""
    keys = {"议题": "topic", "范围": "scope", "责任": "owner"}
    parts = _FIX.split(text)
    out: dict[str, str] = {}
    lead = parts[0].strip()
    if lead:
        out["topic"] = lead
    for word, value in zip(parts[1::2], parts[2::2]):
        out[keys[word.removeprefix("定")]] = value.strip()
    return {k: v for k, v in out.items() if v}


def _upcoming(setting: dict, local_now: datetime) -> datetime:
    """The next occurrence (after now, local) of a monthly or weekly discussion day."""
    hour, minute = int(setting.get("hour", 15)), int(setting.get("minute", 0))
    if "weekday" in setting:
        weekday = (int(setting["weekday"]) - 1) % 7
        candidate = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        candidate += timedelta(days=(weekday - candidate.weekday()) % 7)
        return candidate if candidate > local_now else candidate + timedelta(days=7)
    day = max(1, min(int(setting.get("day", 15)), 28))
    candidate = local_now.replace(day=day, hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local_now:
        year, month = (local_now.year + 1, 1) if local_now.month == 12 else (local_now.year, local_now.month + 1)
        candidate = candidate.replace(year=year, month=month)
    return candidate


async def next_discussion_day(deps: Deps, compound_id: int, *, create: bool = True) -> DiscussionDay | None:
    now = deps.clock.now()
    day = (await deps.session.execute(select(DiscussionDay).where(
        DiscussionDay.compound_id == compound_id, DiscussionDay.state == "planned", DiscussionDay.starts_at > now)
        .order_by(DiscussionDay.starts_at).limit(1))).scalars().first()
    if day is not None or not create:
        return day
    setting = deps.org.setting(compound_id, "discussion_day") or DEFAULT_DAY
    if not isinstance(setting, dict):
        setting = DEFAULT_DAY
    starts = _upcoming(setting, deps.clock.local(now))
    day = DiscussionDay(compound_id=compound_id, starts_at=starts, place=setting.get("place"), created_at=now)
    deps.session.add(day)
    await deps.session.flush()
    return day


async def set_discussion_day(deps: Deps, actor: Actor, compound_id: int, when: datetime,
                             place: str | None = None) -> DiscussionDay:
    if not rights.can_handle(actor, compound_id):
        raise ServiceError(T.NO_RIGHT_HANDLE.format(compound=deps.org.name_of(compound_id)))
    if when <= deps.clock.now():
        raise ServiceError(T.DAY_PAST)
    day = (await deps.session.execute(select(DiscussionDay).where(
        DiscussionDay.compound_id == compound_id, DiscussionDay.starts_at == when))).scalars().first()
    if day is None:
        day = DiscussionDay(compound_id=compound_id, starts_at=when, created_at=deps.clock.now())
        deps.session.add(day)
    day.state = "planned"
    day.place = (place or "").strip()[:128] or day.place
    await deps.session.flush()
    record_event(deps.session, "discussion_day", day.id, "planned", deps.clock.now(), actor=actor,
                 to_state=timefmt.stored(deps.clock, when), note=day.place)
    return day


def default_scope(ticket: Ticket) -> list[str]:
    """Who attends: the branch and grid always; the parties the problem concerns."""
    scope = [T.SCOPE_SECRETARY, T.SCOPE_GRID]
    if ticket.category in policy.PROPERTY_CATEGORIES or ticket.assignee_kind == "property":
        scope.append(T.SCOPE_PROPERTY)
    if ticket.category in COMMITTEE_CATEGORIES:
        scope.append(T.SCOPE_COMMITTEE)
    if ticket.building:
        scope.append(T.SCOPE_LEADER)
    if ticket.supervised or ticket.reopen_count or ticket.urgent or ticket.category == "dispute":
        scope.append(T.SCOPE_COMMUNITY)
    scope.append(T.SCOPE_REPORTERS)
    return scope


_SCOPE_LABELS = {
    "property": T.SCOPE_PROPERTY, "grid_worker": T.SCOPE_GRID, "building_leader": T.SCOPE_LEADER,
    "unit_leader": "单元长", "owners_committee": T.SCOPE_COMMITTEE, "community": T.SCOPE_COMMUNITY,
    "social_worker": "社工", "party_member": "党员", "volunteer": "志愿者", "secretary": T.SCOPE_SECRETARY,
}


def parse_scope(text: str) -> list[str]:
    scope = [T.SCOPE_SECRETARY]
    for word in re.split(r"[、,，;；\s]+", text):
        if not word:
            continue
        kind = T.ASSIGNEE_WORDS.get(word)
        label = _SCOPE_LABELS.get(kind, word[:16]) if kind else word[:16]
        if label not in scope:
            scope.append(label)
    return scope


async def open_item_for(session: AsyncSession, ticket: Ticket, now: datetime) -> tuple[AgendaItem, DiscussionDay] | None:
    row = (await session.execute(
        select(AgendaItem, DiscussionDay).join(DiscussionDay, DiscussionDay.id == AgendaItem.discussion_day_id)
        .where(AgendaItem.ticket_id == ticket.id, AgendaItem.state == "open", DiscussionDay.starts_at > now,
               DiscussionDay.state == "planned"))).first()
    return (row[0], row[1]) if row else None


async def put_on_agenda(deps: Deps, actor: Actor, ticket: Ticket, *, topic: str | None = None,
                        scope: str | None = None, owner: str | None = None) -> tuple[AgendaItem, DiscussionDay]:
    """议事: the ticket goes on the next discussion day with its four fixes."""
    rights.require_handler(deps, actor, ticket)
    await rights.require_open(deps, ticket, "议事")
    now = deps.clock.now()
    code = naming.ticket_code(deps.org, ticket)
    existing = await open_item_for(deps.session, ticket, now)
    if existing is not None:
        raise ServiceError(T.AGENDA_ALREADY.format(code=code, when=timefmt.stored(deps.clock, existing[1].starts_at)))
    day = await next_discussion_day(deps, ticket.compound_id)
    assert day is not None
    owner_id, owner_label = await _owner(deps, actor, ticket, owner)
    item = AgendaItem(
        discussion_day_id=day.id, compound_id=ticket.compound_id, ticket_id=ticket.id,
        topic=(topic or f"{naming.quote(ticket.text, 40)}（{naming.what(ticket)}）")[:500],
        scope=parse_scope(scope) if scope else default_scope(ticket), owner_person_id=owner_id,
        owner_label=owner_label, created_at=now, created_by_person_id=actor.person_id)
    deps.session.add(item)
    await deps.session.flush()
    workflow.first_response(deps, actor, ticket)  # putting it on the agenda is the branch's response
    when = timefmt.stored(deps.clock, day.starts_at)
    due_before = ticket.resolve_due
    ticket.resolve_due = day.starts_at  # the ticket waits for the meeting; the outcome sets the next deadline
    events.record(deps, actor, ticket, "agenda", note=f"{when} {item.topic}",
               data={"agenda_item": item.id, "day": day.id, "scope": item.scope, "owner": owner_label,
                     "due_before": due_before.isoformat() if due_before else None})
    if owner_id and owner_id != actor.person_id:
        notify.tell(deps, owner_id, T.AGENDA_TELL.format(code=code, when=when, place=_place(day), topic=item.topic),
                 ticket)
    return item, day


async def _owner(deps: Deps, actor: Actor, ticket: Ticket, owner: str | None) -> tuple[int | None, str]:
    if owner:
        assignee = await workflow.resolve_assignee(deps, ticket, owner)
        return assignee.person_id, assignee.label
    if ticket.assignee_label:
        return ticket.assignee_person_id, ticket.assignee_label
    return actor.person_id, actor.name


def _place(day: DiscussionDay) -> str:
    return T.PLACE.format(place=day.place) if day.place else ""


async def agenda_items(session: AsyncSession, day_id: int) -> list[AgendaItem]:
    return list((await session.execute(select(AgendaItem).where(
        AgendaItem.discussion_day_id == day_id, AgendaItem.state != "dropped").order_by(AgendaItem.id))).scalars())


def render_items(items: list[AgendaItem]) -> str:
    return "\n".join(T.DAY_ITEM.format(index=i + 1, topic=item.topic, scope="、".join(item.scope),
                                       owner=item.owner_label or "—") for i, item in enumerate(items))


async def describe_next_day(deps: Deps, compound_id: int) -> str:
    compound = deps.org.name_of(compound_id)
    day = await next_discussion_day(deps, compound_id, create=False)
    if day is None:
        return T.DAY_NONE.format(compound=compound, usage=T.DISCUSSION_DAY_USAGE)
    items = await agenda_items(deps.session, day.id)
    head = T.DAY_HEADER.format(compound=compound, when=timefmt.stored(deps.clock, day.starts_at), place=_place(day),
                               count=len(items))
    return head + "\n" + (render_items(items) if items else T.DAY_EMPTY)


def awaiting_meeting(now: datetime):  # noqa: ANN201
    """Ids of tickets on the agenda of a discussion day still to come (a subquery)."""
    return (select(AgendaItem.ticket_id)
            .join(DiscussionDay, DiscussionDay.id == AgendaItem.discussion_day_id)
            .where(AgendaItem.ticket_id.is_not(None), AgendaItem.state == "open",
                   DiscussionDay.state == "planned", DiscussionDay.starts_at > now))


# Scope labels (定范围) -> the role whose holders for the compound attend.
_SCOPE_ROLES = {
    T.SCOPE_SECRETARY: RoleName.SECRETARY, T.SCOPE_GRID: RoleName.GRID_WORKER,
    T.SCOPE_PROPERTY: RoleName.PROPERTY_MANAGER, T.SCOPE_COMMITTEE: RoleName.OWNERS_COMMITTEE,
    T.SCOPE_COMMUNITY: RoleName.COMMUNITY_STAFF, "社工": RoleName.SOCIAL_WORKER, "单元长": RoleName.UNIT_LEADER,
}


async def scope_people(deps: Deps, item: AgendaItem, ticket: Ticket | None) -> list[int]:
    """Everyone under an item's 范围 and 责任 (not the reporters: they get their own words)."""
    ids: list[int] = []
    for label in item.scope or []:
        role = _SCOPE_ROLES.get(label)
        if role is not None:
            ids += [p.id for p in await people.people_with_role(deps.session, deps.org, role, item.compound_id)]
        elif label == T.SCOPE_LEADER:
            if ticket is not None and ticket.building:
                ids += [p.id for p in await people.people_with_role(
                    deps.session, deps.org, RoleName.BUILDING_LEADER, item.compound_id) if p.building == ticket.building]
        elif label != T.SCOPE_REPORTERS:  # a person named in 范围
            ids += list((await deps.session.execute(select(Person.id).where(
                Person.compound_id == item.compound_id, Person.name == label))).scalars())
    if item.owner_person_id:
        ids.append(item.owner_person_id)
    return list(dict.fromkeys(ids))


async def remind_tomorrow(deps: Deps) -> int:
    """The day before a discussion day: the secretaries get the whole agenda; everyone under an
    item's 范围 and 责任 gets the items that concern them; the reporters hear when their problem
    is discussed."""
    now = deps.clock.now()
    tomorrow = deps.clock.local(now).date() + timedelta(days=1)
    days = (await deps.session.execute(select(DiscussionDay).where(
        DiscussionDay.state == "planned", DiscussionDay.reminded_at.is_(None), DiscussionDay.starts_at > now,
        DiscussionDay.starts_at <= now + timedelta(days=2)))).scalars().all()
    count = 0
    for day in days:
        if deps.clock.local(day.starts_at).date() != tomorrow:
            continue
        items = await agenda_items(deps.session, day.id)
        day.reminded_at = now
        if not items:
            continue
        compound, when, place = deps.org.name_of(day.compound_id), timefmt.stored(deps.clock, day.starts_at), _place(day)
        text = T.DAY_REMIND.format(compound=compound, when=when, place=place, items=render_items(items))
        secretaries = [p.id for p in await people.secretaries(deps.session, deps.org, day.compound_id)]
        for pid in secretaries:
            deps.outbox.enqueue(deps.session, text, person_id=pid, priority=Priority.BROADCAST,
                                ref=("discussion_day", day.id))
        concerned: dict[int, list[AgendaItem]] = {}
        told_reporters: set[int] = set(secretaries)
        for item in items:
            ticket = await deps.session.get(Ticket, item.ticket_id) if item.ticket_id else None
            for pid in await scope_people(deps, item, ticket):
                if pid not in secretaries:
                    concerned.setdefault(pid, []).append(item)
            if ticket is None:
                continue
            for pid in await people.reporter_ids(deps.session, ticket):
                if pid in told_reporters or pid in concerned:
                    continue
                told_reporters.add(pid)
                deps.outbox.enqueue(deps.session, TA.REMIND_REPORTER.format(
                    code=naming.ticket_code(deps.org, ticket), excerpt=naming.quote(ticket.text, 30), when=when,
                    place=place), person_id=pid, priority=Priority.BROADCAST, ref=("discussion_day", day.id))
        for pid, mine in concerned.items():
            deps.outbox.enqueue(deps.session, TA.REMIND_ITEMS.format(
                compound=compound, when=when, place=place, items=render_items(mine)),
                person_id=pid, priority=Priority.BROADCAST, ref=("discussion_day", day.id))
        count += 1
    return count


# ---------------------------------------------------------------- the outcome (议定)
_OUTCOME_FIX = re.compile(r"(结果|议定结果|责任|定责任|期限|截止)\s*[:：]?\s*")


def parse_outcome(text: str) -> dict[str, str]:
    """"结果 加装排水管 责任 物业 期限 12月20日" → {"outcome": …, "owner": …, "due": …}."""
    keys = {"结果": "outcome", "议定结果": "outcome", "责任": "owner", "定责任": "owner", "期限": "due",
            "截止": "due"}
    parts = _OUTCOME_FIX.split(text.strip())
    out = {"outcome": parts[0].strip()} if parts[0].strip() else {}
    for word, value in zip(parts[1::2], parts[2::2]):
        out[keys[word]] = value.strip()
    return {k: v for k, v in out.items() if v}


async def last_open_item(session: AsyncSession, ticket: Ticket) -> tuple[AgendaItem, DiscussionDay] | None:
    row = (await session.execute(
        select(AgendaItem, DiscussionDay).join(DiscussionDay, DiscussionDay.id == AgendaItem.discussion_day_id)
        .where(AgendaItem.ticket_id == ticket.id, AgendaItem.state == "open")
        .order_by(DiscussionDay.starts_at.desc(), AgendaItem.id.desc()).limit(1))).first()
    return (row[0], row[1]) if row else None


@dataclass
class Outcome:
    item: AgendaItem
    owner: str
    due: datetime
    told: int


async def record_outcome(deps: Deps, actor: Actor, ticket: Ticket, outcome: str, *, owner: str | None = None,
                         due: datetime | None = None) -> Outcome:
    """议定: the item is discussed; its owner (定责任) takes the ticket and its deadline is the
    one agreed (else the usual span from now); everyone concerned and the reporters are told."""
    rights.require_handler(deps, actor, ticket)
    await rights.require_open(deps, ticket, "议定")
    code = naming.ticket_code(deps.org, ticket)
    found = await last_open_item(deps.session, ticket)
    if found is None:
        raise ServiceError(TA.OUTCOME_NO_ITEM.format(code=code, num=naming.num(ticket)))
    item, day = found
    now = deps.clock.now()
    if due is not None and due <= now:
        raise ServiceError(TA.OUTCOME_DUE_PAST)
    if owner:
        assignee = await workflow.resolve_assignee(deps, ticket, owner)
        item.owner_person_id, item.owner_label = assignee.person_id, assignee.label[:128]
        before = ticket.state
        ticket.assignee_kind, ticket.assignee_person_id, ticket.assignee_label = (
            assignee.kind, assignee.person_id, assignee.label[:128])
        ticket.state = TicketState.ASSIGNED
        events.record(deps, actor, ticket, "assigned", from_state=before, to_state=ticket.state,
                   note=f"{assignee.label}（议事日议定）", data={"kind": assignee.kind, "person_id": assignee.person_id})
    if due is None:
        _, span = policy.deadlines_for(deps, ticket.compound_id, ticket.category, ticket.urgent)
        due = now + span
    ticket.resolve_due = due
    ticket.resolve_escalated_at = None
    item.state, item.outcome = "discussed", outcome.strip()[:1000]
    if day.starts_at <= now:
        day.state = "held"
    owner_label = item.owner_label or "—"
    due_text = timefmt.stored(deps.clock, due)
    events.record(deps, actor, ticket, "agenda_outcome", note=f"{naming.quote(item.outcome, 200)}；责任：{owner_label}；期限：{due_text}",
               data={"agenda_item": item.id, "owner": owner_label, "due": due.isoformat()})
    told = 0
    for pid in await scope_people(deps, item, ticket):
        if pid == actor.person_id:
            continue
        notify.tell(deps, pid, TA.OUTCOME_TELL.format(code=code, topic=naming.quote(item.topic, 40), outcome=item.outcome,
                                                   owner=owner_label, due=due_text), ticket)
        told += 1
    public_owner = T.ASSIGNEE_KIND_LABELS.get(ticket.assignee_kind or "") or owner_label
    for pid in await people.reporter_ids(deps.session, ticket):
        if pid == actor.person_id:
            continue
        notify.tell(deps, pid, TA.OUTCOME_REPORTER.format(code=code, outcome=item.outcome, owner=public_owner,
                                                       due=due_text), ticket)
        told += 1
    return Outcome(item, owner_label, due, told)
