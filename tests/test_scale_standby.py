"""A second process configured for an account another process serves (a standby) touches
nothing of that account until it holds the account's lease (PostgreSQL)."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.models import Identity, OutboxMessage, OutboxStatus, Priority
from bot.testing import BotHarness
from bot.transports.fake import FakeTransport

pytestmark = pytest.mark.postgres


async def test_a_second_process_for_a_served_account_leaves_its_sends_in_flight_alone(pg_url):
    async with BotHarness(database_url=pg_url, account="east") as h:
        async with h.session() as session:  # the serving process is inside a send right now
            person_id = (await session.execute(select(Identity.person_id).where(
                Identity.display_name == "李书记"))).scalars().first()
            [row] = h.bot.outbox.enqueue(session, "您的工单已办结", person_id=person_id, priority=Priority.REPLY,
                                         account="east")
            row.status, row.attempted_at = OutboxStatus.SENDING, h.now
            await session.commit()
        second = BotApp(h.settings, transports=[FakeTransport(account="east", now=h.clock.now)], clock=h.clock)
        await second.open()
        try:
            async with h.session() as session:
                assert (await session.execute(select(OutboxMessage.status).where(
                    OutboxMessage.text == "您的工单已办结"))).scalar_one() == OutboxStatus.SENDING
            assert second.leases.held == set()  # the lease is live: it waits for it
        finally:
            await second.stop()


async def wait_until(predicate, limit: float = 30.0) -> None:  # noqa: ANN001
    """Bounded wait on a condition (the leases run on the database's real clock)."""
    for _ in range(int(limit / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_a_process_that_lost_its_lease_disconnects_and_the_standby_serves_the_account(pg_url):
    short = {"accounts": {"lease_seconds": 1, "tick_seconds": 0.25}}
    async with BotHarness(database_url=pg_url, account="east", settings=short) as h:
        await h.bot.start()
        hung = next(t for t in h.bot._tasks if t.get_name() == "account-leases")
        hung.cancel()  # the process hangs: it stops renewing, its transport stays connected
        standby_transport = FakeTransport(account="east", now=h.clock.now)
        standby = BotApp(h.settings.model_copy(update={"accounts": h.settings.accounts.model_copy(
            update={"standby": True})}), transports=[standby_transport], clock=h.clock)
        await standby.open()
        await standby.start()
        try:
            assert standby_transport.sink is None  # waits while the lease is live
            await wait_until(lambda: standby.leases.held == {"east"})
            # took over: its event stream connects (the lease is marked held just before the transport starts)
            await wait_until(lambda: standby_transport.sink is standby)
            h.bot._tasks.append(asyncio.create_task(h.bot._hold_accounts_forever()))  # it wakes up
            await wait_until(lambda: h.transport.sink is None)
            assert h.bot.sender.serving() == []
        finally:
            await standby.stop()
