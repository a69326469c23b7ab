"""The pools hold a fixed number of connections (bot.db): a burst of messages waits for the
pool's own instead of opening and at once closing connections of its own. (That no task holds
two connections at once, which makes a pool without overflow safe, is checked for every test
by a fixture in conftest.py.)"""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from bot.db import PG_POOL, SQLITE_POOL
from bot.testing import BotHarness
from bot.transports.base import Incoming
from test_dispatch import count_inbound


async def _burst_opens(h: BotHarness, n: int = 40) -> int:
    """Connections opened while ``n`` private chats (handled concurrently) ask for help at once."""
    opened: list[object] = []
    event.listen(h.bot.engine.sync_engine, "connect", lambda dbapi, _record: opened.append(dbapi))
    messages = [Incoming(account="sim", message_id=f"burst-{i}", sender_id=f"wxid_burst_{i}", sender_name=f"邻居{i}",
                         text="帮助", sent_at=h.now, chat_id=None) for i in range(n)]
    await asyncio.gather(*(h.bot.on_message(m) for m in messages))
    assert await count_inbound(h) == n
    return len(opened)


async def test_a_burst_on_sqlite_opens_no_connection_beyond_the_pool(h):
    assert await _burst_opens(h) <= SQLITE_POOL


@pytest.mark.postgres
async def test_a_burst_on_postgresql_opens_no_connection_beyond_the_pool(empty_pg_url):
    async with BotHarness(database_url=empty_pg_url) as h:
        assert await _burst_opens(h) <= PG_POOL
