"""Re-linking people and groups to their records after each login.

Pad/iPad/Windows puppets keep WeChat ids (``wxid_…``, ``…@chatroom``) across logins; web-protocol
puppets (wechat4u and the like) hand out new ids at every login. After each login
``relink_after_login`` (called by ``BotApp.on_login``) matches what the account sees now
to what the database knows:

* **People**, in order: by platform id (stable puppets); else by the marker the bot wrote
  into the contact's alias (``bot.markers``), e.g. ``李书记#zb12`` → person 12. People are never
  matched by display name: nobody gains a role from a guess. Someone with no id or marker
  match is simply a new face until they link again.
* **Groups**, in order: by platform id; else by a guess from (topic, member names, member
  count) against the account's groups whose ids are no longer seen. A guessed group keeps
  its compound but is marked ``relink_pending``; the caller has the compound's secretaries
  asked to confirm (``bot.services.groups``); a guess never touches anyone's roles. Rooms
  that match nothing become new, unbound (silent) groups.
* Topic renames are recorded; on web-protocol logins the old ids that matched nothing are
  dead and their groups are marked inactive. With several accounts on pad puppets, the room
  list is recorded in the database (``ChatGroup.in_room``) and ``bot.rooms.settle_room``
  decides which account serves each room: one voice per group, the same decision in every
  process, stable across restarts.

Resolving a single unknown sender as a message arrives is ``bot.identity``'s; writing the
markers is ``bot.marker_writer``'s.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import record_event
from bot.identity import relink_by_marker
from bot.markers import parse_marker
from bot.models import ChatGroup, Identity
from bot.rooms import lock_rooms, report_presence, settle_room
from bot.services.groups import rename
from bot.transports.base import LoggedIn, MemberInfo, RoomInfo

log = logging.getLogger(__name__)

NOTE_SERVED_BY = "同一个群已由账号 {account} 服务"

_CHUNK = 400


@dataclass
class RelinkReport:
    account: str
    ids_stable: bool
    groups_by_id: int = 0
    groups_new: int = 0
    groups_renamed: int = 0
    groups_guessed: list[int] = field(default_factory=list)
    groups_deactivated: int = 0
    people_by_id: int = 0
    people_by_marker: int = 0

    def summary(self) -> str:
        return (f"account {self.account} ({'stable' if self.ids_stable else 'new'} ids): groups "
                f"{self.groups_by_id} by id, {len(self.groups_guessed)} guessed, {self.groups_new} new, "
                f"{self.groups_renamed} renamed, {self.groups_deactivated} gone; people "
                f"{self.people_by_id} by id, {self.people_by_marker} by alias marker")


# --------------------------------------------------------------------------- entry point

async def relink_after_login(session: AsyncSession, event: LoggedIn, transport: Any,
                             now: datetime) -> tuple[RelinkReport, list[ChatGroup]]:
    """Sync the account's rooms into groups and re-link people; the caller commits. Returns the
    report and the groups re-linked by a guess (their secretaries are to confirm them)."""
    report = RelinkReport(event.account, event.ids_stable)
    members = await _visible_people(transport, event)
    await relink_people(session, event.account, members, now, report)
    guessed = await sync_groups(session, event, now, report)
    log.info("relink after login: %s", report.summary())
    return report, guessed


async def _visible_people(transport: Any, event: LoggedIn) -> list[MemberInfo]:
    """Everyone the account can see now: room members (and friends, when the transport can list them)."""
    if transport is None or not hasattr(transport, "room_members"):
        return []
    seen: dict[str, MemberInfo] = {}
    for room in event.rooms:
        try:
            for member in await transport.room_members(room.platform_id):
                seen.setdefault(member.platform_id, member)
        except Exception:  # noqa: BLE001  (one unreadable room must not stop the login)
            log.warning("could not read the members of room %s", room.platform_id, exc_info=True)
    contacts = getattr(transport, "contacts", None)
    if contacts is not None and not event.ids_stable:
        try:
            for member in await contacts():
                seen.setdefault(member.platform_id, member)
        except Exception:  # noqa: BLE001
            log.warning("could not list the account's contacts", exc_info=True)
    return list(seen.values())


# --------------------------------------------------------------------------- people

async def relink_people(session: AsyncSession, account: str, members: Sequence[MemberInfo],
                        now: datetime, report: RelinkReport | None = None) -> int:
    """Point identities at the ids seen now: by id, else by alias marker. Returns the re-linked count."""
    report = report or RelinkReport(account, True)
    known: set[str] = set()
    ids = [m.platform_id for m in members]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        known.update((await session.execute(select(Identity.platform_id).where(
            Identity.account == account, Identity.platform_id.in_(chunk)))).scalars())
    report.people_by_id += len(known)
    # Stable WeChat ids are global: a contact another account already knows is the same person.
    elsewhere: dict[str, int] = {}
    unknown = [i for i in ids if i not in known]
    for start in range(0, len(unknown), _CHUNK):
        chunk = unknown[start:start + _CHUNK]
        for platform_id, person_id in (await session.execute(
                select(Identity.platform_id, Identity.person_id).where(
                    Identity.account != account, Identity.platform_id.in_(chunk)).order_by(Identity.id))).all():
            elsewhere.setdefault(platform_id, person_id)
    relinked = 0
    for member in members:
        if member.platform_id in known:
            continue
        if member.platform_id in elsewhere:
            session.add(Identity(account=account, platform_id=member.platform_id,
                                 person_id=elsewhere[member.platform_id], display_name=member.name or "",
                                 alias=member.alias, first_seen_at=now, last_seen_at=now))
            report.people_by_id += 1
            continue
        person_id = parse_marker(member.alias)
        if person_id is None:
            continue
        if await relink_by_marker(session, account, member.platform_id, member.name, member.alias, now):
            relinked += 1
    report.people_by_marker += relinked
    return relinked


# --------------------------------------------------------------------------- groups

def _name_similarity(a: Iterable[str], b: Iterable[str]) -> float | None:
    left, right = Counter(n for n in a if n), Counter(n for n in b if n)
    if not left or not right:
        return None
    union = sum((left | right).values())
    return sum((left & right).values()) / union if union else None


def _count_close(a: int, b: int) -> bool:
    if not a or not b:
        return False
    return abs(a - b) <= max(2, 0.1 * max(a, b))


def guess_score(room: RoomInfo, group: ChatGroup) -> float | None:
    """How sure we are that ``room`` is the old ``group`` under a new id (None: not it)."""
    names = _name_similarity(group.member_names or [], room.member_names)
    same_topic = bool(room.topic) and room.topic == group.topic
    if same_topic and (names is None or names >= 0.5):
        return 2.0 + (names or 0.0)
    if names is not None and names >= 0.8 and _count_close(room.member_count, group.member_count):
        return 1.0 + names  # renamed while the bot was away
    return None


def match_guesses(rooms: Sequence[RoomInfo], groups: Sequence[ChatGroup]) -> list[tuple[RoomInfo, ChatGroup]]:
    """Pair rooms with old groups, best first; a room or group with a tie is left alone."""
    pairs = []
    for room in rooms:
        for group in groups:
            score = guess_score(room, group)
            if score is not None:
                pairs.append((score, room, group))
    ambiguous: set[int] = set()
    for score, room, group in pairs:
        for other_score, other_room, other_group in pairs:
            close = abs(score - other_score) < 0.05
            if close and ((other_room is room and other_group is not group)
                          or (other_group is group and other_room is not room)):
                ambiguous.update({id(room), id(group)})
    chosen: list[tuple[RoomInfo, ChatGroup]] = []
    used: set[int] = set()
    for score, room, group in sorted(pairs, key=lambda p: -p[0]):
        if {id(room), id(group)} & (used | ambiguous):
            continue
        used.update({id(room), id(group)})
        chosen.append((room, group))
    return chosen


async def sync_groups(session: AsyncSession, event: LoggedIn, now: datetime,
                      report: RelinkReport | None = None,
                      other_rooms: dict[str, set[str]] | None = None) -> list[ChatGroup]:
    """Record the rooms the account is in; returns the groups re-linked by a guess.

    The account's room list is stored (``in_room``) and every room it is in or left is
    settled (``bot.rooms``): the account that is in a room serves it, the binding follows.
    ``other_rooms``: complete room lists of other accounts, recorded the same way first.
    """
    report = report or RelinkReport(event.account, event.ids_stable)
    await lock_rooms(session)
    for account, rooms in (other_rooms or {}).items():
        await report_presence(session, account, rooms)
    groups = list((await session.execute(
        select(ChatGroup).where(ChatGroup.account == event.account))).scalars())
    was_active = {g.id for g in groups if g.active}
    by_pid = {g.platform_id: g for g in groups}
    current = {r.platform_id for r in event.rooms}
    unmatched: list[RoomInfo] = []
    for room in event.rooms:
        group = by_pid.get(room.platform_id)
        if group is None:
            unmatched.append(room)
            continue
        report.groups_by_id += 1
        _refresh(session, group, room, now, report)
    stale = [g for g in groups if g.platform_id not in current]
    guessed: list[ChatGroup] = []
    for room, group in match_guesses(unmatched, stale):
        old = group.platform_id
        if group.active:
            group.active = False  # it serves its new room id only once that room is settled
            await session.flush()
        group.platform_id = room.platform_id
        _refresh(session, group, room, now, report)
        group.relink_pending = group.compound_id is not None
        record_event(session, "group", group.id, "relink_guess", now, from_state=old[:32],
                     to_state=room.platform_id[:32], note=f"{room.topic}（{room.member_count}人）")
        guessed.append(group)
        report.groups_guessed.append(group.id)
        unmatched.remove(room)
        stale.remove(group)
    for room in unmatched:
        session.add(ChatGroup(
            account=event.account, platform_id=room.platform_id, topic=room.topic,
            member_count=room.member_count, member_names=list(room.member_names),
            first_seen_at=now, active=False, in_room=True,
        ))
        report.groups_new += 1
    for group in stale:
        group.in_room = False
        if not event.ids_stable:
            group.active = False  # its id died with the last web login
    await session.flush()
    for platform_id in sorted(current | {g.platform_id for g in stale}):
        winner = await settle_room(session, platform_id, now)
        if winner is not None and winner.account != event.account and platform_id in current:
            log.info("room %s: %s", platform_id, NOTE_SERVED_BY.format(account=winner.account))
    report.groups_deactivated += sum(1 for g in groups if g.id in was_active and not g.active)
    return guessed


def _refresh(session: AsyncSession, group: ChatGroup, room: RoomInfo, now: datetime,
             report: RelinkReport) -> None:
    if room.topic and rename(session, group, room.topic, now):
        report.groups_renamed += 1
    if room.member_count:
        group.member_count = room.member_count
    if room.member_names:
        group.member_names = list(room.member_names)
    group.in_room = True
