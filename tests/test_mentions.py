"""The bot's @mention is noted and removed by the transport, the test kit's WeChat included."""
from __future__ import annotations

from sqlalchemy import select

from bot.models.messages import InboundMessage
from bot.texts import core as TC
from bot.transports.mentions import strip_mention

GROUP = "阳光花园业主1群"


def test_a_typed_mention_ended_by_a_space_is_removed() -> None:
    assert strip_mention("@支部助手 帮助", ["支部助手"]) == ("帮助", True)


def test_a_text_without_the_mention_is_left_as_it_is() -> None:
    assert strip_mention("@张三 帮助", ["支部助手"]) == ("@张三 帮助", False)


async def test_the_test_kit_removes_the_mention_before_routing(h) -> None:
    await h.say(GROUP, "张三", "@支部助手 帮助")
    assert any(TC.HELP_HEADER in text for text in h.texts_to(GROUP))
    async with h.session() as session:
        stored = (await session.execute(select(InboundMessage).order_by(InboundMessage.id.desc()))).scalars().first()
    assert stored.text == "帮助"
