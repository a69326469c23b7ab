"""Recalls and photos on a real PostgreSQL server, where foreign keys are enforced: a recalled
chatter row is deleted although replies point at it; a recalled photo leaves its ticket."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import InboundMessage
from bot.models.tickets import Ticket, TicketMedia, TicketState
from bot.testing import BotHarness

pytestmark = pytest.mark.postgres

G1 = "阳光花园业主1群"


async def test_postgres_recalled_chatter_is_deleted(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await h.say(G1, "张三", "今天天气真好啊大家", message_id="m-chat")
        await h.recall(G1, "张三", "m-chat")
        async with h.session() as s:
            found = (await s.execute(select(InboundMessage.id).where(
                InboundMessage.platform_message_id == "m-chat"))).all()
        assert found == []


async def test_postgres_photo_attached_then_recall_of_the_report_withdraws_the_ticket(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await h.say(G1, "张三", "3号楼2单元楼道灯坏了好几天了", message_id="m-light")
        await h.photo(G1, "张三", b"pg-photo")
        await h.recall(G1, "张三", "m-light")
        async with h.session() as s:
            ticket = (await s.execute(select(Ticket))).scalar_one()
            media = (await s.execute(select(TicketMedia))).scalar_one()
        assert ticket.state == TicketState.REJECTED and media.ticket_id == ticket.id
