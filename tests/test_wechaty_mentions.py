"""A mention the gateway cannot resolve never switches a group off (whole bot, real Node gateway).

A person linked twice (roster wechat id plus the WeChat linked by invite code) has two live
ids; the outbox mentions both. Only the one in the room is mentioned, the text goes out and
the group stays active.
"""
from __future__ import annotations

from sqlalchemy import select

import pytest

from bot.models import ChatGroup, Identity
from test_wechaty_bot import BOT_WORLD, settings_for, start_bot  # noqa: F401  (fixture)
from conftest_gateway import gateway_factory  # noqa: F401  (fixture)

pytestmark = pytest.mark.gateway


async def test_a_person_with_a_second_id_outside_the_room_is_mentioned_and_the_group_stays_active(
        gateway_factory, start_bot, tmp_path) -> None:
    gw = gateway_factory(BOT_WORLD)
    app = await start_bot(settings_for(tmp_path, gw))
    gw.say("zhangsan", "@支部助手\u2005帮助", room="yg1", mention_bot=True)
    await gw.wait_sent(lambda s: s["room_id"] == "room-yg-1")
    async with app.sessions() as session:
        known = (await session.execute(select(Identity).where(Identity.platform_id == "wxid_zhangsan"))).scalar_one()
        session.add(Identity(account=known.account, platform_id="wxid_zhangsan_linked_by_code",
                             person_id=known.person_id, first_seen_at=known.first_seen_at,
                             last_seen_at=known.last_seen_at, active=True))
        group = (await session.execute(select(ChatGroup).where(ChatGroup.platform_id == "room-yg-1"))).scalar_one()
        app.outbox.enqueue(session, "请评价这次的处理", group_id=group.id, mention_person_ids=[known.person_id])
        await session.commit()
    app.outbox.notify()
    sent = await gw.wait_sent(lambda s: "请评价这次的处理" in s["text"])
    assert sent["mention_ids"] == ["wxid_zhangsan"] and sent["room_id"] == "room-yg-1"
    async with app.sessions() as session:
        group = (await session.execute(select(ChatGroup).where(ChatGroup.platform_id == "room-yg-1"))).scalar_one()
        assert group.active is True
