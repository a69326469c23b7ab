"""Re-linking people and groups to their records after each login.

Pad/iPad/Windows puppets keep WeChat ids (``wxid_…``, ``…@chatroom``) across logins; web-protocol
puppets (wechat4u and the like) hand out new ids at every login. After each login
``relink_after_login`` (called by ``BotApp.on_login``) matches what the account sees now
to what the database knows:

* **People**, in order: by platform id (stable puppets); else by the marker the bot wrote
  into the contact's alias (remark), e.g. ``李书记#zb12`` → person 12. People are never
  matched by display name: nobody gains a role from a guess. Someone with no id or marker
  match is simply a new face until they link again.
* **Groups**, in order: by platform id; else by a guess from (topic, member names, member
  count) against the account's groups whose ids are no longer seen. A guessed group keeps
  its compound but is marked ``relink_pending`` and the compound's secretaries are asked,
  privately, to confirm; a guess never touches anyone's roles. Rooms that match nothing
  become new, unbound (silent) groups.
* Topic renames are recorded; on web-protocol logins the old ids that matched nothing are
  dead and their groups are marked inactive. With several accounts on pad puppets, the room
  list is recorded in the database (``ChatGroup.in_room``) and ``bot.rooms.settle_room``
  decides which account serves each room: one voice per group, the same decision in every
  process, stable across restarts.

Markers: the bot writes a marker into the alias of people who hold a role or are on the
roster (WeChat allows remarks on friends only, which role holders are: they link their
identity by sending an invite code privately). A background loop per account does this
slowly (alias changes are rate-limited by WeChat); ``request_marking`` wakes it, e.g.
right after an invite code was redeemed.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChatGroup, Event, Identity, Person, Priority, Role, RoleName
from bot.rooms import lock_rooms, report_presence, settle_room
from bot.transports.base import LoggedIn, MemberInfo, RoomInfo, TransportError

if TYPE_CHECKING:
    from bot.app import BotApp

log = logging.getLogger(__name__)

from bot.texts.wechaty import TEXT_CONFIRM_GUESS  # noqa: E402
NOTE_SERVED_BY = "同一个群已由账号 {account} 服务"

MARKER_RE = re.compile(r"#zb(\d+)$")
MARKER_NAME_CHARS = 16

# The background marker loop: spacing between alias changes, and how often it looks again.
MARK_SPACING_SECONDS = 2.0
MARK_INTERVAL_SECONDS = 600.0
MARK_BATCH = 50
# After a wake-up, let the transaction that asked for it commit first.
MARK_WAKE_DELAY_SECONDS = 1.0

_CHUNK = 400


def marker_for(name: str, person_id: int) -> str:
    """The alias written into a contact's remark: readable name + ``#zb<person id>``."""
    base = (name or "").strip()[:MARKER_NAME_CHARS]
    return f"{base}#zb{person_id}"


def parse_marker(alias: str | None) -> int | None:
    if not alias:
        return None
    match = MARKER_RE.search(alias.strip())
    return int(match.group(1)) if match else None


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

async def relink_after_login(app: "BotApp", session: AsyncSession, event: LoggedIn) -> RelinkReport:
    """Sync the account's rooms into groups and re-link people; the caller commits."""
    now = app.clock.now()
    report = RelinkReport(event.account, event.ids_stable)
    transport = app.transports.get(event.account)
    members = await _visible_people(transport, event)
    await relink_people(session, event.account, members, now, report)
    guessed = await sync_groups(session, event, now, report)
    await _ask_to_confirm(app, session, guessed)
    log.info("relink after login: %s", report.summary())
    start_marking(app, event.account)
    return report


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


async def resolve_unknown_sender(session: AsyncSession, account: str, platform_id: str, display_name: str,
                                 alias: str | None, now: datetime) -> Person | None:
    """For the dispatcher, before it makes a first-time sender a new person: the same id on
    another account (stable ids are global), else the alias marker. None: really new."""
    other = (await session.execute(select(Identity.person_id).where(
        Identity.account != account, Identity.platform_id == platform_id).order_by(Identity.id))).scalars().first()
    if other is not None:
        session.add(Identity(account=account, platform_id=platform_id, person_id=other,
                             display_name=display_name or "", alias=alias, first_seen_at=now, last_seen_at=now))
        await session.flush()
        return await session.get(Person, other)
    return await relink_by_marker(session, account, platform_id, display_name, alias, now)


async def relink_by_marker(session: AsyncSession, account: str, platform_id: str, display_name: str,
                           alias: str | None, now: datetime) -> Person | None:
    """Link ``platform_id`` to the person named by the alias marker, moving that person's
    identity on this account to the new id. None when the alias carries no (valid) marker.

    Also for the dispatcher: a sender with an unknown id but a marker is a known person."""
    person_id = parse_marker(alias)
    if person_id is None:
        return None
    person = await session.get(Person, person_id)
    if person is None:
        return None
    taken = (await session.execute(select(Identity).where(
        Identity.account == account, Identity.platform_id == platform_id))).scalar_one_or_none()
    if taken is not None:
        return person if taken.person_id == person_id else None
    ident = (await session.execute(
        select(Identity).where(Identity.account == account, Identity.person_id == person_id)
        .order_by(Identity.last_seen_at.desc()).limit(1)
    )).scalar_one_or_none()
    if ident is None:
        ident = Identity(account=account, platform_id=platform_id, person_id=person_id,
                         display_name=display_name or "", alias=alias, first_seen_at=now, last_seen_at=now)
        session.add(ident)
        old = None
    else:
        old = ident.platform_id
        ident.platform_id = platform_id
        ident.display_name = display_name or ident.display_name
        ident.alias = alias
        ident.active = True
        ident.last_seen_at = now
    session.add(Event(subject_kind="person", subject_id=person_id, action="relinked", at=now,
                      note=f"{account}: {old or '—'} → {platform_id}（备注标记）"))
    await session.flush()
    return person


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
        session.add(Event(subject_kind="group", subject_id=group.id, action="relink_guess", at=now,
                          from_state=old[:32], to_state=room.platform_id[:32],
                          note=f"{room.topic}（{room.member_count}人）"))
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
    if room.topic and group.topic != room.topic:
        session.add(Event(subject_kind="group", subject_id=group.id, action="renamed", at=now,
                          note=f"{group.topic} → {room.topic}"))
        group.topic = room.topic
        report.groups_renamed += 1
    if room.member_count:
        group.member_count = room.member_count
    if room.member_names:
        group.member_names = list(room.member_names)
    group.in_room = True


async def _ask_to_confirm(app: "BotApp", session: AsyncSession, guessed: Sequence[ChatGroup]) -> None:
    for group in guessed:
        if group.compound_id is None:
            continue
        secretaries = (await session.execute(select(Role.person_id).where(
            Role.name == RoleName.SECRETARY, Role.compound_id == group.compound_id))).scalars().all()
        compound = app.org.name_of(group.compound_id)
        for person_id in sorted(set(secretaries)):
            app.outbox.enqueue(session, TEXT_CONFIRM_GUESS.format(
                topic=group.topic, count=group.member_count, compound=compound),
                person_id=person_id, priority=Priority.REPLY, account=group.account)


# --------------------------------------------------------------------------- markers

_wakeups: dict[tuple[int, str], asyncio.Event] = {}
_failed: dict[tuple[int, str], set[str]] = {}


def request_marking(app: "BotApp", account: str | None = None) -> None:
    """Wake the marker loop(s), e.g. after an invite code linked someone."""
    for (app_id, acc), event in _wakeups.items():
        if app_id == id(app) and (account is None or acc == account):
            event.set()


def start_marking(app: "BotApp", account: str) -> None:
    """Start the per-account marker loop once (it ends with the app's tasks)."""
    key = (id(app), account)
    transport = app.transports.get(account)
    if transport is None or not getattr(transport, "writes_alias_markers", False):
        return  # only real WeChat connections (not the simulator or test fakes)
    if key in _wakeups:
        _wakeups[key].set()
        return
    _wakeups[key] = asyncio.Event()
    _wakeups[key].set()
    task = asyncio.create_task(_marker_loop(app, account, _wakeups[key]), name=f"relink-markers-{account}")
    tasks = getattr(app, "_tasks", None)
    if isinstance(tasks, list):
        tasks.append(task)
    task.add_done_callback(lambda _t: _wakeups.pop(key, None))


async def _marker_loop(app: "BotApp", account: str, wakeup: asyncio.Event) -> None:
    while True:
        try:
            await asyncio.wait_for(wakeup.wait(), MARK_INTERVAL_SECONDS)
        except asyncio.TimeoutError:
            pass
        wakeup.clear()
        await asyncio.sleep(MARK_WAKE_DELAY_SECONDS)
        try:
            while await mark_people(app, account) >= MARK_BATCH:
                pass
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("marking contacts for account %s failed", account)


async def _friend_ids(transport: Any) -> set[str] | None:
    """The ids of the account's friends, or None when the transport cannot list them."""
    contacts = getattr(transport, "contacts", None)
    if contacts is None:
        return None
    try:
        return {member.platform_id for member in await contacts()}
    except Exception as exc:  # noqa: BLE001  (no list: set_alias still refuses non-friends)
        log.debug("could not list the account's contacts: %r", exc)
        return None


async def mark_people(app: "BotApp", account: str, *, limit: int = MARK_BATCH) -> int:
    """Write markers for role holders / roster people on ``account`` who lack one. Returns how many."""
    transport = app.transports.get(account)
    if transport is None or not hasattr(transport, "set_alias") or app.sessions is None:
        return 0
    failed = _failed.setdefault((id(app), account), set())
    has_role = exists().where(Role.person_id == Person.id)
    async with app.sessions() as session:
        rows = (await session.execute(
            select(Identity, Person).join(Person, Person.id == Identity.person_id).where(
                Identity.account == account, Identity.active.is_(True),
                or_(has_role, Person.on_roster.is_(True)),
            ).order_by(Identity.id)
        )).all()
    todo = [(ident.id, ident.platform_id, marker_for(person.name, person.id))
            for ident, person in rows
            if parse_marker(ident.alias) != person.id and ident.platform_id not in failed]
    friends = await _friend_ids(transport)
    if friends is not None:
        # WeChat keeps remarks for friends only: a room member who is not one is not asked for.
        todo = [item for item in todo if item[1] in friends]
    todo = todo[:limit]
    done = 0
    for ident_id, platform_id, alias in todo:
        try:
            await transport.set_alias(platform_id, alias)
        except TransportError as exc:
            if getattr(transport, "connected", True) is False:
                break  # the connection dropped: the next login tries again
            failed.add(platform_id)  # not a friend, or the puppet cannot: do not retry this run
            from bot.transports.wechaty import NotAFriend  # loaded already: it raised this

            if isinstance(exc, NotAFriend):
                # Expected (unfriended since the contact list was read): nothing to report.
                log.debug("not marking %s: %s", platform_id, exc)
            else:
                log.info("could not set the alias of %s: %s", platform_id, exc)
            continue
        async with app.sessions() as session:
            ident = await session.get(Identity, ident_id)
            if ident is not None and ident.platform_id == platform_id:
                ident.alias = alias
                await session.commit()
        done += 1
        await asyncio.sleep(MARK_SPACING_SECONDS)
    return done
