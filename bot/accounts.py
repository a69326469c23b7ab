"""Account leases: which process serves each account, and which accounts are live.

Several processes may be configured for one account (an active one and a standby, same
gateway). Only the holder of the account's ``account_leases`` row connects the account's event
stream and sends its outbox rows; the holder renews the lease every ``accounts.tick_seconds``.
When it stops renewing (crash, hang), another configured process takes the lease once it has
expired, on the database's clock (PostgreSQL ``now()``, never a process's own clock; SQLite:
one host, the injected clock). A clean stop gives the leases back at once.

A live lease is also how every process knows which accounts can reach a person right now
(``bot.outbox`` addresses rows to live accounts only).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db import read
from bot.models.limits import AccountLease

log = logging.getLogger(__name__)


def _insert(session: AsyncSession):  # noqa: ANN202
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


async def lease_clock(session: AsyncSession, clock: Clock) -> datetime:
    """Now on the database's clock: every process judges leases by the same clock."""
    if session.bind.dialect.name == "postgresql":
        return (await session.execute(select(func.clock_timestamp()))).scalar_one()
    return clock.now()


async def live_accounts(session: AsyncSession, clock: Clock) -> set[str]:
    """Accounts some process serves right now (an unexpired lease)."""
    now = await lease_clock(session, clock)
    return set((await read(session, select(AccountLease.account).where(AccountLease.expires_at > now))).scalars())


class AccountLeases:
    """This process's side of the account leases: take, renew and give back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, holder: str,
                 accounts: Iterable[str], ttl: timedelta, *, force: bool = False) -> None:
        self.sessions = sessions
        # SQLite is one host's file used by one process: its leases are simply taken (a process
        # killed by a test leaves a lease no other process could be waiting for).
        self.force = force
        self.clock = clock
        self.holder = holder
        self.accounts = list(accounts)
        self.ttl = ttl
        self.held: set[str] = set()
        self._renew_due: datetime | None = None  # injected clock: when to renew next

    async def renew(self) -> tuple[set[str], set[str]]:
        """Renew the leases held and take free or lapsed ones; returns (gained, lost)."""
        held: set[str] = set()
        async with self.sessions() as session:
            now = await lease_clock(session, self.clock)
            expires = now + self.ttl
            for account in self.accounts:
                if await self._hold(session, account, now, expires):
                    held.add(account)
            await session.commit()
        self._renew_due = self.clock.now() + self.ttl / 4
        gained, lost = held - self.held, self.held - held
        for account in lost:
            log.warning("account %s: lease lost to another process; this one stops serving it", account)
        for account in gained:
            log.info("account %s: lease taken by %s", account, self.holder)
        self.held = held
        return gained, lost

    async def renew_if_due(self) -> tuple[set[str], set[str]]:
        """For drains on the injected clock (tests, SQLite): renew at most every ttl/4."""
        if self._renew_due is not None and self.clock.now() < self._renew_due:
            return set(), set()
        return await self.renew()

    async def _hold(self, session: AsyncSession, account: str, now: datetime, expires: datetime) -> bool:
        renewed = await session.execute(update(AccountLease).where(
            AccountLease.account == account, AccountLease.holder == self.holder,
        ).values(expires_at=expires))
        if renewed.rowcount == 1:
            return True
        if self.force:
            taken = await session.execute(update(AccountLease).where(AccountLease.account == account)
                                          .values(holder=self.holder, acquired_at=now, expires_at=expires))
            if taken.rowcount == 1:
                return True
        # Conditional on expiry: two processes racing for a lapsed lease cannot both take it.
        taken = await session.execute(update(AccountLease).where(
            AccountLease.account == account, AccountLease.expires_at <= now,
        ).values(holder=self.holder, acquired_at=now, expires_at=expires))
        if taken.rowcount == 1:
            return True
        inserted = await session.execute(
            _insert(session)(AccountLease).values(account=account, holder=self.holder, acquired_at=now,
                                                  expires_at=expires)
            .on_conflict_do_nothing(index_elements=["account"]).returning(AccountLease.account))
        return inserted.scalar_one_or_none() is not None

    async def release(self) -> None:
        """A clean stop: the standby may take the accounts at once."""
        if not self.held:
            return
        async with self.sessions() as session:
            now = await lease_clock(session, self.clock)
            await session.execute(update(AccountLease).where(
                AccountLease.account.in_(list(self.held)), AccountLease.holder == self.holder,
            ).values(expires_at=now - timedelta(seconds=1)))
            await session.commit()
        self.held = set()
