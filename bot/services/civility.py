"""Civility nudge (劝导): when a group message is abusive, or a quarrel escalates, the group's
identified party members are asked privately to step in.

Never a public rebuke, never a removal: the bot says nothing in the group. Per compound opt-in
(setting ``civility_nudge``: true), at most one nudge per group per ``civility_nudge_hours``
(default 2), each recorded as an Event (subject "group", action "civility_nudge").
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.audit import record_event
from bot.models import ChatGroup, Event, InboundMessage, Person, Role, RoleName
from bot.services import Deps
from bot.services.members import reachable
from bot.texts import tickets as T

# A quarrel: this many heated messages from at least two people within the window.
QUARREL_MESSAGES = 3
QUARREL_WINDOW = timedelta(minutes=10)
DEFAULT_GAP_HOURS = 2
# Party members count as "of this group" when they wrote in it within this time.
MEMBERSHIP_WINDOW = timedelta(days=90)


def enabled(deps: Deps, compound_id: int | None) -> bool:
    return bool(compound_id and deps.org.setting(compound_id, "civility_nudge", False))


async def _quarrel(deps: Deps, group_id: int, assess) -> bool:  # noqa: ANN001
    since = deps.clock.now() - QUARREL_WINDOW
    rows = (await deps.session.execute(select(InboundMessage.person_id, InboundMessage.text).where(
        InboundMessage.group_id == group_id, InboundMessage.received_at >= since)
        .order_by(InboundMessage.id.desc()).limit(50))).all()
    heated = [(pid, text) for pid, text in rows if assess(text or "").heated]
    return len(heated) >= QUARREL_MESSAGES and len({pid for pid, _ in heated}) >= 2


async def _recently_nudged(deps: Deps, group_id: int, compound_id: int) -> bool:
    hours = float(deps.org.setting(compound_id, "civility_nudge_hours", DEFAULT_GAP_HOURS))
    since = deps.clock.now() - timedelta(hours=hours)
    found = (await deps.session.execute(select(Event.id).where(
        Event.subject_kind == "group", Event.subject_id == group_id, Event.action == "civility_nudge",
        Event.at >= since).limit(1))).scalar_one_or_none()
    return found is not None


async def party_members_of_group(deps: Deps, group_id: int, compound_id: int,
                                 exclude: int | None = None) -> list[Person]:
    """The compound's party members who are seen in this group (else all of the compound's),
    never ``exclude`` (the one who wrote the message)."""
    members = [p for p in (await deps.session.execute(select(Person).join(Role, Role.person_id == Person.id).where(
        Role.name == RoleName.PARTY_MEMBER, Role.compound_id == compound_id).order_by(Person.id))).scalars().unique()
        if p.id != exclude]
    since = deps.clock.now() - MEMBERSHIP_WINDOW
    seen = set((await deps.session.execute(select(InboundMessage.person_id).where(
        InboundMessage.group_id == group_id, InboundMessage.received_at >= since,
        InboundMessage.person_id.in_([m.id for m in members])).distinct())).scalars())
    in_group = [m for m in members if m.id in seen]
    return in_group or members


async def consider(deps: Deps, *, group_id: int, compound_id: int, person_id: int | None, text: str,
                   assess) -> list[int]:  # noqa: ANN001
    """Look at one group message; nudge the party members when needed. Returns who was asked."""
    if not enabled(deps, compound_id):
        return []
    signal = assess(text)
    if not signal.heated:
        return []
    reason = "abusive" if signal.uncivil else None
    if reason is None and await _quarrel(deps, group_id, assess):
        reason = "quarrel"
    if reason is None or await _recently_nudged(deps, group_id, compound_id):
        return []
    group = await deps.session.get(ChatGroup, group_id)
    topic = group.topic if group is not None else ""
    people = await party_members_of_group(deps, group_id, compound_id, exclude=person_id)
    told: list[int] = []
    message = (T.CIVILITY_ABUSIVE if reason == "abusive" else T.CIVILITY_QUARREL).format(
        group=topic, time=deps.clock.local().strftime("%H:%M"))
    for person in people:
        if not await reachable(deps.session, person.id):
            continue
        deps.outbox.enqueue(deps.session, message, person_id=person.id, ref=("group", group_id))
        told.append(person.id)
    record_event(deps.session, "group", group_id, "civility_nudge", deps.clock.now(), actor_person_id=person_id,
                 note=reason, data={"told": told, "reasons": list(signal.reasons)[:5]})
    return told
