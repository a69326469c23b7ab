"""A notice typed in a residents' group continues in the author's private chat."""
from __future__ import annotations

from bot.texts import notices as T

GROUP = "阳光花园业主1群"
PREVIEW_START = T.PREVIEW.split("#")[0]


async def test_preview_of_a_notice_typed_in_a_group_goes_to_the_author_privately(h):
    await h.say(GROUP, "李书记", "通知 明天上午停水，请提前储水")
    assert h.texts_to("李书记")[-1].startswith(PREVIEW_START)


async def test_group_hears_nothing_of_the_preview(h):
    await h.say(GROUP, "李书记", "通知 明天上午停水，请提前储水")
    assert h.texts_to(GROUP) == []


async def test_private_confirmation_sends_the_notice_typed_in_a_group(h):
    await h.say(GROUP, "李书记", "通知 明天上午停水，请提前储水")
    await h.dm("李书记", "确认")
    await h.advance(minutes=1)
    assert [t for t in h.texts_to(GROUP) if "停水" in t] == [
        "【阳光花园党支部通知】\n明天上午停水，请提前储水\n（收到请回复“收到”）"]
    assert not [t for t in h.texts_to(GROUP) if "已提交发送" in t]


async def test_scheduled_notice_typed_in_a_group_is_confirmed_privately(h):
    await h.say("兰亭水岸邻里群", "孙书记", "定时 明天 8:00 通知 消防演练")
    assert h.texts_to("兰亭水岸邻里群") == []
    assert h.texts_to("孙书记")[-1].startswith(T.SCHEDULED.split("：")[0].format(id=1))
