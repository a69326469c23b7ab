"""Storage and dispatcher on a real PostgreSQL server (CI starts one)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.models import InboundMessage
from bot.testing import BotHarness

pytestmark = pytest.mark.postgres


async def test_postgres_stores_and_deduplicates(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await h.say("阳光花园业主1群", "张三", "帮助", message_id="pg-1")
        await h.say("阳光花园业主1群", "张三", "帮助", message_id="pg-1")
        async with h.session() as s:
            assert (await s.execute(select(func.count()).select_from(InboundMessage))).scalar_one() == 1
        assert len(h.texts_to("阳光花园业主1群")) == 1


async def test_postgres_binding_and_roles(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await h.say("新群", "李书记", "绑定 阳光花园")
        assert "已绑定到“阳光花园”" in h.texts_to("新群")[0]
        await h.say("阳光花园业主1群", "李书记", "绑定 阳光花园", sender_id="wxid_impostor")
        assert "需要" in h.texts_to("阳光花园业主1群")[-1]


async def test_postgres_outbox_survives_restart(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        h.transport.fail_next("room-yg-1", times=2)  # 5 s then 10 s backoff: still pending
        await h.say("阳光花园业主1群", "张三", "帮助")
        assert h.texts_to("阳光花园业主1群") == []
        await h.restart()
        await h.advance(minutes=1)
        assert len(h.texts_to("阳光花园业主1群")) == 1


async def test_postgres_timestamps_are_timezone_aware(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await h.say("阳光花园业主1群", "张三", "早")
        async with h.session() as s:
            row = (await s.execute(select(InboundMessage))).scalar_one()
        assert row.received_at == h.now and row.received_at.tzinfo is not None
