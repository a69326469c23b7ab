"""Which account serves a room: one active row per room, decided in the database."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from bot.app import BotApp
from bot.models import ChatGroup, OutboxMessage
from bot.testing import BotHarness
from bot.transports.base import Incoming, LoggedIn, RoomInfo, RoomJoined
from bot.transports.fake import FakeTransport

YG = RoomInfo("room-yg-1", "阳光花园业主1群", 3, ())
LT = RoomInfo("room-lt-1", "兰亭水岸邻里群", 3, ())


async def rows(h: BotHarness, platform_id: str) -> dict[str, ChatGroup]:
    async with h.session() as session:
        return {g.account: g for g in (await session.execute(
            select(ChatGroup).where(ChatGroup.platform_id == platform_id))).scalars()}


async def serving(h: BotHarness, platform_id: str) -> list[str]:
    return sorted(acc for acc, g in (await rows(h, platform_id)).items() if g.active)


async def test_an_account_joining_a_room_another_account_serves_stays_quiet_there(h):
    await h.bot.on_room_joined(RoomJoined("west", YG, (), bot_joined=True, at=h.now))
    found = await rows(h, "room-yg-1")
    assert found["sim"].active and not found["west"].active
    async with h.session() as session:
        queued = (await session.execute(select(OutboxMessage).where(
            OutboxMessage.group_id == found["west"].id))).scalars().all()
    assert queued == []


async def test_a_message_seen_by_a_second_account_in_a_served_room_opens_no_second_voice(h):
    await h.deliver(Incoming(account="west", message_id="w-1", sender_id="wxid_zs", sender_name="张三",
                             text="4号楼门口积水好几天了", sent_at=h.now, chat_id="room-yg-1", chat_topic=YG.topic))
    assert await serving(h, "room-yg-1") == ["sim"]


async def test_the_database_refuses_a_second_active_row_for_one_room(h):
    async with h.session() as session:
        with pytest.raises(IntegrityError):
            await session.execute(insert(ChatGroup).values(account="west", platform_id="room-yg-1", topic="x",
                                                           active=True, member_count=0, member_names=[]))


@pytest.mark.postgres
async def test_two_processes_logging_in_keep_one_serving_account_per_room_across_a_restart(pg_url):
    async with BotHarness(database_url=pg_url) as h:   # the org file put every group on "sim"

        async def west_process() -> BotApp:
            app = BotApp(h.settings, transports=[FakeTransport(account="west", now=h.clock.now)], clock=h.clock)
            await app.open()
            return app

        west = await west_process()
        try:
            # west is in 兰亭水岸; sim (in another process) is not, and logs in second.
            await west.on_login(LoggedIn("west", "wxid_w", "支部助手", (LT,)))
            await h.bot.on_login(LoggedIn("sim", "wxid_s", "支部助手", (YG,)))
            lt = await rows(h, "room-lt-1")
            assert await serving(h, "room-lt-1") == ["west"]
            assert lt["west"].compound_id == lt["sim"].compound_id is not None  # the binding moved along
            assert await serving(h, "room-yg-1") == ["sim"]
            # Both restart and log in the other way round; sim has meanwhile joined 兰亭水岸 too.
            await west.stop()
            await h.restart()
            west = await west_process()
            await h.bot.on_login(LoggedIn("sim", "wxid_s", "支部助手", (YG, LT)))
            await west.on_login(LoggedIn("west", "wxid_w", "支部助手", (LT,)))
            assert await serving(h, "room-lt-1") == ["west"]
            assert await serving(h, "room-yg-1") == ["sim"]
        finally:
            await west.stop()
