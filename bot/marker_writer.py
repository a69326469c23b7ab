"""Writing alias markers (``bot.markers``) into contacts' remarks, slowly, in the background.

Markers go to people who hold a role or are on the roster (WeChat allows remarks on friends
only, which role holders are: they link their identity by sending an invite code privately).
``MarkerWriter`` runs one loop per account (alias changes are rate-limited by WeChat);
``request`` wakes it, e.g. right after an invite code was redeemed. ``BotApp.open`` builds the
one writer of a process and hands it to the handlers as the ``markers`` service.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Mapping

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.markers import marker_for, parse_marker
from bot.models import Identity, Person, Role
from bot.transports.base import NotAFriend, TransportError

log = logging.getLogger(__name__)

# The background loop: spacing between alias changes, and how often it looks again.
MARK_SPACING_SECONDS = 2.0
MARK_INTERVAL_SECONDS = 600.0
MARK_BATCH = 50
# After a wake-up, let the transaction that asked for it commit first.
MARK_WAKE_DELAY_SECONDS = 1.0


class MarkerWriter:
    """Writes missing markers for one process's accounts, each in its own slow background loop."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], transports: Mapping[str, Any], *,
                 spacing_seconds: float | None = None) -> None:
        self.sessions = sessions
        self.transports = transports
        self.spacing_seconds = MARK_SPACING_SECONDS if spacing_seconds is None else spacing_seconds
        self._wakeups: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._failed: dict[str, set[str]] = {}  # per account: ids that refused a remark this run

    def start(self, account: str) -> None:
        """Start ``account``'s loop once (after a login); wake it if it runs already."""
        transport = self.transports.get(account)
        if transport is None or not getattr(transport, "writes_alias_markers", False):
            return  # only real WeChat connections (not the simulator or test fakes)
        if account in self._tasks and not self._tasks[account].done():
            self._wakeups[account].set()
            return
        wakeup = self._wakeups[account] = asyncio.Event()
        wakeup.set()
        self._tasks[account] = asyncio.create_task(self._loop(account, wakeup), name=f"markers-{account}")

    def request(self, account: str | None = None) -> None:
        """Wake the loop of ``account`` (every account: None), e.g. after an invite code linked someone."""
        for name, wakeup in self._wakeups.items():
            if account is None or name == account:
                wakeup.set()

    async def stop(self) -> None:
        tasks, self._tasks = list(self._tasks.values()), {}
        self._wakeups.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    async def _loop(self, account: str, wakeup: asyncio.Event) -> None:
        while True:
            try:
                await asyncio.wait_for(wakeup.wait(), MARK_INTERVAL_SECONDS)
            except asyncio.TimeoutError:
                pass
            wakeup.clear()
            await asyncio.sleep(MARK_WAKE_DELAY_SECONDS)
            try:
                while await self.mark(account) >= MARK_BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("marking contacts for account %s failed", account)

    async def mark(self, account: str, *, limit: int = MARK_BATCH) -> int:
        """Write markers for role holders / roster people on ``account`` who lack one. Returns how many."""
        transport = self.transports.get(account)
        if transport is None or not hasattr(transport, "set_alias"):
            return 0
        failed = self._failed.setdefault(account, set())
        has_role = exists().where(Role.person_id == Person.id)
        async with self.sessions() as session:
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
        done = 0
        for ident_id, platform_id, alias in todo[:limit]:
            try:
                await transport.set_alias(platform_id, alias)
            except TransportError as exc:
                if getattr(transport, "connected", True) is False:
                    break  # the connection dropped: the next login tries again
                failed.add(platform_id)  # not a friend, or the puppet cannot: do not retry this run
                if isinstance(exc, NotAFriend):
                    # Expected (unfriended since the contact list was read): nothing to report.
                    log.debug("not marking %s: %s", platform_id, exc)
                else:
                    log.info("could not set the alias of %s: %s", platform_id, exc)
                continue
            async with self.sessions() as session:
                ident = await session.get(Identity, ident_id)
                if ident is not None and ident.platform_id == platform_id:
                    ident.alias = alias
                    await session.commit()
            done += 1
            await asyncio.sleep(self.spacing_seconds)
        return done


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
