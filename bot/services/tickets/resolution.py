"""办结 and after: reporters confirm and rate; 不满意 reopens; everyone rated closes."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timefmt
from bot.models import ChatGroup
from bot.models.tickets import Rating, Ticket, TicketReporter, TicketState
from bot.privacy import mask_pii
from bot.services import Actor, Deps, ServiceError
from bot.services.tickets.events import record
from bot.services.tickets.naming import short_code, ticket_code, what
from bot.services.tickets.notify import tell, tell_many
from bot.services.tickets.people import reporters, secretaries
from bot.services.tickets.policy import MAX_NOTE, SUBJECT, acks_in_group, deadlines_for, policy
from bot.services.tickets.rights import SYSTEM, can_handle, require_handler, require_handler_or_assignee, require_open
from bot.services.tickets.supervision import supervise
from bot.texts import tickets as T


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
        tell_many(deps, await secretaries(deps.session, deps.org, ticket.compound_id), message, ticket,
                   skip=actor.person_id)
    return len(rows)


async def _ask_confirmation(deps: Deps, ticket: Ticket, rows: list[TicketReporter], note: str, days: int) -> None:
    """Per the compound's ack mode: one group message mentioning that group's reporters, or
    a private message each (always private for reports made privately)."""
    by_group: dict[int, list[int]] = {}
    private_text = T.CONFIRM_ASK.format(code=ticket_code(deps.org, ticket), what=what(ticket),
                                        note=mask_pii(note), days=days)
    for row in rows:
        if acks_in_group(deps, ticket.compound_id, in_group=row.group_id is not None):
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


# A ticket in these states may be reopened (by a reporter's words or a handler).
FINISHED_STATES = (TicketState.RESOLVED, TicketState.CLOSED)
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
    # The ticket's reporters read once: the rater's row and, after it, whether everyone has rated.
    rows = await reporters(deps.session, ticket) if actor.person_id else []
    row = next((r for r in rows if r.person_id == actor.person_id), None)
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
        return await reopen(deps, actor, ticket, comment, rows=rows)
    if all(r.rating is not None for r in rows if r.confirm_asked_at is not None):
        close(deps, actor, ticket, worst_rating([r.rating for r in rows if r.rating]), action="closed")
        return RateResult(closed=True)
    return RateResult()


def worst_rating(ratings: Sequence[str]) -> str:
    return min(ratings, key=lambda r: RATING_ORDER.get(r, 9)) if ratings else Rating.DEFAULT


def close(deps: Deps, actor: Actor, ticket: Ticket, satisfaction: str, *, action: str,
          data: dict | None = None) -> None:
    before = ticket.state
    ticket.state = TicketState.CLOSED
    ticket.closed_at = deps.clock.now()
    ticket.satisfaction = satisfaction
    record(deps, actor, ticket, action, from_state=before, to_state=ticket.state,
           note=T.RATING_LABELS.get(satisfaction, satisfaction), data=data)


async def reopen_by_hand(deps: Deps, actor: Actor, ticket: Ticket, comment: str = "") -> RateResult:
    """A handler (the dashboard) reopens a resolved or closed ticket: the same step as a
    resident's 不满意, so the same event and the same notices."""
    require_handler(deps, actor, ticket)
    if ticket.state not in FINISHED_STATES:
        raise ServiceError(T.NOT_REOPENABLE.format(code=ticket_code(deps.org, ticket),
                                                   state=T.STATE_LABELS.get(ticket.state, ticket.state)))
    return await reopen(deps, actor, ticket, comment)


async def reopen(deps: Deps, actor: Actor, ticket: Ticket, comment: str = "", *,
                 rows: list[TicketReporter] | None = None) -> RateResult:
    """Back to work with a fresh deadline; the second reopen escalates (督办). A closed ticket
    loses its closing and its satisfaction (the reporters are asked again at the next 办结).
    ``rows``: the ticket's reporters when the caller has just read them."""
    now = deps.clock.now()
    before = ticket.state
    ticket.state = TicketState.ASSIGNED if ticket.assignee_label else TicketState.NEW
    ticket.reopen_count += 1
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.satisfaction = None
    ticket.confirm_due = None
    _, resolve_span = deadlines_for(deps, ticket.compound_id, ticket.category, ticket.urgent)
    ticket.resolve_due = now + resolve_span
    ticket.resolve_escalated_at = None
    for row in rows if rows is not None else await reporters(deps.session, ticket):
        row.confirm_asked_at = None  # asked again at the next 办结
    record(deps, actor, ticket, "reopened", from_state=before, to_state=ticket.state,
           note=comment[:MAX_NOTE] or None, data={"count": ticket.reopen_count})
    message = T.REOPENED_TELL.format(code=ticket_code(deps.org, ticket), what=what(ticket),
                                     comment=f"：{mask_pii(comment)}" if comment else "",
                                     due=timefmt.stored(deps.clock, ticket.resolve_due))
    people = [ticket.assignee_person_id] if ticket.assignee_person_id else []
    people += [p.id for p in await secretaries(deps.session, deps.org, ticket.compound_id)]
    tell_many(deps, [p for p in people if p], message, ticket, skip=actor.person_id)
    result = RateResult(reopened=True)
    if ticket.reopen_count >= 2:
        await supervise(deps, SYSTEM, ticket, T.REASON_SECOND_REOPEN.format(count=ticket.reopen_count))
        result.supervised = True
    return result
