"""Tickets as people talk in WeChat: quotes (引用) of the bot's ticket messages, recalls (撤回),
the answer to "哪栋楼？", and assignees answering in plain words.

The ticket rules themselves stay in the ``bot.services.tickets`` package (photos and videos
in ``tickets.media``); this module decides which ticket a message belongs to and hands it on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import delete, select, update

from bot.audit import record_event
from bot.models import Event, InboundMessage, InboundStatus, OutboxMessage
from bot.models.tickets import ACTIVE_STATES, Ticket, TicketMedia, TicketState
from bot.privacy import PURGEABLE, mask_pii
from bot.services import Actor, Deps, ServiceError
from bot.services.gate import CachedAnswer
from bot.services.tickets import events, intake, lookup, media, naming, notify, people, policy, resolution
from bot.texts import tickets as T

# How long the bot waits for the answer to "哪栋楼？" and to "回复编号即可".
LOCATION_ASK_WINDOW = timedelta(minutes=30)
NOTE_CHOICE_WINDOW = timedelta(minutes=30)
# Ticket references as the bot writes them: "工单 #0042", "工单 阳光花园-0042".
_CODE_IN_TEXT = re.compile(r"工单\s*(?:(?P<compound>[^\s#＃（(，,：:]+?)-)?[#＃]?(?P<number>\d{4,6})")


def needs_location(ticket: Ticket) -> bool:
    return not ticket.location and not ticket.reporter_address


async def _asking_location_pairs(deps: Deps) -> frozenset[tuple[int, int | None]]:
    """(reporter, chat) of every fresh ticket still without a place: a superset of those the
    bot is waiting on (the exact question is asked only for a sender in it)."""
    since = deps.clock.now() - LOCATION_ASK_WINDOW
    rows = await deps.session.execute(
        select(Ticket.reporter_person_id, Ticket.group_id).where(
            Ticket.created_at >= since, Ticket.state.in_(ACTIVE_STATES), Ticket.location == "",
            Ticket.reporter_address.is_(None), Ticket.reporter_person_id.is_not(None)))
    return frozenset((person_id, group_id) for person_id, group_id in rows)


# Every plain message asks "is the bot waiting for this sender's 哪栋楼？": from memory, not a query.
asking_location = CachedAnswer(_asking_location_pairs)
asking_location.forget_on_write(lambda obj: isinstance(obj, Ticket) and needs_location(obj))


async def ticket_asking_location(deps: Deps, person_id: int, group_id: int | None) -> Ticket | None:
    """The sender's fresh ticket in this chat that still has no place (the ack asked where)."""
    if (person_id, group_id) not in await asking_location.get(deps):
        return None
    since = deps.clock.now() - LOCATION_ASK_WINDOW
    return (await deps.session.execute(
        select(Ticket).where(Ticket.reporter_person_id == person_id, Ticket.group_id.is_(group_id)
                             if group_id is None else Ticket.group_id == group_id,
                             Ticket.created_at >= since, Ticket.state.in_(ACTIVE_STATES),
                             Ticket.location == "", Ticket.reporter_address.is_(None))
        .order_by(Ticket.created_at.desc()).limit(1))).scalars().first()


def set_location(deps: Deps, actor: Actor, ticket: Ticket, location: Any) -> str:
    """The reporter's answer to "哪栋楼？" becomes the ticket's stated location."""
    label = (location.label() if hasattr(location, "label") else str(location))[:128]
    ticket.location = label
    ticket.building = getattr(location, "building", None) or ticket.building
    ticket.location_parts = intake.location_parts(location)
    events.record(deps, actor, ticket, "located", note=label)
    return label


# --------------------------------------------------------------------------- quotes
async def quoted_ticket(deps: Deps, *, quoted_message_id: str | None, quoted_text: str | None,
                        compound_ids: Sequence[int]) -> Ticket | None:
    """The ticket a quoted bot message was about: by the message's platform id (the outbox
    remembers which ticket each text belonged to), else by the code the text carries."""
    ticket: Ticket | None = None
    if quoted_message_id:
        ref_id = (await deps.session.execute(
            select(OutboxMessage.ref_id).where(OutboxMessage.platform_message_id == quoted_message_id,
                                               OutboxMessage.ref_kind == policy.SUBJECT)
            .limit(1))).scalar_one_or_none()
        if ref_id is not None:
            ticket = await deps.session.get(Ticket, ref_id)
    if ticket is None and quoted_text:
        match = _CODE_IN_TEXT.search(quoted_text)
        if match is not None:
            ref = (f"{match['compound']}-" if match["compound"] else "") + match["number"]
            try:
                ticket = await lookup.find_ticket(deps, ref, compound_ids)
            except ServiceError:
                ticket = None
    seen = 0
    while ticket is not None and ticket.state == TicketState.MERGED and ticket.merged_into_id and seen < 10:
        ticket = await deps.session.get(Ticket, ticket.merged_into_id)
        seen += 1
    if ticket is not None and ticket.compound_id not in compound_ids:
        return None
    return ticket


@dataclass
class FollowUp:
    ticket: Ticket
    reopened: bool


async def follow_up(deps: Deps, actor: Actor, ticket: Ticket, text: str, *, group_id: int | None,
                    message_id: int | None) -> FollowUp:
    """A resident's words on an existing ticket ("还没修好"): reopen it when it was resolved or
    closed, else add them to it; the handlers hear either way."""
    if ticket.state not in (*ACTIVE_STATES, *resolution.FINISHED_STATES):
        raise ServiceError(T.QUOTE_TICKET_GONE.format(code=naming.ticket_code(deps.org, ticket)))
    text = text.strip()[:policy.MAX_NOTE]
    now = deps.clock.now()
    if actor.person_id is not None and await people.reporter_row(deps.session, ticket.id, actor.person_id) is None:
        people.add_reporter(deps.session, ticket.id, actor.person_id, group_id=group_id, message_id=message_id,
                            text=text, at=now)
        ticket.reporters_count += 1
    if ticket.state in resolution.FINISHED_STATES:
        await resolution.reopen(deps, actor, ticket, text)
        return FollowUp(ticket, True)
    events.record(deps, actor, ticket, "followed_up", note=text, data={"group_id": group_id})
    message = T.FOLLOW_UP_TELL.format(code=naming.ticket_code(deps.org, ticket), by=actor.name, note=mask_pii(text))
    told = [ticket.assignee_person_id] if ticket.assignee_person_id else []
    told += [p.id for p in await people.secretaries(deps.session, deps.org, ticket.compound_id)]
    notify.tell_many(deps, [p for p in told if p], message, ticket, skip=actor.person_id)
    return FollowUp(ticket, False)


# --------------------------------------------------------------------------- assignees
async def open_assignments(deps: Deps, person_id: int) -> list[Ticket]:
    return list((await deps.session.execute(
        select(Ticket).where(Ticket.assignee_person_id == person_id, Ticket.state == TicketState.ASSIGNED)
        .order_by(Ticket.created_at).limit(20))).scalars())


def ask_which(deps: Deps, actor: Actor, tickets: Sequence[Ticket], text: str) -> None:
    """Remember the note until the assignee says which ticket (an Event, so a restart keeps it)."""
    record_event(deps.session, "person", actor.person_id or 0, "note_pending", deps.clock.now(),
                 actor_person_id=actor.person_id, note=text[:policy.MAX_NOTE],
                 data={"ticket_ids": [t.id for t in tickets]})


async def pending_note(deps: Deps, person_id: int) -> Event | None:
    since = deps.clock.now() - NOTE_CHOICE_WINDOW
    event = (await deps.session.execute(
        select(Event).where(Event.subject_kind == "person", Event.subject_id == person_id,
                            Event.action == "note_pending", Event.at >= since)
        .order_by(Event.id.desc()).limit(1))).scalars().first()
    if event is None or (event.data or {}).get("done"):
        return None
    return event


def pending_done(event: Event, ticket_id: int | None) -> None:
    event.data = {**(event.data or {}), "done": True, "ticket_id": ticket_id}


async def tell_reporters(deps: Deps, actor: Actor, ticket: Ticket, text: str) -> list[int]:
    """Reporters hear of their ticket's assignment and progress (compound setting
    ``tell_reporters``, on by default), privately: never a group post per note."""
    if not policy.policy(deps, ticket.compound_id, "tell_reporters", True):
        return []
    return notify.tell_many(deps, await people.reporter_ids(deps.session, ticket), text, ticket, skip=actor.person_id)


# --------------------------------------------------------------------------- photos & videos
# --------------------------------------------------------------------------- recalls
@dataclass
class Recall:
    outcome: str  # "withdrawn" | "told" | "deleted" | "media" | "none"
    ticket: Ticket | None = None


def untouched(ticket: Ticket) -> bool:
    """Nobody acted on it yet: no response, no assignee, no one else reported it."""
    return (ticket.state == TicketState.NEW and ticket.first_response_at is None
            and ticket.assignee_label is None and ticket.reporters_count <= 1)


async def recall(deps: Deps, actor: Actor, *, account: str, sender_platform_id: str, recalled_id: str,
                 media_dir: Path) -> Recall:
    """The sender withdrew a message: withdraw the ticket it became if nobody acted yet
    (else tell the secretary), drop its photo, delete it when it was chatter."""
    media_rows = list((await deps.session.execute(select(TicketMedia).where(
        TicketMedia.account == account, TicketMedia.platform_message_id == recalled_id))).scalars())
    row = (await deps.session.execute(select(InboundMessage).where(
        InboundMessage.account == account, InboundMessage.platform_message_id == recalled_id))).scalars().first()
    if row is not None and row.sender_platform_id != sender_platform_id:
        return Recall("none")  # only one's own message can be recalled
    for media_row in media_rows:
        if media_row.ticket_id is not None:
            ticket = await deps.session.get(Ticket, media_row.ticket_id)
            if ticket is not None:
                events.record(deps, actor, ticket, "media_recalled", data={"media_id": media_row.id})
        await media.drop_media(deps, media_row, media_dir)
    if row is None:
        return Recall("media" if media_rows else "none")
    ticket = (await deps.session.execute(select(Ticket).where(Ticket.source_message_id == row.id))).scalars().first()
    if ticket is not None:
        code = naming.ticket_code(deps.org, ticket)
        secretaries = await people.secretaries(deps.session, deps.org, ticket.compound_id)
        if untouched(ticket):
            before = ticket.state
            ticket.state = TicketState.REJECTED
            ticket.closed_at = deps.clock.now()
            events.record(deps, actor, ticket, "withdrawn", from_state=before, to_state=ticket.state,
                       note=T.WITHDRAWN_NOTE)
            notify.tell_many(deps, secretaries, T.WITHDRAWN_TELL.format(code=code, what=naming.what(ticket)), ticket,
                           skip=actor.person_id)
            return Recall("withdrawn", ticket)
        events.record(deps, actor, ticket, "recalled", note=T.RECALLED_NOTE)
        notify.tell_many(deps, secretaries, T.RECALLED_ACTED_TELL.format(
            code=code, what=naming.what(ticket), num=naming.num(ticket)), ticket, skip=actor.person_id)
        return Recall("told", ticket)
    if not row.keep and row.status in (*PURGEABLE, InboundStatus.RECEIVED):
        await deps.session.execute(update(OutboxMessage).where(OutboxMessage.in_reply_to == row.id)
                                   .values(in_reply_to=None))
        await deps.session.execute(delete(InboundMessage).where(InboundMessage.id == row.id))
        return Recall("deleted")
    # A message something was done about (a command, an answered question): the record that it
    # came stays, its words go — the sender took them back.
    row.text = ""
    row.truncated = False
    return Recall("deleted")
