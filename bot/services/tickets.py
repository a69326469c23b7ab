"""有事找支部: the rules of tickets, shared by chat handlers, the dashboard and schedules.

Lifecycle (every change is an ``Event`` row with subject_kind="ticket"):

    report()  ─► new ─► assign()/transfer ─► assigned ─► resolve() ─► resolved ─► rate() ─► closed
                  │                                            ▲          │ unsatisfied: reopen()
                  └─ mark_not_issue() ─► rejected               └──────────┘ (second reopen: supervise)
    merge() ─► merged (into another ticket);  split() moves one reporter to a new ticket
    sweep: escalate_overdue() (督办 to the community), close_unconfirmed() (auto-close)

Commands on a ticket (all take ``deps: Deps, actor: Actor, ticket: Ticket``): ``assign``,
``transfer``, ``add_note``, ``mark_not_issue``, ``recategorize``, ``merge``, ``split``,
``resolve``, ``rate``, ``supervise``. They raise ``ServiceError`` (Chinese, shown as is).
Agenda items (议事) live in ``bot.services.agenda``; hotline links and imports in
``bot.services.hotline``.

Queries for digests, rankings and the dashboard:

- ``list_tickets(deps, actor, *, compound_ids=None, states=OPEN_STATES, overdue_only=False,
  supervised_only=False, category=None, since=None, until=None, limit=200) -> list[TicketView]``
  — what ``actor`` may see (system actor: everything), supervised/overdue first, then urgent,
  then oldest due.
- ``ticket_view(deps, ticket) -> TicketView`` — one ticket with its code, labels and flags.
- ``ticket_timeline(deps, ticket) -> list[TimelineEntry]`` — the event rows, oldest first.
- ``overdue_tickets(session, now, compound_ids=None) -> list[Ticket]`` — open and past a deadline.
- ``ticket_stats(session, *, now, compound_ids=None, since=None, until=None) -> TicketStats``
  — counts by state, category, satisfaction; overdue, supervised, urgent, reopened, average
  hours to resolve and the satisfaction rate, for tickets created in [since, until).
- ``new_tickets(session, compound_id, since, until=None) -> list[Ticket]`` — for digests.
- ``complaints_by_property_project(session, month, tz) -> dict[int, int]`` — property
  project id → complaint tickets created in the local calendar month "YYYY-MM" (tickets of
  property-managed categories or assigned to 物业; rejected and merged ones excluded).
- ``tickets_by_compound(session, month, tz) -> dict[int, int]`` — compound id → tickets.
- ``bot.services.hotline.hotline_counts(session, month, tz) -> dict[int, int]`` — 12345 orders.
- ``correction_examples(session, *, unused_only=True) -> list[dict]`` — NLP corrections as
  training lines (``text, is_issue, category, urgent, location, source="correction"``).

Settings (per compound, in ``Compound.settings``; district-wide in a ``tickets`` settings
section if the configuration has one; else the defaults below): ``ack_mode`` ("group" |
"private"), ``duplicate_window_hours``, ``confirm_days``, ``quiet_hours`` ([22, 7]: non-urgent
notices to staff at night wait for the morning), ``ticket_deadlines`` (e.g.
``{"urgent": {"first_response_minutes": 30, "resolve_hours": 24},
"elevator": {"first_response_hours": 8, "resolve_days": 3}}``).
"""
from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timefmt
from bot.models import ChatGroup, Event, Person, Priority, PropertyProject, Role, RoleName
from bot.models.tickets import (
    ACTIVE_STATES, OPEN_STATES, NlpCorrection, Rating, Ticket, TicketCounter, TicketReporter,
    TicketState,
)
from bot.privacy import mask_pii
from bot.roles import HANDLING_ROLES, Roles
from bot.services import Actor, Deps, ServiceError
from bot.services.duty import duty_groups
from bot.texts import tickets as T

SUBJECT = "ticket"
MAX_TEXT = 2000          # a ticket keeps at most this much of the report
MAX_NOTE = 500           # notes, resolutions, reasons
QUOTE = 80               # how much of the report a notification quotes

# --------------------------------------------------------------------------- policy
DEFAULT_DEADLINES: dict[str, tuple[timedelta, timedelta]] = {
    # key: "urgent" or a category; value: (to first response, to resolution)
    "urgent": (timedelta(minutes=30), timedelta(hours=24)),
    "default": (timedelta(hours=24), timedelta(days=7)),
    "elevator": (timedelta(hours=8), timedelta(days=3)),
    "utilities": (timedelta(hours=8), timedelta(days=3)),
    "safety": (timedelta(hours=8), timedelta(days=3)),
    "assistance": (timedelta(hours=8), timedelta(days=3)),
    "sanitation": (timedelta(hours=24), timedelta(days=3)),
    "noise": (timedelta(hours=24), timedelta(days=3)),
    "roads": (timedelta(hours=24), timedelta(days=14)),
    "greening": (timedelta(hours=24), timedelta(days=14)),
    "dispute": (timedelta(hours=24), timedelta(days=14)),
}
DEFAULTS: dict[str, Any] = {
    "ack_mode": "group",
    "duplicate_window_hours": 72,
    "confirm_days": 3,
    "quiet_hours": (22, 7),  # local hours: non-urgent notices to staff wait for the morning
    "tell_reporters": True,  # reporters hear privately of the assignment and the assignee's progress
}
# Categories the property company answers for: what the complaint ranking counts.
PROPERTY_CATEGORIES = frozenset({"property", "sanitation", "parking", "elevator", "greening"})

FALLBACK_LABELS = {
    "property": "物业服务", "sanitation": "环境卫生/垃圾", "parking": "停车/车棚/充电",
    "roads": "道路/路灯/井盖/排水", "utilities": "水电气暖/网络", "elevator": "电梯",
    "noise": "噪音扰民", "safety": "安全/消防", "dispute": "邻里纠纷", "greening": "绿化",
    "pets": "宠物", "assistance": "困难帮扶/求助", "other": "其他",
}


def category_labels() -> dict[str, str]:
    try:
        import nlp

        return {**FALLBACK_LABELS, **nlp.CATEGORY_LABELS}
    except (ImportError, AttributeError):
        return dict(FALLBACK_LABELS)


def category_label(code: str | None) -> str:
    return category_labels().get(code or "other", code or "其他")


def policy(deps: Deps, compound_id: int | None, key: str, default: Any = None) -> Any:
    """A ticket setting: the compound's, else the district's ``tickets`` section, else ours."""
    value = deps.org.setting(compound_id, key) if compound_id else None
    if value is not None:
        return value
    section = getattr(deps.settings, "tickets", None)
    if section is not None:
        value = section.get(key) if isinstance(section, dict) else getattr(section, key, None)
        if value is not None:
            return value
    return DEFAULTS.get(key, default) if default is None else default


def _span(spec: dict, prefix: str) -> timedelta | None:
    for unit in ("minutes", "hours", "days"):
        value = spec.get(f"{prefix}_{unit}")
        if isinstance(value, (int, float)) and value > 0:
            return timedelta(**{unit: value})
    return None


def deadlines_for(deps: Deps, compound_id: int, category: str, urgent: bool) -> tuple[timedelta, timedelta]:
    """(to first response, to resolution) for a ticket of this category and urgency."""
    key = "urgent" if urgent else category
    first, resolve = DEFAULT_DEADLINES.get(key, DEFAULT_DEADLINES["default"])
    overrides = policy(deps, compound_id, "ticket_deadlines", {}) or {}
    for name in ("default", key):
        spec = overrides.get(name) if isinstance(overrides, dict) else None
        if isinstance(spec, dict):
            first = _span(spec, "first_response") or first
            resolve = _span(spec, "resolve") or resolve
    return first, resolve


# --------------------------------------------------------------------------- naming
def ticket_code(org, ticket: Ticket) -> str:  # noqa: ANN001
    """阳光花园-0042."""
    return f"{org.name_of(ticket.compound_id)}-{ticket.number:04d}"


def short_code(ticket: Ticket) -> str:
    return f"#{ticket.number:04d}"


def num(ticket: Ticket) -> str:
    return f"{ticket.number:04d}"


def what(ticket: Ticket) -> str:
    """"电梯 · 5号楼" — category and place, never the resident's words (safe for groups)."""
    label = category_label(ticket.category)
    return f"{label} · {ticket.location}" if ticket.location else label


def quote(text: str, limit: int = QUOTE) -> str:
    text = mask_pii(" ".join(text.split()))
    return text if len(text) <= limit else text[:limit] + "…"


def fmt_time(deps: Deps, moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return timefmt.moment(deps.clock.local(moment))


def fmt_span(delta: timedelta) -> str:
    minutes = max(1, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}分钟"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}小时"
    return f"{hours // 24}天"


_REF = re.compile(r"^[#＃]?\s*(?:(?P<compound>[^\s\d#＃-][^\s#＃]*?)\s*[-－—_]\s*)?0*(?P<number>\d{1,6})$")


def parse_ref(text: str) -> tuple[str | None, int] | None:
    """"0042", "#42", "阳光花园-0042" → (compound name or None, 42)."""
    match = _REF.match(text.strip())
    if not match:
        return None
    number = int(match.group("number"))
    return (match.group("compound"), number) if number > 0 else None


# --------------------------------------------------------------------------- people
async def people_with_role(session: AsyncSession, org, role: str, compound_id: int) -> list[Person]:  # noqa: ANN001
    """Holders of ``role`` for a compound (area roles: for its community, or district-wide)."""
    community_id = org.community_of.get(compound_id)
    scope = Role.compound_id == compound_id
    if role in (RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF):
        scope = or_(scope, Role.community_id == community_id,
                    and_(Role.compound_id.is_(None), Role.community_id.is_(None)))
    rows = (await session.execute(
        select(Person).join(Role, Role.person_id == Person.id)
        .where(Role.name == role, scope).order_by(Person.id)
    )).scalars().unique().all()
    return list(rows)


async def secretaries(session: AsyncSession, org, compound_id: int) -> list[Person]:  # noqa: ANN001
    return await people_with_role(session, org, RoleName.SECRETARY, compound_id)


async def supervisors(session: AsyncSession, org, compound_id: int) -> list[Person]:  # noqa: ANN001
    """The community committee for a compound; district staff when the community has nobody."""
    found = await people_with_role(session, org, RoleName.COMMUNITY_STAFF, compound_id)
    return found or await people_with_role(session, org, RoleName.DISTRICT_STAFF, compound_id)


async def person_names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict((await session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted)))).all())


# --------------------------------------------------------------------------- rights
def can_handle(actor: Actor, compound_id: int) -> bool:
    """支部先议: the compound's secretary and its delegates; community staff in their community."""
    return actor.is_system or actor.roles.has_any(HANDLING_ROLES, compound_id)


def is_assignee(actor: Actor, ticket: Ticket) -> bool:
    return actor.person_id is not None and actor.person_id == ticket.assignee_person_id


async def is_reporter(session: AsyncSession, actor: Actor, ticket: Ticket) -> bool:
    if actor.person_id is None:
        return False
    return await _reporter_row(session, ticket.id, actor.person_id) is not None


async def _reporter_row(session: AsyncSession, ticket_id: int, person_id: int) -> TicketReporter | None:
    return (await session.execute(select(TicketReporter).where(
        TicketReporter.ticket_id == ticket_id, TicketReporter.person_id == person_id))).scalar_one_or_none()


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


# --------------------------------------------------------------------------- events & messages
def record(deps: Deps, actor: Actor, ticket: Ticket, action: str, *, from_state: str | None = None,
           to_state: str | None = None, note: str | None = None, data: dict | None = None) -> Event:
    now = deps.clock.now()
    ticket.updated_at = now
    event = Event(subject_kind=SUBJECT, subject_id=ticket.id, action=action, at=now,
                  actor_person_id=actor.person_id, actor_web_user=actor.web_user,
                  from_state=from_state, to_state=to_state, note=note, data=data)
    deps.session.add(event)
    return event


def tell(deps: Deps, person_id: int | None, text: str, ticket: Ticket, *, priority: int = Priority.REPLY,
         not_before: datetime | None = None) -> None:
    if person_id is None:
        return
    deps.outbox.enqueue(deps.session, text, person_id=person_id, priority=priority, ref=(SUBJECT, ticket.id),
                        not_before=not_before)


def _tell_many(deps: Deps, people: Iterable[Person | int], text: str, ticket: Ticket, *,
               skip: int | None = None, priority: int = Priority.REPLY,
               not_before: datetime | None = None) -> list[int]:
    told: list[int] = []
    for item in people:
        pid = item if isinstance(item, int) else item.id
        if pid == skip or pid in told:
            continue
        tell(deps, pid, text, ticket, priority=priority, not_before=not_before)
        told.append(pid)
    return told


def after_quiet_hours(deps: Deps, ticket: Ticket) -> datetime | None:
    """For a non-urgent notice at night (``quiet_hours``, default 22–7 local): when it may go."""
    if ticket.urgent:
        return None
    start, end = policy(deps, ticket.compound_id, "quiet_hours")
    local = deps.clock.local()
    if start <= end:
        quiet = start <= local.hour < end
    else:
        quiet = local.hour >= start or local.hour < end
    if not quiet:
        return None
    wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake.astimezone(timezone.utc)


def _first_response(deps: Deps, actor: Actor, ticket: Ticket) -> None:
    if ticket.first_response_at is None and can_handle(actor, ticket.compound_id) and not actor.is_system:
        ticket.first_response_at = deps.clock.now()


def _correction(deps: Deps, actor: Actor, ticket: Ticket, kind: str, *, is_issue: bool, category: str,
                urgent: bool, text: str | None = None) -> None:
    deps.session.add(NlpCorrection(
        kind=kind, text=text if text is not None else ticket.text, predicted_is_issue=ticket.nlp_is_issue,
        predicted_category=ticket.nlp_category, predicted_urgent=ticket.urgent if kind != "urgency" else not urgent,
        is_issue=is_issue, category=category, urgent=urgent, location=ticket.location or None,
        ticket_id=ticket.id, compound_id=ticket.compound_id, actor_person_id=actor.person_id,
        actor_web_user=actor.web_user, at=deps.clock.now()))


# --------------------------------------------------------------------------- intake
@dataclass
class IntakeResult:
    ticket: Ticket
    outcome: str  # "created" | "merged" | "repeat" (this reporter had raised it already)
    alerted: list[str] = dataclasses.field(default_factory=list)  # role labels told of an urgent ticket


def stored_analysis(ticket: Ticket) -> Any:
    """The NLP's view of an open ticket, rebuilt from its columns (never re-analysed)."""
    import nlp

    known = {f.name for f in dataclasses.fields(nlp.Location)}
    parts = {k: (tuple(v) if isinstance(v, list) else v) for k, v in (ticket.location_parts or {}).items()
             if k in known}
    return nlp.Analysis(text=ticket.text, is_issue=True, confidence=ticket.nlp_confidence or 1.0,
                        category=ticket.category, urgent=ticket.urgent, location=nlp.Location(**parts),
                        fingerprint=frozenset(ticket.fingerprint or ()))


def _location_parts(location: Any) -> dict:
    if location is None or not dataclasses.is_dataclass(location):
        return {}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(location).items()
            if v not in (None, (), [])}


def _duplicate(analyzer: Any, new: Any, old: Any) -> bool:
    check = getattr(analyzer, "is_duplicate", None)
    if check is None:
        import nlp

        check = nlp.is_duplicate
    return bool(check(new, old))


async def find_duplicate(deps: Deps, compound_id: int, analysis: Any, analyzer: Any) -> Ticket | None:
    """An open ticket of the compound, reported within the window, about the same problem."""
    hours = float(policy(deps, compound_id, "duplicate_window_hours"))
    since = deps.clock.now() - timedelta(hours=hours)
    candidates = (await deps.session.execute(
        select(Ticket).where(Ticket.compound_id == compound_id, Ticket.state.in_(OPEN_STATES),
                             Ticket.created_at >= since, Ticket.category == analysis.category)
        .order_by(Ticket.created_at.desc()).limit(50)
    )).scalars().all()
    for ticket in candidates:
        if _duplicate(analyzer, analysis, stored_analysis(ticket)):
            return ticket
    return None


async def _next_number(session: AsyncSession, compound_id: int) -> int:
    """Atomic per-compound counter (a row update, so concurrent reports never share a number)."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    await session.execute(insert(TicketCounter).values(compound_id=compound_id, last_number=0)
                          .on_conflict_do_nothing(index_elements=["compound_id"]))
    result = await session.execute(
        update(TicketCounter).where(TicketCounter.compound_id == compound_id)
        .values(last_number=TicketCounter.last_number + 1).returning(TicketCounter.last_number))
    return int(result.scalar_one())


async def report(deps: Deps, actor: Actor, text: str, *, compound_id: int, analysis: Any,
                 analyzer: Any = None, group_id: int | None = None, message_id: int | None = None,
                 explicit: bool = False, channel: str | None = None) -> IntakeResult:
    """A resident's report: merged into an open duplicate, or a new ticket (alerting if urgent)."""
    if compound_id not in deps.org.compounds:
        raise ServiceError(T.NEED_COMPOUND)
    text = text.strip()[:MAX_TEXT]
    predicted_issue, predicted_category = bool(analysis.is_issue), analysis.category
    if not analysis.is_issue or analysis.category in (None, "", "none"):
        # An explicit report is an issue whatever the NLP thought.
        category = analysis.category if analysis.category not in (None, "", "none") else "other"
        analysis = dataclasses.replace(analysis, is_issue=True, category=category)
    now = deps.clock.now()
    reporter_id = actor.person_id

    duplicate = await find_duplicate(deps, compound_id, analysis, analyzer)
    if duplicate is not None:
        if reporter_id is not None and await _reporter_row(deps.session, duplicate.id, reporter_id):
            return IntakeResult(duplicate, "repeat")
        if reporter_id is not None:
            deps.session.add(TicketReporter(ticket_id=duplicate.id, person_id=reporter_id, group_id=group_id,
                                            message_id=message_id, text=text, reported_at=now))
        duplicate.reporters_count += 1
        record(deps, actor, duplicate, "reported", note=quote(text, 200),
               data={"count": duplicate.reporters_count, "group_id": group_id})
        result = IntakeResult(duplicate, "merged")
        await _attach_waiting_media(deps, duplicate, reporter_id, group_id)
        if analysis.urgent and not duplicate.urgent:
            duplicate.urgent = True
            _set_deadlines(deps, duplicate, from_time=duplicate.created_at)
            result.alerted = await _urgent_alert(deps, actor, duplicate, text, group_id)
        return result

    first, resolve = deadlines_for(deps, compound_id, analysis.category, bool(analysis.urgent))
    location = getattr(analysis, "location", None)
    ticket = Ticket(
        compound_id=compound_id, number=await _next_number(deps.session, compound_id),
        state=TicketState.NEW, channel=channel or ("group" if group_id else "private"), text=text,
        category=analysis.category, urgent=bool(analysis.urgent),
        location=(location.label() if location is not None else "")[:128],
        building=getattr(location, "building", None), location_parts=_location_parts(location),
        fingerprint=sorted(getattr(analysis, "fingerprint", ()) or ()), nlp_is_issue=predicted_issue,
        nlp_category=predicted_category, nlp_confidence=float(getattr(analysis, "confidence", 0.0) or 0.0),
        nlp_reasons=list(getattr(analysis, "reasons", ()) or ())[:10], reporter_person_id=reporter_id,
        group_id=group_id, source_message_id=message_id, reporters_count=1, created_at=now, updated_at=now,
        first_response_due=now + first, resolve_due=now + resolve,
        created_by_person_id=actor.person_id, created_by_web=actor.web_user,
    )
    from bot.services import ticket_talk

    await ticket_talk.fill_reporter_address(deps, ticket, reporter_id)
    deps.session.add(ticket)
    await deps.session.flush()
    if reporter_id is not None:
        deps.session.add(TicketReporter(ticket_id=ticket.id, person_id=reporter_id, group_id=group_id,
                                        message_id=message_id, text=text, reported_at=now))
    await _attach_waiting_media(deps, ticket, reporter_id, group_id)
    record(deps, actor, ticket, "created", to_state=TicketState.NEW, note=ticket.channel,
           data={"explicit": explicit, "confidence": ticket.nlp_confidence, "reasons": ticket.nlp_reasons})
    if explicit and not predicted_issue and len(text) >= 4:
        _correction(deps, actor, ticket, "missed_issue", is_issue=True, category=ticket.category,
                    urgent=ticket.urgent)
    result = IntakeResult(ticket, "created")
    if ticket.urgent:
        result.alerted = await _urgent_alert(deps, actor, ticket, text, group_id)
    else:
        await _tell_secretaries_new(deps, actor, ticket, text, group_id)
    return result


async def _attach_waiting_media(deps: Deps, ticket: Ticket, person_id: int | None, group_id: int | None) -> None:
    from bot.services import ticket_talk

    window = timedelta(minutes=getattr(deps.settings, "media_window_minutes", 10))
    await ticket_talk.attach_waiting_media(deps, ticket, person_id, group_id, window)
    # Photos nobody's report claimed in time go here and at the next photo (no job needed).
    await ticket_talk.purge_waiting_media(deps, deps.settings.media_dir, window)


async def _reporter_where(deps: Deps, actor: Actor, group_id: int | None) -> tuple[str, str]:
    names = await person_names(deps.session, [actor.person_id])
    reporter = names.get(actor.person_id or 0, actor.name)
    if group_id is not None:
        group = await deps.session.get(ChatGroup, group_id)
        return reporter, T.WHERE_GROUP.format(group=group.topic if group else "")
    return reporter, T.WHERE_PRIVATE


async def _tell_secretaries_new(deps: Deps, actor: Actor, ticket: Ticket, text: str, group_id: int | None) -> None:
    reporter, where = await _reporter_where(deps, actor, group_id)
    message = T.NEW_TICKET.format(code=ticket_code(deps.org, ticket), what=what(ticket), reporter=reporter,
                                  where=where, text=quote(text, 200), due=fmt_time(deps, ticket.first_response_due),
                                  num=num(ticket), address=T.REPORTER_ADDRESS.format(address=ticket.reporter_address)
                                  if ticket.reporter_address else "")
    _tell_many(deps, await secretaries(deps.session, deps.org, ticket.compound_id), message, ticket,
               skip=actor.person_id, not_before=after_quiet_hours(deps, ticket))


async def _urgent_alert(deps: Deps, actor: Actor, ticket: Ticket, text: str, group_id: int | None) -> list[str]:
    """Secretary and grid worker hear of an urgent ticket at once (community staff if neither)."""
    reporter, where = await _reporter_where(deps, actor, group_id)
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
    told = _tell_many(deps, recipients, message, ticket, priority=Priority.URGENT)
    for group_id in (await duty_groups(deps.session, [ticket.compound_id])).get(ticket.compound_id, []):
        deps.outbox.enqueue(deps.session, message, group_id=group_id, priority=Priority.URGENT)
    record(deps, SYSTEM, ticket, "urgent_alert", note="、".join(labels), data={"told": told})
    return labels


async def escalate_undelivered_alert(session: AsyncSession, outbox: Any, clock: Any, row: Any,
                                     minutes: int) -> list[str]:
    """An urgent alert to ``row.person_id`` was not delivered within ``minutes``: pass it to the
    next people up (community staff, then district staff) who were not alerted yet, and record
    it on the ticket. Returns their names (empty when nobody is left: the event says so)."""
    from bot.models import Compound, OutboxMessage  # noqa: PLC0415  (the outbox calls in here)

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
    session.add(Event(subject_kind=SUBJECT, subject_id=ticket.id, action="alert_escalated", at=clock.now(),
                      note="、".join(names) or T.URGENT_ESCALATED_NOBODY,
                      data={"outbox_id": row.id, "undelivered_to": row.person_id, "told": [p.id for p in backups]}))
    return names


# --------------------------------------------------------------------------- lookup
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
        ids += (await deps.session.execute(
            select(Ticket.compound_id).join(TicketReporter, TicketReporter.ticket_id == Ticket.id)
            .where(TicketReporter.person_id == actor.person_id).distinct())).scalars().all()
        ids += (await deps.session.execute(select(Ticket.compound_id).where(
            Ticket.assignee_person_id == actor.person_id).distinct())).scalars().all()
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


# --------------------------------------------------------------------------- assignment
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
    _first_response(deps, actor, ticket)
    action = "transferred" if transfer else "assigned"
    text_note = assignee.label + (f"（{note[:MAX_NOTE]}）" if note else "")
    record(deps, actor, ticket, action, from_state=before, to_state=ticket.state, note=text_note,
           data={"kind": assignee.kind, "person_id": assignee.person_id, "previous": previous_label})
    if assignee.person_id is not None and assignee.person_id != actor.person_id:
        tell(deps, assignee.person_id, T.ASSIGNED_TELL.format(
            by=actor.name, code=ticket_code(deps.org, ticket), what=what(ticket), text=quote(ticket.text, 200),
            count=ticket.reporters_count, due=fmt_time(deps, ticket.resolve_due), num=num(ticket),
            extra=T.ASSIGNED_EXTRA.format(note=mask_pii(note[:MAX_NOTE])) if note else ""),
            ticket, priority=Priority.URGENT if ticket.urgent else Priority.REPLY)
    if (policy(deps, ticket.compound_id, "tell_reporters") or policy(deps, ticket.compound_id, "ack_mode") == "private"
            or ticket.channel == "private"):
        message = T.REPORTER_ASSIGNED.format(code=ticket_code(deps.org, ticket), label=_public_label(assignee))
        _tell_many(deps, await reporter_ids(deps.session, ticket), message, ticket, skip=actor.person_id)
    return assignee


def _public_label(assignee: Assignee) -> str:
    """What a resident is told: the kind of handler, not a private person's name."""
    return T.ASSIGNEE_KIND_LABELS.get(assignee.kind) or assignee.label


async def add_note(deps: Deps, actor: Actor, ticket: Ticket, note: str) -> None:
    require_handler_or_assignee(deps, actor, ticket, "备注")
    note = note.strip()[:MAX_NOTE]
    _first_response(deps, actor, ticket)
    record(deps, actor, ticket, "noted", note=note)
    message = T.NOTE_TELL.format(code=ticket_code(deps.org, ticket), by=actor.name, note=mask_pii(note))
    others = [ticket.assignee_person_id] if ticket.assignee_person_id else []
    if not actor.roles.has(RoleName.SECRETARY, ticket.compound_id):
        others += [p.id for p in await secretaries(deps.session, deps.org, ticket.compound_id)]
    _tell_many(deps, [o for o in others if o], message, ticket, skip=actor.person_id)
    if is_assignee(actor, ticket) and policy(deps, ticket.compound_id, "tell_reporters"):
        # The assignee's progress, not the branch's internal remarks, reaches the reporters.
        _tell_many(deps, await reporter_ids(deps.session, ticket),
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
        _tell_many(deps, await reporter_ids(deps.session, ticket),
                   T.REPORTER_TAKEN.format(code=ticket_code(deps.org, ticket)), ticket, skip=actor.person_id)
    return True


async def reporter_ids(session: AsyncSession, ticket: Ticket) -> list[int]:
    return list((await session.execute(select(TicketReporter.person_id).where(
        TicketReporter.ticket_id == ticket.id).order_by(TicketReporter.reported_at, TicketReporter.id))).scalars())


async def reporters(session: AsyncSession, ticket: Ticket) -> list[TicketReporter]:
    return list((await session.execute(select(TicketReporter).where(
        TicketReporter.ticket_id == ticket.id).order_by(TicketReporter.reported_at, TicketReporter.id))).scalars())


# --------------------------------------------------------------------------- corrections
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
    _correction(deps, actor, ticket, "not_issue", is_issue=False, category="none", urgent=False)
    message = T.REJECTED_TELL.format(code=ticket_code(deps.org, ticket), by=actor.name)
    told = [ticket.assignee_person_id] if ticket.assignee_person_id else []
    if not handler:
        told += [p.id for p in await secretaries(deps.session, deps.org, ticket.compound_id)]
    _tell_many(deps, [t for t in told if t], message, ticket, skip=actor.person_id)


def parse_category(word: str) -> str | None:
    word = word.strip()
    labels = category_labels()
    if word in labels:
        return word
    for code, label in labels.items():
        if word == label or word in label.split("/"):
            return code
    return T.CATEGORY_WORDS.get(word)


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
    _set_deadlines(deps, ticket, from_time=ticket.created_at)
    _first_response(deps, actor, ticket)
    record(deps, actor, ticket, "recategorized", from_state=before,
           to_state=f"{ticket.category}{'/urgent' if ticket.urgent else ''}", note=category_label(ticket.category))
    if changed_category:
        _correction(deps, actor, ticket, "category", is_issue=True, category=ticket.category, urgent=ticket.urgent)
    if changed_urgency:
        _correction(deps, actor, ticket, "urgency", is_issue=True, category=ticket.category, urgent=ticket.urgent)


def _set_deadlines(deps: Deps, ticket: Ticket, *, from_time: datetime) -> None:
    first, resolve = deadlines_for(deps, ticket.compound_id, ticket.category, ticket.urgent)
    ticket.first_response_due = from_time + first
    ticket.resolve_due = from_time + resolve


# --------------------------------------------------------------------------- merge & split
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
        _set_deadlines(deps, target, from_time=target.created_at)
    before = source.state
    source.state = TicketState.MERGED
    source.merged_into_id = target.id
    source.closed_at = deps.clock.now()
    source.reporters_count = 0
    _first_response(deps, actor, target)
    src, dst = ticket_code(deps.org, source), ticket_code(deps.org, target)
    record(deps, actor, source, "merged_from", from_state=before, to_state=source.state, note=dst)
    record(deps, actor, target, "merged", note=src, data={"source": source.id, "moved": moved})
    message = T.MERGED_TELL.format(source=src, target=dst)
    if policy(deps, target.compound_id, "ack_mode") == "private":
        rows = (await deps.session.execute(select(TicketReporter.person_id).where(
            TicketReporter.ticket_id == target.id))).scalars().all()
        _tell_many(deps, [r for r in rows if r not in existing], message, target, skip=actor.person_id)


async def split(deps: Deps, actor: Actor, ticket: Ticket, who: str, analyzer: Any = None) -> tuple[Ticket, str]:
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
    location = getattr(analysis, "location", None)
    new = Ticket(
        compound_id=ticket.compound_id, number=await _next_number(deps.session, ticket.compound_id),
        state=TicketState.NEW, channel=ticket.channel, text=row.text or ticket.text, category=category,
        urgent=bool(analysis and analysis.urgent), location=(location.label() if location else ticket.location)[:128],
        building=getattr(location, "building", None) if location else ticket.building,
        location_parts=_location_parts(location) if location else dict(ticket.location_parts or {}),
        fingerprint=sorted(getattr(analysis, "fingerprint", ()) or ()),
        nlp_is_issue=bool(analysis.is_issue) if analysis else None,
        nlp_category=analysis.category if analysis else None,
        nlp_confidence=float(getattr(analysis, "confidence", 0.0) or 0.0) if analysis else None,
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


def _analyze(analyzer: Any, text: str) -> Any:
    if not text:
        return None
    if analyzer is None:
        import nlp

        analyzer = nlp
    return analyzer.analyze(text)


# --------------------------------------------------------------------------- resolution
async def resolve(deps: Deps, actor: Actor, ticket: Ticket, note: str) -> int:
    """办结: every reporter is asked to confirm and rate. Returns how many were asked."""
    require_handler_or_assignee(deps, actor, ticket, "办结")
    await require_open(deps, ticket, "办结")
    now = deps.clock.now()
    note = note.strip()[:MAX_NOTE]
    before = ticket.state
    ticket.state = TicketState.RESOLVED
    ticket.resolved_at = now
    ticket.resolution = note
    days = int(policy(deps, ticket.compound_id, "confirm_days"))
    ticket.confirm_due = now + timedelta(days=days)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    record(deps, actor, ticket, "resolved", from_state=before, to_state=ticket.state, note=note)
    rows = await reporters(deps.session, ticket)
    for row in rows:
        row.confirm_asked_at, row.rating, row.rated_at, row.rating_comment = now, None, None, None
    await _ask_confirmation(deps, ticket, rows, note, days)
    if not can_handle(actor, ticket.compound_id):
        message = T.RESOLVED_TELL_SECRETARY.format(code=ticket_code(deps.org, ticket), by=actor.name,
                                                   note=mask_pii(note))
        _tell_many(deps, await secretaries(deps.session, deps.org, ticket.compound_id), message, ticket,
                   skip=actor.person_id)
    return len(rows)


async def _ask_confirmation(deps: Deps, ticket: Ticket, rows: list[TicketReporter], note: str, days: int) -> None:
    """Per the compound's ack mode: one group message mentioning that group's reporters, or
    a private message each (always private for reports made privately)."""
    group_mode = policy(deps, ticket.compound_id, "ack_mode") != "private"
    by_group: dict[int, list[int]] = {}
    private_text = T.CONFIRM_ASK.format(code=ticket_code(deps.org, ticket), what=what(ticket),
                                        note=mask_pii(note), days=days)
    for row in rows:
        if group_mode and row.group_id is not None:
            by_group.setdefault(row.group_id, []).append(row.person_id)
        else:
            tell(deps, row.person_id, private_text, ticket)
    for group_id, people in by_group.items():
        group = await deps.session.get(ChatGroup, group_id)
        if group is None or not group.active:
            for pid in people:
                tell(deps, pid, private_text, ticket)
            continue
        deps.outbox.enqueue(deps.session, T.CONFIRM_ASK_GROUP.format(
            short=short_code(ticket), what=what(ticket), note=note, days=days),
            group_id=group_id, mention_person_ids=people, account=group.account, ref=(SUBJECT, ticket.id))


RATING_ORDER = {Rating.UNSATISFIED: 0, Rating.BASIC: 1, Rating.SATISFIED: 2, Rating.DEFAULT: 3}

_RATING_PATTERNS = (
    (Rating.UNSATISFIED, re.compile(
        r"^(?:非常|很|太|特别)?不(?:太)?满意|^(?:还是|还|仍然|依然|仍)?(?:没|没有|未)(?:修好|解决|弄好|处理好|好)|^又坏了")),
    (Rating.BASIC, re.compile(r"^基本满意|^还算满意|^比较满意")),
    (Rating.SATISFIED, re.compile(r"^(?:非常|很|挺|十分|特别)?满意(?!度)")),
)
_RATING_TRIM = re.compile(r"^[\s，,。.！!、:：]+")


def parse_rating(text: str) -> tuple[str, str] | None:
    """"满意" / "基本满意" / "不满意，还是堵" → (rating, comment); None when it is no rating."""
    text = text.strip()
    if not text or len(text) > 60:
        return None
    for rating, pattern in _RATING_PATTERNS:
        match = pattern.match(text)
        if match:
            return rating, _RATING_TRIM.sub("", text[match.end():])[:MAX_NOTE]
    return None


async def pending_confirmations(session: AsyncSession, person_id: int) -> list[Ticket]:
    """Resolved tickets this person reported and has not rated yet, oldest first."""
    return list((await session.execute(
        select(Ticket).join(TicketReporter, TicketReporter.ticket_id == Ticket.id).where(
            TicketReporter.person_id == person_id, TicketReporter.confirm_asked_at.is_not(None),
            TicketReporter.rating.is_(None), Ticket.state == TicketState.RESOLVED)
        .order_by(Ticket.resolved_at, Ticket.id))).scalars())


@dataclass
class RateResult:
    closed: bool = False
    reopened: bool = False
    supervised: bool = False


async def rate(deps: Deps, actor: Actor, ticket: Ticket, rating: str, comment: str = "") -> RateResult:
    """A reporter's confirmation. 不满意 reopens; when everyone has rated, the ticket closes."""
    code = ticket_code(deps.org, ticket)
    row = await _reporter_row(deps.session, ticket.id, actor.person_id) if actor.person_id else None
    if row is None:
        raise ServiceError(T.NO_RIGHT_RATE.format(code=code))
    if ticket.state != TicketState.RESOLVED or row.confirm_asked_at is None:
        raise ServiceError(T.NOT_RATABLE.format(code=code, state=T.STATE_LABELS.get(ticket.state, ticket.state)))
    if row.rating is not None:
        raise ServiceError(T.ALREADY_RATED.format(code=code, rating=T.RATING_LABELS.get(row.rating, row.rating)))
    now = deps.clock.now()
    row.rating, row.rated_at, row.rating_comment = rating, now, comment[:MAX_NOTE] or None
    record(deps, actor, ticket, "rated", to_state=rating, note=comment[:MAX_NOTE] or None)
    if rating == Rating.UNSATISFIED:
        return await reopen(deps, actor, ticket, comment)
    rows = await reporters(deps.session, ticket)
    if all(r.rating is not None for r in rows if r.confirm_asked_at is not None):
        close(deps, actor, ticket, _worst([r.rating for r in rows if r.rating]), action="closed")
        return RateResult(closed=True)
    return RateResult()


def _worst(ratings: Sequence[str]) -> str:
    return min(ratings, key=lambda r: RATING_ORDER.get(r, 9)) if ratings else Rating.DEFAULT


def close(deps: Deps, actor: Actor, ticket: Ticket, satisfaction: str, *, action: str) -> None:
    before = ticket.state
    ticket.state = TicketState.CLOSED
    ticket.closed_at = deps.clock.now()
    ticket.satisfaction = satisfaction
    record(deps, actor, ticket, action, from_state=before, to_state=ticket.state,
           note=T.RATING_LABELS.get(satisfaction, satisfaction))


async def reopen(deps: Deps, actor: Actor, ticket: Ticket, comment: str = "") -> RateResult:
    """Back to work with a fresh deadline; the second reopen escalates (督办)."""
    now = deps.clock.now()
    before = ticket.state
    ticket.state = TicketState.ASSIGNED if ticket.assignee_label else TicketState.NEW
    ticket.reopen_count += 1
    ticket.resolved_at = None
    ticket.confirm_due = None
    _, resolve_span = deadlines_for(deps, ticket.compound_id, ticket.category, ticket.urgent)
    ticket.resolve_due = now + resolve_span
    ticket.resolve_escalated_at = None
    for row in await reporters(deps.session, ticket):
        row.confirm_asked_at = None  # asked again at the next 办结
    record(deps, actor, ticket, "reopened", from_state=before, to_state=ticket.state,
           note=comment[:MAX_NOTE] or None, data={"count": ticket.reopen_count})
    message = T.REOPENED_TELL.format(code=ticket_code(deps.org, ticket), what=what(ticket),
                                     comment=f"：{mask_pii(comment)}" if comment else "",
                                     due=fmt_time(deps, ticket.resolve_due))
    people = [ticket.assignee_person_id] if ticket.assignee_person_id else []
    people += [p.id for p in await secretaries(deps.session, deps.org, ticket.compound_id)]
    _tell_many(deps, [p for p in people if p], message, ticket, skip=actor.person_id)
    result = RateResult(reopened=True)
    if ticket.reopen_count >= 2:
        await supervise(deps, SYSTEM, ticket, T.REASON_SECOND_REOPEN.format(count=ticket.reopen_count))
        result.supervised = True
    return result


# --------------------------------------------------------------------------- supervision & sweeps
SYSTEM = Actor(name="系统", roles=Roles((), {}))  # schedules and automatic steps


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
        created=fmt_time(deps, ticket.created_at), count=ticket.reporters_count)
    priority = Priority.URGENT if ticket.urgent else Priority.REPLY
    bosses = await supervisors(deps.session, deps.org, ticket.compound_id)
    people = bosses + await secretaries(deps.session, deps.org, ticket.compound_id)
    ids = [p.id for p in people] + ([ticket.assignee_person_id] if ticket.assignee_person_id else [])
    _tell_many(deps, ids, message, ticket, skip=actor.person_id, priority=priority,
               not_before=after_quiet_hours(deps, ticket))
    return [p.name for p in bosses]


async def supervise_by_hand(deps: Deps, actor: Actor, ticket: Ticket, note: str = "") -> list[str]:
    """督办 by community or district staff."""
    if not (actor.is_system or actor.roles.has_any((RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF),
                                                   ticket.compound_id)):
        raise ServiceError(T.NO_RIGHT_SUPERVISE)
    await require_open(deps, ticket, "督办")
    return await supervise(deps, actor, ticket, T.REASON_MANUAL.format(by=actor.name, note=note or "请加快办理"))


async def escalate_overdue(deps: Deps, now: datetime | None = None) -> int:
    """The sweep: open tickets past their first-response or resolution deadline are escalated
    to the community committee, once per deadline. Returns how many escalations."""
    now = now or deps.clock.now()
    from bot.services.agenda import awaiting_meeting  # (agenda imports this module) on the agenda: waits for the meeting
    rows = (await deps.session.execute(select(Ticket).where(
        Ticket.state.in_(OPEN_STATES), Ticket.id.not_in(awaiting_meeting(now)),
        or_(and_(Ticket.first_response_at.is_(None), Ticket.first_response_due <= now,
                 Ticket.response_escalated_at.is_(None)),
            and_(Ticket.resolve_due <= now, Ticket.resolve_escalated_at.is_(None))))
        .order_by(Ticket.id))).scalars().all()
    count = 0
    for ticket in rows:
        if ticket.resolve_due is not None and ticket.resolve_due <= now and ticket.resolve_escalated_at is None:
            ticket.resolve_escalated_at = now
            ticket.response_escalated_at = ticket.response_escalated_at or now
            reason = T.REASON_RESOLVE_OVERDUE.format(due=fmt_time(deps, ticket.resolve_due))
        else:
            ticket.response_escalated_at = now
            reason = T.REASON_RESPONSE_OVERDUE.format(due=fmt_time(deps, ticket.first_response_due))
        await supervise(deps, SYSTEM, ticket, reason)
        count += 1
    return count


async def close_unconfirmed(deps: Deps, now: datetime | None = None) -> int:
    """Resolved tickets nobody confirmed within the window close as resolved."""
    now = now or deps.clock.now()
    rows = (await deps.session.execute(select(Ticket).where(
        Ticket.state == TicketState.RESOLVED, Ticket.confirm_due <= now).order_by(Ticket.id))).scalars().all()
    for ticket in rows:
        ratings = (await deps.session.execute(select(TicketReporter.rating).where(
            TicketReporter.ticket_id == ticket.id, TicketReporter.rating.is_not(None)))).scalars().all()
        close(deps, SYSTEM, ticket, _worst(list(ratings)) if ratings else Rating.DEFAULT, action="auto_closed")
    return len(rows)


# --------------------------------------------------------------------------- queries
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
    from bot.models.tickets import AgendaItem, DiscussionDay

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
    from bot.texts import agenda as TA

    if meeting is not None:
        return T.DUE_SEP + TA.WAITING.format(when=fmt_time(deps, meeting))
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


def visible_compounds(deps: Deps, actor: Actor) -> list[int]:
    """Compounds whose tickets ``actor`` may list (handling roles; system: all)."""
    if actor.is_system:
        return list(deps.org.compounds)
    return actor.roles.compounds_with(HANDLING_ROLES, deps.org.compounds)


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


def month_bounds(month: str, tz) -> tuple[datetime, datetime]:  # noqa: ANN001
    """[start, end) in UTC of a local calendar month "YYYY-MM"."""
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


async def tickets_by_compound(session: AsyncSession, month: str, tz) -> dict[int, int]:  # noqa: ANN001
    start, end = month_bounds(month, tz)
    rows = (await session.execute(select(Ticket.compound_id, func.count()).where(
        Ticket.created_at >= start, Ticket.created_at < end,
        Ticket.state.not_in([TicketState.MERGED, TicketState.REJECTED])).group_by(Ticket.compound_id))).all()
    return {cid: n for cid, n in rows}


async def complaints_by_property_project(session: AsyncSession, month: str, tz) -> dict[int, int]:  # noqa: ANN001
    """Property project id → complaint tickets of the month (see the module docstring).

    A ticket counts once, for the compound's active project; with no project, nowhere."""
    start, end = month_bounds(month, tz)
    rows = (await session.execute(select(Ticket.compound_id, func.count()).where(
        Ticket.created_at >= start, Ticket.created_at < end,
        Ticket.state.not_in([TicketState.MERGED, TicketState.REJECTED]),
        or_(Ticket.category.in_(sorted(PROPERTY_CATEGORIES)), Ticket.assignee_kind == "property"))
        .group_by(Ticket.compound_id))).all()
    if not rows:
        return {}
    projects = (await session.execute(select(PropertyProject.id, PropertyProject.compound_id).where(
        PropertyProject.active.is_(True)).order_by(PropertyProject.id))).all()
    project_of: dict[int, int] = {}
    for pid, cid in projects:
        project_of.setdefault(cid, pid)
    out: dict[int, int] = {}
    for cid, n in rows:
        if cid in project_of:
            out[project_of[cid]] = out.get(project_of[cid], 0) + n
    return out


async def my_tickets(session: AsyncSession, person_id: int, *, limit: int = 10) -> tuple[list[Ticket], list[Ticket]]:
    """(tickets the person reported, newest first; open tickets assigned to them)."""
    reported = list((await session.execute(
        select(Ticket).join(TicketReporter, TicketReporter.ticket_id == Ticket.id)
        .where(TicketReporter.person_id == person_id).order_by(Ticket.created_at.desc()).limit(limit))).scalars())
    assigned = list((await session.execute(select(Ticket).where(
        Ticket.assignee_person_id == person_id, Ticket.state.in_(OPEN_STATES))
        .order_by(Ticket.resolve_due).limit(limit))).scalars())
    return reported, assigned


async def correction_examples(session: AsyncSession, *, unused_only: bool = True) -> list[dict]:
    """NLP corrections as training lines (the format of nlp/data/train/*.jsonl)."""
    query = select(NlpCorrection).order_by(NlpCorrection.id)
    if unused_only:
        query = query.where(NlpCorrection.used_at.is_(None))
    out = []
    for row in (await session.execute(query)).scalars():
        out.append({"text": row.text, "is_issue": row.is_issue, "category": row.category if row.is_issue else "none",
                    "urgent": bool(row.urgent and row.is_issue), "location": row.location if row.is_issue else None,
                    "source": "correction", "kind": row.kind, "id": row.id})
    return out


async def mark_corrections_used(session: AsyncSession, ids: Sequence[int], now: datetime) -> int:
    if not ids:
        return 0
    result = await session.execute(update(NlpCorrection).where(NlpCorrection.id.in_(list(ids))).values(used_at=now))
    return result.rowcount or 0
