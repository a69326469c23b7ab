"""Which bot account serves a WeChat room: one active row per room, decided in the database.

Several accounts (in one process or several) may be members of the same room. Each has its
own ``ChatGroup`` row; the ``active`` one serves the room — hears it and speaks in it — and
the others stay quiet there. ``in_room`` keeps what each account last reported: in the room
(its room list at login, joining it), not in it (missing from its list at login, removed),
or never said (``None``: a row from the org file before that account logged in).

The rule (``settle_room``), the same in every process because it reads only the database:

1. The serving row keeps serving while its account is in the room or has not said (stable
   across restarts and logins: no flapping between accounts).
2. Otherwise the next server is chosen among rows whose account is in the room (else among
   those that have not said): first the row carrying the binding (the group's ``account:``
   in the org file, or where a secretary sent 绑定), then the account that saw the room
   first, then the oldest row.
3. The binding (compound, building) moves to the new server, and texts still waiting for
   the old row follow it. When no account is known to be in the room, whoever served it keeps
   it (a room list can come back incomplete); a removal or a dead id ends that.

On PostgreSQL a transaction-scoped advisory lock makes these decisions one at a time across
processes, and a partial unique index (one active row per room id) guarantees the outcome.
A row inserted by any other path (the org import, a message from an unknown room) starts
quiet when the room is already served (``_second_row_starts_quiet``).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import record_event
from bot.models import ChatGroup, OutboxMessage, OutboxStatus

# pg_advisory_xact_lock key for room decisions ("rooms" in ASCII).
ROOMS_LOCK_KEY = 0x726F6F6D73
_LOCKED = "zhibu_rooms_locked"  # Session.info: this transaction holds the lock
_NEVER = datetime.max.replace(tzinfo=timezone.utc)


async def lock_rooms(session: AsyncSession) -> None:
    """Hold the room-decision lock until this transaction ends (PostgreSQL; SQLite has one writer)."""
    if session.bind.dialect.name != "postgresql" or session.info.get(_LOCKED):
        return
    await session.execute(select(func.pg_advisory_xact_lock(ROOMS_LOCK_KEY)))
    session.info[_LOCKED] = True


def _rank(group: ChatGroup) -> tuple:
    return (group.in_room is not True, group.compound_id is None, group.first_seen_at or _NEVER, group.id)


async def settle_room(session: AsyncSession, platform_id: str, now: datetime) -> ChatGroup | None:
    """Decide which row serves the room ``platform_id`` (see the module's rule); returns it."""
    await lock_rooms(session)
    await session.flush()
    rows = list((await session.execute(
        select(ChatGroup).where(ChatGroup.platform_id == platform_id).order_by(ChatGroup.id)
        .execution_options(populate_existing=True))).scalars())
    candidates = [g for g in rows if g.in_room is not False]
    if not candidates:
        # No account is known to be in it: a room missing from a login's list is weak evidence
        # (lists can come back incomplete), so whoever served it keeps it until removed.
        candidates = [g for g in rows if g.active]
    serving = sorted((g for g in candidates if g.active), key=_rank)
    winner = serving[0] if serving else (min(candidates, key=_rank) if candidates else None)
    previous = [g for g in rows if g.active and g is not winner]
    for group in previous:
        group.active = False
    if winner is None or winner.active:
        await session.flush()
        return winner
    await session.flush()  # the old server steps down first: the unique index checks each row
    source = previous[0] if previous else None
    bound = source if source is not None and source.compound_id is not None else next(
        (g for g in sorted(rows, key=_rank) if g.compound_id is not None and g is not winner), None)
    if winner.compound_id is None and bound is not None:
        winner.compound_id, winner.building = bound.compound_id, bound.building
        winner.bound_by, winner.bound_at = bound.bound_by, bound.bound_at
        winner.relink_pending = bound.relink_pending
    winner.active = True
    if source is not None:
        await session.execute(update(OutboxMessage).where(
            OutboxMessage.group_id == source.id, OutboxMessage.status == OutboxStatus.PENDING,
        ).values(group_id=winner.id, account=None))
        record_event(session, "group", winner.id, "account_changed", now,
                     from_state=source.account[:32], to_state=winner.account[:32], note=winner.topic)
    await session.flush()
    return winner


async def report_presence(session: AsyncSession, account: str, rooms: set[str]) -> None:
    """Record an account's complete room list (its rows for other rooms: not in the room)."""
    groups = (await session.execute(select(ChatGroup).where(ChatGroup.account == account))).scalars()
    for group in groups:
        group.in_room = group.platform_id in rooms


@event.listens_for(ChatGroup, "before_insert")
def _second_row_starts_quiet(_mapper: Any, connection: Any, target: ChatGroup) -> None:
    """A new row for a room another account already serves is inserted inactive."""
    if target.active is False:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(ROOMS_LOCK_KEY)))
    served = connection.execute(select(ChatGroup.id).where(
        ChatGroup.platform_id == target.platform_id, ChatGroup.active.is_(True)).limit(1)).first()
    if served is not None:
        target.active = False
