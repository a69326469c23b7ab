"""Publishing notices: rights, targets, preview and 确认."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models import ChatGroup, Event
from bot.models.notices import Notice, NoticeDelivery


async def notices(h):  # noqa: ANN001
    async with h.session() as session:
        return list((await session.execute(select(Notice).order_by(Notice.id))).scalars())


def group_texts(h, topic):  # noqa: ANN001
    return [t for t in h.texts_to(topic) if "通知】" in t]


async def test_broadcast_to_two_groups_waits_for_confirmation(h):
    await h.dm("李书记", "通知 明天上午停水，请提前储水")
    preview = h.texts_to("李书记")[-1]
    assert "2个群" in preview and "阳光花园业主1群" in preview and "确认" in preview
    assert group_texts(h, "阳光花园业主1群") == []
    await h.dm("李书记", "确认")
    await h.advance(minutes=1)
    for topic in ("阳光花园业主1群", "阳光花园业主2群"):
        assert group_texts(h, topic) == ["【阳光花园党支部通知】\n明天上午停水，请提前储水\n（收到请回复“收到”）"]


async def test_notice_to_a_single_group_goes_out_without_preview(h):
    await h.dm("孙书记", "通知 今晚8点消防演练")
    assert len(group_texts(h, "兰亭水岸邻里群")) == 1
    assert "已提交发送" in h.texts_to("孙书记")[-1]


async def test_notice_in_the_only_target_group_posts_just_the_notice(h):
    await h.say("兰亭水岸邻里群", "孙书记", "通知：今晚8点消防演练")
    texts = h.texts_to("兰亭水岸邻里群")
    assert texts == ["【兰亭水岸党支部通知】\n今晚8点消防演练\n（收到请回复“收到”）"]


async def test_confirm_with_a_number_sends_that_draft(h):
    await h.dm("李书记", "通知 第一条")
    await h.dm("李书记", "通知 第二条")
    await h.dm("李书记", "确认 1")
    texts = group_texts(h, "阳光花园业主1群")
    assert len(texts) == 1 and "第一条" in texts[0]


async def test_unconfirmed_draft_expires_and_is_never_sent(h):
    await h.dm("李书记", "通知 明天停水")
    await h.advance(minutes=31)
    await h.dm("李书记", "确认")
    assert group_texts(h, "阳光花园业主1群") == []
    assert (await notices(h))[0].status == "expired"


async def test_confirm_after_expiry_says_it_expired(h):
    await h.dm("李书记", "通知 明天停水")
    h.clock.advance(timedelta(minutes=31))  # no tick in between: the draft is still a draft
    await h.dm("李书记", "确认")
    assert "超时" in h.texts_to("李书记")[-1]
    assert group_texts(h, "阳光花园业主1群") == []


async def test_cancelled_draft_is_never_sent(h):
    await h.dm("李书记", "通知 明天停水")
    await h.dm("李书记", "撤回通知 1")
    assert "已撤回" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "确认")
    await h.advance(minutes=5)
    assert group_texts(h, "阳光花园业主1群") == []
    assert (await notices(h))[0].status == "cancelled"


async def test_building_notice_without_a_building_group_goes_to_its_people(h):
    await h.dm("李书记", "通知 3号楼 明天上午电梯检修")
    assert "2个人" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "确认")
    assert any("电梯检修" in t for t in h.texts_to("李四"))
    assert any("电梯检修" in t for t in h.texts_to("张党员"))
    assert not any("电梯检修" in t for t in h.texts_to("张三"))  # 4号楼
    assert group_texts(h, "阳光花园业主1群") == []


@pytest.mark.parametrize("building", ["3#楼", "3#", "三号楼", "3座"])
async def test_building_notice_target_accepts_every_building_form(h, building):
    await h.dm("李书记", f"通知 {building} 明天上午电梯检修")
    assert "2个人" in h.texts_to("李书记")[-1]


async def test_building_notice_goes_to_the_building_group_when_there_is_one(h):
    async with h.session() as session:
        group = (await session.execute(select(ChatGroup).where(ChatGroup.topic == "阳光花园业主2群"))).scalar_one()
        group.building = "3"
        await session.commit()
    await h.dm("李书记", "通知 3号楼 明天上午电梯检修")
    assert len(group_texts(h, "阳光花园业主2群")) == 1
    assert group_texts(h, "阳光花园业主1群") == []


async def test_unknown_building_is_refused_with_the_known_ones(h):
    await h.dm("李书记", "通知 9号楼 电梯检修")
    reply = h.texts_to("李书记")[-1]
    assert "没有9号楼" in reply and "3号楼" in reply


async def test_resident_cannot_publish_and_is_told_privately(h):
    await h.dm("张三", "通知 大家好")
    assert "只有支部书记" in h.texts_to("张三")[-1]
    assert await notices(h) == []


async def test_resident_notice_in_a_group_is_left_alone(h):
    await h.say("阳光花园业主1群", "周经理", "通知：本周五小区消杀")
    assert h.texts_to("阳光花园业主1群") == []
    assert await notices(h) == []


async def test_secretary_cannot_notify_another_compound(h):
    await h.dm("李书记", "通知 兰亭水岸 明天停水")
    assert "不是“兰亭水岸”" in h.texts_to("李书记")[-1]


async def test_community_staff_reaches_every_compound_of_the_community(h):
    await h.dm("陈社区", "通知 本周六社区义诊")
    assert "3个群" in h.texts_to("陈社区")[-1]
    await h.dm("陈社区", "确认")
    for topic in ("阳光花园业主1群", "阳光花园业主2群", "兰亭水岸邻里群"):
        assert group_texts(h, topic) == ["【兰新社区通知】\n本周六社区义诊\n（收到请回复“收到”）"]
    assert group_texts(h, "沂龙湾润园业主群") == []


async def test_district_staff_reaches_the_whole_district(h):
    await h.dm("区办小韩", "通知 全区 防汛预警")
    assert "4个群" in h.texts_to("区办小韩")[-1]
    await h.dm("区办小韩", "确认")
    await h.advance(minutes=1)
    assert len(group_texts(h, "沂龙湾润园业主群")) == 1


async def test_secretary_cannot_send_district_wide(h):
    await h.dm("李书记", "通知 全区 防汛预警")
    assert "区级工作人员" in h.texts_to("李书记")[-1]


async def test_empty_and_oversized_notices_get_usage(h):
    await h.dm("李书记", "通知")
    assert "通知用法" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "通知 " + "很长" * 800)
    assert "太长" in h.texts_to("李书记")[-1]


async def test_every_state_change_is_an_event(h):
    await h.dm("李书记", "通知 明天停水")
    await h.dm("李书记", "确认")
    async with h.session() as session:
        actions = list((await session.execute(select(Event.action).where(
            Event.subject_kind == "notice").order_by(Event.id))).scalars())
    assert actions == ["drafted", "confirmed", "sent"]


async def test_bare_confirm_without_a_draft_is_not_taken(h):
    await h.dm("李书记", "确认")
    assert "没太明白" in h.texts_to("李书记")[-1] or "帮助" in h.texts_to("李书记")[-1]


async def test_confirm_with_a_letter_prefix_is_left_to_other_features(h):
    await h.dm("李书记", "通知 明天停水")
    await h.dm("李书记", "确认 W12")
    assert group_texts(h, "阳光花园业主1群") == []
    async with h.session() as session:
        assert (await session.execute(select(NoticeDelivery))).first() is None


async def test_malformed_notice_commands_get_usage(h):
    for text, expected in [("撤回通知 abc", "撤回用法"), ("撤回通知", "撤回用法"), ("通知详情", "用法：通知详情"),
                           ("统计 第一个", "用法"), ("撤回通知 999", "没有找到通知#999"),
                           ("通知 收集", "收集的格式不对"), ("通知详情 #42", "没有找到通知#42")]:
        await h.dm("李书记", text)
        assert expected in h.texts_to("李书记")[-1], text


async def test_notice_commands_are_refused_to_residents_with_an_explanation(h):
    for text in ("通知列表", "撤回通知 1", "定时 12-02 10:00 通知 停水", "统计"):
        await h.dm("张三", text)
        assert "需要" in h.texts_to("张三")[-1], text
