"""四定议事 on the 小区议事日: tickets put on the agenda of a compound's next discussion day,
each item with its four fixes — 定时间 (the day's time), 定议题 (topic), 定范围 (who attends),
定责任 (who owns the outcome).

- ``next_discussion_day(deps, compound_id, create=True)`` — the next planned day; made from the
  compound's ``discussion_day`` setting when none is planned (``{"day": 15, "hour": 15}`` monthly
  — the default — or ``{"weekday": 5, "hour": 19, "minute": 30}`` weekly, 1 = Monday; optional
  ``"place"``).
- ``set_discussion_day(deps, actor, compound_id, when, place)`` — plan one by hand.
- ``put_on_agenda(deps, actor, ticket, topic=None, scope=None, owner=None)`` — 议事 0042.
- ``agenda_items(session, day_id)``; ``remind_tomorrow(deps)`` — the day-before reminder.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Event, Priority
from bot.models.tickets import AgendaItem, DiscussionDay, Ticket
from bot.services import Actor, Deps, ServiceError
from bot.services import tickets as svc
from bot.texts import tickets as T

DEFAULT_DAY = {"day": 15, "hour": 15, "minute": 0}
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
    if not svc.can_handle(actor, compound_id):
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
    deps.session.add(Event(subject_kind="discussion_day", subject_id=day.id, action="planned", at=deps.clock.now(),
                           actor_person_id=actor.person_id, actor_web_user=actor.web_user,
                           to_state=svc.fmt_time(deps, when), note=day.place))
    return day


def default_scope(ticket: Ticket) -> list[str]:
    """Who attends: the branch and grid always; the parties the problem concerns."""
    scope = [T.SCOPE_SECRETARY, T.SCOPE_GRID]
    if ticket.category in svc.PROPERTY_CATEGORIES or ticket.assignee_kind == "property":
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
    svc.require_handler(deps, actor, ticket)
    await svc.require_open(deps, ticket, "议事")
    now = deps.clock.now()
    code = svc.ticket_code(deps.org, ticket)
    existing = await open_item_for(deps.session, ticket, now)
    if existing is not None:
        raise ServiceError(T.AGENDA_ALREADY.format(code=code, when=svc.fmt_time(deps, existing[1].starts_at)))
    day = await next_discussion_day(deps, ticket.compound_id)
    assert day is not None
    owner_id, owner_label = await _owner(deps, actor, ticket, owner)
    item = AgendaItem(
        discussion_day_id=day.id, compound_id=ticket.compound_id, ticket_id=ticket.id,
        topic=(topic or f"{svc.quote(ticket.text, 40)}（{svc.what(ticket)}）")[:500],
        scope=parse_scope(scope) if scope else default_scope(ticket), owner_person_id=owner_id,
        owner_label=owner_label, created_at=now, created_by_person_id=actor.person_id)
    deps.session.add(item)
    await deps.session.flush()
    svc._first_response(deps, actor, ticket)  # noqa: SLF001  (putting it on the agenda is the branch's response)
    when = svc.fmt_time(deps, day.starts_at)
    svc.record(deps, actor, ticket, "agenda", note=f"{when} {item.topic}",
               data={"agenda_item": item.id, "day": day.id, "scope": item.scope, "owner": owner_label})
    if owner_id and owner_id != actor.person_id:
        svc.tell(deps, owner_id, T.AGENDA_TELL.format(code=code, when=when, place=_place(day), topic=item.topic),
                 ticket)
    return item, day


async def _owner(deps: Deps, actor: Actor, ticket: Ticket, owner: str | None) -> tuple[int | None, str]:
    if owner:
        assignee = await svc.resolve_assignee(deps, ticket, owner)
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
    head = T.DAY_HEADER.format(compound=compound, when=svc.fmt_time(deps, day.starts_at), place=_place(day),
                               count=len(items))
    return head + "\n" + (render_items(items) if items else T.DAY_EMPTY)


async def remind_tomorrow(deps: Deps) -> int:
    """The day before a discussion day: the secretaries and item owners get the agenda."""
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
        text = T.DAY_REMIND.format(compound=deps.org.name_of(day.compound_id),
                                   when=svc.fmt_time(deps, day.starts_at), place=_place(day),
                                   items=render_items(items))
        people = [p.id for p in await svc.secretaries(deps.session, deps.org, day.compound_id)]
        people += [i.owner_person_id for i in items if i.owner_person_id]
        for pid in dict.fromkeys(people):
            deps.outbox.enqueue(deps.session, text, person_id=pid, priority=Priority.BROADCAST,
                                ref=("discussion_day", day.id))
        count += 1
    return count
