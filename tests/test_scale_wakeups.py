"""Cross-process wake-ups on one PostgreSQL (LISTEN/NOTIFY): each test waits on the event."""
from __future__ import annotations

import asyncio

import pytest

from bot.app import BotApp
from bot.models import Compound
from bot.testing import BotHarness
from bot.transports.fake import FakeTransport

pytestmark = pytest.mark.postgres

CAP = 30  # seconds: only a broken wake-up gets anywhere near this


@pytest.fixture
async def two(pg_url):
    """The harness's process (account sim) and a second process (account west), listening."""
    async with BotHarness(database_url=pg_url) as h:
        other = BotApp(h.settings, transports=[FakeTransport(account="west", now=h.clock.now)], clock=h.clock)
        await other.open()
        try:
            await other.wakeups.start()
            await asyncio.wait_for(other.wakeups.listening.wait(), CAP)
            yield h, other
        finally:
            await other.stop()


async def test_a_reply_queued_in_one_process_wakes_the_other_processs_sender(two):
    h, other = two
    other.outbox.wakeup.clear()
    await h.dm("李书记", "帮助")  # a reply row committed by the harness's process
    await asyncio.wait_for(other.outbox.wakeup.wait(), CAP)
    assert other.wakeups.received >= 1


async def test_a_rolled_back_outbox_row_wakes_nobody(two):
    h, other = two
    async with h.session() as session:
        h.bot.outbox.enqueue(session, "不会发出", person_id=1)
        await session.flush()
        await session.rollback()
        await session.execute(Compound.__table__.update().where(Compound.id == -1).values(is_key=True))
        await session.commit()  # a later transaction's announcement is the marker that all arrived
    reloaded = other.wakeups.org_reloaded
    while True:
        reloaded.clear()
        await asyncio.wait_for(reloaded.wait(), CAP)
        if other.wakeups.received:
            break
    assert other.wakeups.received == 1


async def test_a_compound_added_in_one_process_appears_in_the_others_directory(two):
    h, other = two
    name = "新建小区"
    async with h.session() as session:
        community_id = next(iter(h.bot.org.compounds.values())).community_id
        session.add(Compound(name=name, community_id=community_id))
        await session.commit()
    while name not in other.org.by_name:
        other.wakeups.org_reloaded.clear()
        if name in other.org.by_name:
            break
        await asyncio.wait_for(other.wakeups.org_reloaded.wait(), CAP)
    assert other.org.by_name[name].community_id == community_id
