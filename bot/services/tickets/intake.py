"""A resident's report becomes a ticket, or joins an open duplicate of it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from sqlalchemy import Row, bindparam, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

import nlp
from nlp import Analysis, Analyzer, Location
from bot.db import add_now, connection_of, read
from bot.models.tickets import OPEN_STATES, Ticket, TicketCounter, TicketReporter, TicketState
from bot.services import Actor, Deps, ServiceError
from bot.services.tickets import media
from bot.services.tickets.announce import Audience, audience, tell_secretaries_new, urgent_alert
from bot.services.tickets.corrections import record_correction
from bot.services.tickets.events import record
from bot.services.tickets.naming import quote
from bot.services.tickets.people import add_reporter
from bot.services.tickets.policy import MAX_TEXT, deadlines_for, policy, set_deadlines
from bot.texts import tickets as T


@dataclass
class IntakeResult:
    ticket: Ticket
    outcome: str  # "created" | "merged" | "repeat" (this reporter had raised it already)
    alerted: list[str] = dataclasses.field(default_factory=list)  # role labels told of an urgent ticket


def stored_analysis(ticket: Ticket | Row) -> Analysis:
    """The NLP's view of an open ticket, rebuilt from its columns (never re-analysed): the
    ticket, or a row of the columns it is compared by (``DUPLICATES``)."""
    known = {f.name for f in dataclasses.fields(Location)}
    parts = {k: (tuple(v) if isinstance(v, list) else v) for k, v in (ticket.location_parts or {}).items()
             if k in known}
    return Analysis(text=ticket.text, is_issue=True, confidence=ticket.nlp_confidence or 1.0,
                    category=ticket.category, urgent=ticket.urgent, location=Location(**parts),
                    fingerprint=frozenset(ticket.fingerprint or ()))


def location_parts(location: Location | None) -> dict:
    if location is None:
        return {}
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(location).items()
            if v not in (None, (), [])}


async def find_duplicate(deps: Deps, compound_id: int, analysis: Analysis,
                         analyzer: Analyzer | None) -> Ticket | None:
    """An open ticket of the compound, reported within the window, about the same problem
    (by ``analyzer``'s threshold; the shipped analyzer's without one)."""
    return (await _duplicate(deps, compound_id, analysis, analyzer, None))[0]


# Built once: a report runs these every time, and building a statement costs more CPU than
# SQLite takes to run it. (Compiled forms are cached by SQLAlchemy either way.) Only what the
# comparison reads: loading each candidate as a whole ticket cost more than the query.
DUPLICATES = (
    select(Ticket.id, Ticket.text, Ticket.category, Ticket.urgent, Ticket.nlp_confidence, Ticket.location_parts,
           Ticket.fingerprint, exists().where(TicketReporter.ticket_id == Ticket.id,
                                              TicketReporter.person_id == bindparam("reporter_id")).label("mine"))
    .where(Ticket.compound_id == bindparam("compound_id"), Ticket.state.in_(OPEN_STATES),
           Ticket.created_at >= bindparam("since"), Ticket.category == bindparam("category"))
    .order_by(Ticket.created_at.desc()).limit(50))


async def _duplicate(deps: Deps, compound_id: int, analysis: Analysis, analyzer: Analyzer | None,
                     reporter_id: int | None) -> tuple[Ticket | None, bool]:
    """``find_duplicate``, and whether ``reporter_id`` reported it already (read by the same
    query: a merge asks the database once before it writes, and loads only the ticket it joins).
    Read before the report writes anything (``bot.db.read``: nothing pending to flush first)."""
    same = analyzer.is_duplicate if analyzer is not None else nlp.is_duplicate
    hours = float(policy(deps, compound_id, "duplicate_window_hours"))
    since = deps.clock.now() - timedelta(hours=hours)
    candidates = (await read(deps.session, DUPLICATES, {
        "compound_id": compound_id, "since": since, "category": analysis.category,
        "reporter_id": reporter_id})).all()  # no reporter: person_id = NULL matches nothing
    for candidate in candidates:
        if same(analysis, stored_analysis(candidate)):
            ticket = await deps.session.get(Ticket, candidate.id)
            if ticket is not None and ticket.state in OPEN_STATES:  # not closed meanwhile (another process)
                return ticket, bool(candidate.mine)
    return None, False


@cache
def _counter_upsert(dialect: str):  # noqa: ANN202
    """The counter's upsert for ``dialect``, built once (see DUPLICATES)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(TicketCounter).values(compound_id=bindparam("compound_id"), last_number=1)
            .on_conflict_do_update(index_elements=["compound_id"], set_={"last_number": TicketCounter.last_number + 1})
            .returning(TicketCounter.last_number))  # one statement: created at 1, or counted up


async def next_number(session: AsyncSession, compound_id: int) -> int:
    """Atomic per-compound counter (a row update, so concurrent reports never share a number)."""
    statement = _counter_upsert(session.bind.dialect.name)
    # On the session's connection, in its transaction, as bot.db.read does for reads: the ORM's
    # path costs three times this statement (270 -> 77 µs), and no other process waits on
    # ticket_counters (bot.wakeups announces nothing for it).
    result = await (await connection_of(session)).execute(statement, {"compound_id": compound_id})
    return int(result.scalar_one())


async def report(deps: Deps, actor: Actor, text: str, *, compound_id: int, analysis: Analysis,
                 analyzer: Analyzer | None = None, group_id: int | None = None, message_id: int | None = None,
                 explicit: bool = False, channel: str | None = None) -> IntakeResult:
    """A resident's report: merged into an open duplicate, or a new ticket (alerting if urgent)."""
    if compound_id not in deps.org.compounds:
        raise ServiceError(T.NEED_COMPOUND)
    text = text.strip()[:MAX_TEXT]
    predicted_issue, predicted_category = analysis.is_issue, analysis.category
    if not analysis.is_issue or analysis.category in (None, "", "none"):
        # An explicit report is an issue whatever the NLP thought.
        category = analysis.category if analysis.category not in (None, "", "none") else "other"
        analysis = dataclasses.replace(analysis, is_issue=True, category=category)
    now = deps.clock.now()
    reporter_id = actor.person_id

    duplicate, repeat = await _duplicate(deps, compound_id, analysis, analyzer, reporter_id)
    if duplicate is not None:
        if repeat:
            return IntakeResult(duplicate, "repeat")
        if reporter_id is not None:
            add_reporter(deps.session, duplicate.id, reporter_id, group_id=group_id, message_id=message_id,
                         text=text, at=now)
        duplicate.reporters_count += 1
        record(deps, actor, duplicate, "reported", note=quote(text, 200),
               data={"count": duplicate.reporters_count, "group_id": group_id})
        result = IntakeResult(duplicate, "merged")
        await _attach_waiting_media(deps, duplicate, reporter_id, group_id)
        if analysis.urgent and not duplicate.urgent:
            duplicate.urgent = True
            set_deadlines(deps, duplicate, from_time=duplicate.created_at)
            result.alerted = await urgent_alert(deps, actor, duplicate, text, group_id)
        return result

    first, resolve = deadlines_for(deps, compound_id, analysis.category, analysis.urgent)
    # Everything to read is read before the first write: from the ticket number on, this
    # session holds SQLite's one write lock until it commits.
    told = await audience(deps, actor, compound_id, group_id, urgent=analysis.urgent)
    photos = await media.any_waiting.get(deps)
    location = analysis.location
    ticket = Ticket(
        compound_id=compound_id, number=await next_number(deps.session, compound_id),
        state=TicketState.NEW, channel=channel or ("group" if group_id else "private"), text=text,
        category=analysis.category, urgent=analysis.urgent,
        location=location.label()[:128], building=location.building, location_parts=location_parts(location),
        fingerprint=sorted(analysis.fingerprint), nlp_is_issue=predicted_issue,
        nlp_category=predicted_category, nlp_confidence=float(analysis.confidence),
        nlp_reasons=list(analysis.reasons)[:10], reporter_person_id=reporter_id,
        group_id=group_id, source_message_id=message_id, reporters_count=1, created_at=now, updated_at=now,
        first_response_due=now + first, resolve_due=now + resolve,
        created_by_person_id=actor.person_id, created_by_web=actor.web_user,
    )
    fill_reporter_address(ticket, told)
    await add_now(deps.session, ticket)
    if reporter_id is not None:
        add_reporter(deps.session, ticket.id, reporter_id, group_id=group_id, message_id=message_id,
                     text=text, at=now)
    await _attach_waiting_media(deps, ticket, reporter_id, group_id, photos)
    record(deps, actor, ticket, "created", to_state=TicketState.NEW, note=ticket.channel, at=now,
           data={"explicit": explicit, "confidence": ticket.nlp_confidence, "reasons": ticket.nlp_reasons})
    if explicit and not predicted_issue and len(text) >= 4:
        record_correction(deps, actor, ticket, "missed_issue", is_issue=True, category=ticket.category,
                    urgent=ticket.urgent)
    result = IntakeResult(ticket, "created")
    if ticket.urgent:
        result.alerted = await urgent_alert(deps, actor, ticket, text, group_id, told)
    else:
        tell_secretaries_new(deps, actor, ticket, text, told)
    return result


async def _attach_waiting_media(deps: Deps, ticket: Ticket, person_id: int | None, group_id: int | None,
                                 waiting: bool | None = None) -> None:
    if not (await media.any_waiting.get(deps) if waiting is None else waiting):
        return  # the usual report: no photo waits, none to attach or purge
    window = timedelta(minutes=getattr(deps.settings, "media_window_minutes", 10))
    await media.attach_waiting_media(deps, ticket, person_id, group_id, window)
    # Photos nobody's report claimed in time go here and at the next photo (no job needed).
    await media.purge_waiting_media(deps, deps.settings.media_dir, window)


def roster_address(building: str | None, unit: str | None) -> str | None:
    """The reporter's building and unit from the roster ("4号楼2单元"); None when unknown."""
    if not building:
        return None
    return f"{building}号楼" + (f"{unit}单元" if unit else "")


def fill_reporter_address(ticket: Ticket, told: Audience) -> None:
    """A new ticket whose text names no place carries the reporter's roster address."""
    if ticket.location or told.home is None:
        return
    compound_id, building, unit = told.home
    if compound_id == ticket.compound_id:
        ticket.reporter_address = roster_address(building, unit)
