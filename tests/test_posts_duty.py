"""Volunteer posts (设岗定责): define, sign up, be reminded, report duty; schedules as typed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models.members import DutyReport, PostSignup, ServicePoint
from bot.services import ServiceError
from bot.services.posts import describe_schedule, parse_schedule

G = "阳光花园业主1群"
# The harness starts on Tuesday 2026-12-01 09:00; Wednesday 10:00 is the first duty.
POST = "设岗 楼道安全巡查员 职责：检查楼道杂物和消防通道 时间：每周三 10:00 人数：2"


async def test_secretary_defines_a_post_and_members_see_it(h):
    await h.dm("李书记", POST)
    created = h.texts_to("李书记")[-1]
    assert "P1" in created and "每周三 10:00" in created and "检查楼道杂物" in created
    await h.say(G, "张三", "岗位")
    listing = h.texts_to(G)[-1]
    assert "P1 楼道安全巡查员" in listing and "暂无人认岗" in listing


async def test_member_signs_up_and_is_listed(h):
    await h.dm("李书记", POST)
    await h.say(G, "张党员", "认岗 P1")
    assert "已认岗：楼道安全巡查员" in h.texts_to(G)[-1]
    await h.dm("赵楼长", "认岗 楼道安全巡查员")
    await h.say(G, "张三", "岗位")
    assert "在岗：张党员、赵楼长（2/2人）" in h.texts_to(G)[-1]


async def test_full_post_refuses_another_member(h):
    await h.dm("李书记", POST)
    await h.dm("张党员", "认岗 P1")
    await h.dm("赵楼长", "认岗 P1")
    await h.dm("李书记", "认岗 P1")
    assert "满了" in h.texts_to("李书记")[-1]


async def test_resident_can_neither_define_nor_take_a_post(h):
    await h.dm("李书记", POST)
    await h.dm("张三", "认岗 P1")
    assert "党员或志愿者" in h.texts_to("张三")[-1]
    await h.dm("张三", POST)
    assert "需要" in h.texts_to("张三")[-1]
    async with h.session() as session:
        assert (await session.execute(select(PostSignup))).scalars().all() == []


async def test_holder_is_reminded_once_before_the_duty(h):
    await h.dm("李书记", POST)
    await h.dm("张党员", "认岗 P1")
    h.new_sent()
    await h.advance(hours=23, step=timedelta(hours=1))  # Wednesday 08:00
    assert not [s for s in h.new_sent() if s.person == "张党员"]
    await h.advance(hours=3, step=timedelta(minutes=15))  # through 11:00
    reminders = [s for s in h.new_sent() if s.person == "张党员"]
    assert len(reminders) == 1
    assert "楼道安全巡查员" in reminders[0].text and "10:00" in reminders[0].text and "到岗 P1" in reminders[0].text
    assert 9 <= h.bot.clock.local(reminders[0].at).hour < 10
    await h.restart()
    await h.advance(hours=2, step=timedelta(hours=1))
    assert not [s for s in h.new_sent() if s.person == "张党员"]


async def test_leaving_a_post_stops_its_reminders(h):
    await h.dm("李书记", POST)
    await h.dm("张党员", "认岗 P1")
    await h.dm("张党员", "退岗 P1")
    assert "已退出岗位" in h.texts_to("张党员")[-1]
    h.new_sent()
    await h.advance(days=1, hours=2, step=timedelta(hours=1))
    assert not [s for s in h.new_sent() if s.person == "张党员"]


async def test_duty_report_is_recorded_once_a_day_with_points(h):
    await h.dm("李书记", POST)
    await h.dm("张党员", "认岗 P1")
    await h.dm("张党员", "到岗 楼道杂物已清理")
    assert "+2分" in h.texts_to("张党员")[-1] and "本月第1次" in h.texts_to("张党员")[-1]
    await h.dm("张党员", "打卡 P1")
    assert "已经记录过了" in h.texts_to("张党员")[-1]
    await h.advance(days=1, step=timedelta(hours=6))
    await h.dm("张党员", "到岗 P1")
    assert "本月第2次" in h.texts_to("张党员")[-1]
    async with h.session() as session:
        reports = (await session.execute(select(DutyReport))).scalars().all()
        points = (await session.execute(select(ServicePoint))).scalars().all()
    assert len(reports) == 2 and reports[0].note == "楼道杂物已清理"
    assert [p.points for p in points] == [2, 2]
    await h.dm("张党员", "我的服务")
    record = h.texts_to("张党员")[-1]
    assert "共4分" in record and "到岗服务：2次" in record and "楼道安全巡查员" in record


async def test_duty_report_without_a_post_is_explained(h):
    await h.dm("张党员", "到岗")
    assert "还没有认领岗位" in h.texts_to("张党员")[-1]


async def test_closing_a_post_tells_its_holders(h):
    await h.dm("李书记", POST)
    await h.dm("张党员", "认岗 P1")
    await h.dm("李书记", "撤岗 P1")
    assert "已撤销" in h.texts_to("张党员")[-1]
    await h.dm("张党员", "到岗 P1")
    assert "没有找到岗位 P1" in h.texts_to("张党员")[-1]


@pytest.mark.parametrize("text, expected", [
    ("设岗", "用法"),
    ("设岗 巡查员 时间：每周八 25:00", "时间"),
    ("设岗 巡查员 时间：每周三", "几点"),
    ("设岗 巡查员 人数：很多", "人数"),
    ("设岗 " + "长" * 30, "岗位名称"),
    ("认岗", "用法"),
    ("认岗 P99", "没有找到岗位 P99"),
    ("退岗 P99", "没有找到岗位 P99"),
])
async def test_malformed_post_commands_are_answered_with_usage(h, text, expected):
    await h.dm("李书记", text)
    assert expected in h.texts_to("李书记")[-1]


@pytest.mark.parametrize("text, days, start, end", [
    ("每周六 9:00", [5], "09:00", None),
    ("每天 8:00-9:00", list(range(7)), "08:00", "09:00"),
    ("工作日 19:00", [0, 1, 2, 3, 4], "19:00", None),
    ("周二、周四 晚上7点", [1, 3], "19:00", None),
    ("周一至周五 7:30", [0, 1, 2, 3, 4], "07:30", None),
    ("周末 上午9点半", [5, 6], "09:30", None),
    ("每周三 下午3点到5点", [2], "15:00", "17:00"),
    ("９：００", list(range(7)), "09:00", None),
])
def test_schedules_are_read_as_people_type_them(text, days, start, end):
    assert parse_schedule(text) == {"days": days, "start": start, "end": end}


def test_schedule_without_fixed_times_and_unreadable_ones():
    assert parse_schedule("随时") is None
    assert describe_schedule(None) == "不固定"
    with pytest.raises(ServiceError):
        parse_schedule("有空就来")
    with pytest.raises(ServiceError):
        parse_schedule("每天 10:00-9:00")


async def test_a_member_whose_role_is_removed_leaves_the_post(h):
    await h.dm("李书记", POST)
    await h.dm("张党员", "认岗 P1")
    await h.dm("李书记", "移除 张党员 党员")
    await h.say(G, "张三", "岗位")
    assert "暂无人认岗" in h.texts_to(G)[-1]
    await h.dm("赵楼长", "认岗 P1")
    await h.dm("王网格", "认岗 P1")
    assert "党员或志愿者" in h.texts_to("王网格")[-1]
