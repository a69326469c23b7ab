"""Resolving who and where a message comes from: identities → people, rooms → groups.

A first-time sender id may still be a known person: the same id on another account (stable
WeChat ids are global), or a contact whose remark carries the bot's marker (``bot.markers``).
People are never matched by display name: nobody gains a role from a guess."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import event, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.audit import record_event
from bot.markers import parse_marker
from bot.models import ChatGroup, Identity, Person, Role
from bot.queued_rows import WROTE, queued

# last_seen is refreshed at most this often, to spare a write per message.
_SEEN_GRANULARITY = timedelta(hours=1)


async def person_for(session: AsyncSession, account: str, platform_id: str, display_name: str,
                     now: datetime, alias: str | None = None) -> Person:
    """The person behind a platform contact id; a first-time sender becomes a new resident."""
    ident = (await session.execute(
        select(Identity).where(Identity.account == account, Identity.platform_id == platform_id)
    )).scalar_one_or_none()
    if ident is None:
        known = await resolve_unknown_sender(session, account, platform_id, display_name, alias, now)
        if known is not None:
            return known
        person = Person(name=(display_name or platform_id)[:64], created_at=now, roles=[])  # column width
        session.add(person)
        await session.flush()
        session.add(Identity(account=account, platform_id=platform_id, person_id=person.id,
                             display_name=display_name, alias=alias, first_seen_at=now, last_seen_at=now))
        return person
    if display_name and ident.display_name != display_name:
        ident.display_name = display_name  # display only: never consulted for rights
    if now - ident.last_seen_at > _SEEN_GRANULARITY:
        ident.last_seen_at = now
    person = await session.get(Person, ident.person_id)
    assert person is not None
    return person


async def resolve_unknown_sender(session: AsyncSession, account: str, platform_id: str, display_name: str,
                                 alias: str | None, now: datetime) -> Person | None:
    """Before a first-time sender becomes a new person: the same id on another account (stable
    ids are global), else the alias marker. None: really new."""
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
    identity on this account to the new id. None when the alias carries no (valid) marker."""
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
    record_event(session, "person", person_id, "relinked", now, note=f"{account}: {old or '—'} → {platform_id}（备注标记）")
    await session.flush()
    return person


async def group_for(session: AsyncSession, account: str, platform_id: str, topic: str | None,
                    now: datetime) -> ChatGroup:
    group = (await session.execute(
        select(ChatGroup).where(ChatGroup.account == account, ChatGroup.platform_id == platform_id)
    )).scalar_one_or_none()
    if group is None:
        group = ChatGroup(account=account, platform_id=platform_id, topic=topic or "", first_seen_at=now)
        session.add(group)
        await session.flush()
    elif topic and group.topic != topic:
        group.topic = topic
    return group


class ContextCache:
    """Detached copies of groups and people (with roles) recently seen, so a chat message
    needs no SELECT to find out where it comes from and who sent it.

    Entries expire ``ttl`` seconds after they were read (another process may change roles: a
    busy group's entry must not live on because it is used) and the whole cache is dropped
    whenever a message changed state (a command or case ran).
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self._time = time.monotonic
        self.ttl = ttl
        self.groups: dict[tuple[str, str], tuple[float, ChatGroup]] = {}
        self.people: dict[tuple[str, str], tuple[float, Person, str]] = {}
        # Bumped by clear(): what a message read before a clear must not be remembered after it.
        self.generation = 0

    def group(self, account: str, platform_id: str, topic: str | None) -> ChatGroup | None:
        hit = self.groups.get((account, platform_id))
        if hit is None or self._time() - hit[0] > self.ttl or (topic and hit[1].topic != topic):
            return None
        return hit[1]

    def person(self, account: str, platform_id: str, display_name: str) -> Person | None:
        hit = self.people.get((account, platform_id))
        if hit is None or self._time() - hit[0] > self.ttl or hit[2] != display_name:
            return None
        return hit[1]

    def remember(self, account: str, group_pid: str | None, group: ChatGroup | None,
                 person_pid: str, person: Person, display_name: str, *, read_in: int | None = None) -> None:
        """Keep what a message read; ``read_in``: the generation it was read in (nothing is kept
        when the cache was cleared meanwhile: the rows may be what the clear was for)."""
        if read_in is not None and read_in != self.generation:
            return
        now = self._time()
        if len(self.people) > 50_000:  # bounded: a district has many residents, memory does not
            self.clear()
        # Only fully loaded rows: a merge(load=False) copy cannot lazy-load under asyncio (a person
        # created by this message has its unset columns unloaded after the INSERT). An entry the
        # message was served from stays as it is, read time included.
        if group is not None and group_pid is not None:
            known = self.groups.get((account, group_pid))
            if (known is None or known[1] is not group) and not inspect(group).unloaded:
                self.groups[(account, group_pid)] = (now, group)
        known_person = self.people.get((account, person_pid))
        if (known_person is None or known_person[1] is not person or known_person[2] != display_name) \
                and not inspect(person).unloaded:
            self.people[(account, person_pid)] = (now, person, display_name)

    def clear(self) -> None:
        self.generation += 1
        self.groups.clear()
        self.people.clear()


# What a cached context depends on: a change to any of these drops the cache.
_CONTEXT_TABLES = {"chat_groups", "people", "roles", "identities", "compounds"}


@event.listens_for(Session, "before_flush")
def _note_context_changes(session: Session, _context, _instances) -> None:  # noqa: ANN001
    if session.new or session.dirty or session.deleted:
        session.info[WROTE] = True
    if _changes_context(session):
        session.info["context_changed"] = True


def _changes_context(session: Session) -> bool:
    """A new role, or a changed group, person, role, compound or identity link. A new person,
    identity or group affects no cached entry, nor does an identity's last-seen time."""
    if any(isinstance(obj, Role) for obj in session.new):
        return True
    for obj in (*session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table not in _CONTEXT_TABLES:
            continue
        if obj in session.deleted:
            return True
        if table == "identities":
            if inspect(obj).attrs.person_id.history.has_changes():
                return True
        elif session.is_modified(obj):
            return True
    return False


def context_changed(session: AsyncSession) -> bool:
    """Did this session change groups, people, roles or identities (flushed or pending)?"""
    sync = session.sync_session
    return bool(sync.info.get("context_changed")) or _changes_context(sync)


def has_writes(session: AsyncSession) -> bool:
    """Has this session anything to commit (flushed already or still pending)?"""
    sync = session.sync_session
    if sync.info.get(WROTE) or queued(sync):
        return True
    return bool(sync.new or (sync.identity_map and (sync.dirty or sync.deleted)))  # most chat: nothing attached
