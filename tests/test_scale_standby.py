"""A second process configured for an account another process serves (a standby) touches
nothing of that account until it holds the account's lease (PostgreSQL)."""
from __future__ import annotations

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
                assert (await session.get(OutboxMessage, row.id)).status == OutboxStatus.SENDING
            assert second.leases.held == set()  # the lease is live: it waits for it
        finally:
            await second.stop()
