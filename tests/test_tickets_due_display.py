"""The deadline shown in the 工单 list and the ticket view is the one that matters now: an urgent
ticket nobody answered counts minutes to its first response; an agenda ticket waits for its
discussion day; the secretary is told to record the outcome with 议定."""
from __future__ import annotations

from datetime import timedelta

from bot.texts import agenda as TA
from bot.texts import tickets as T

G1 = "阳光花园业主1群"
GAS = "5号楼2单元有很大的煤气味，快来人看看"
LIFT = "3号楼电梯坏了，困了好几天了"


def waiting(when: str) -> str:
    return TA.WAITING.format(when=when)


async def test_urgent_unanswered_ticket_in_the_list_counts_minutes_to_first_response(h):
    await h.say(G1, "张三", GAS)
    await h.advance(minutes=1)
    await h.dm("李书记", "工单")
    line = h.texts_to("李书记")[-1]
    assert T.DUE_RESPOND.format(left="29分钟") in line and "后到期" not in line


async def test_urgent_ticket_shows_its_resolve_deadline_once_answered(h):
    await h.say(G1, "张三", GAS)
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("李书记", "工单")
    line = h.texts_to("李书记")[-1]
    assert "内须响应" not in line and "后到期" in line


async def test_urgent_unanswered_ticket_view_counts_minutes_and_defers_the_resolve_deadline(h):
    await h.say(G1, "张三", GAS)
    await h.advance(minutes=1)
    await h.dm("李书记", "工单 0001")
    view = h.texts_to("李书记")[-1]
    assert T.DUE_RESPOND.format(left="29分钟") in view and "12月2日 09:00" not in view  # resolve: +24 h


async def test_agenda_ticket_in_the_list_waits_for_the_discussion_day(h):
    await h.dm("李书记", "议事日 12月10日 15:00 党群服务站")
    await h.say(G1, "张三", LIFT)
    await h.dm("李书记", "议事 0001")
    await h.dm("李书记", "工单")
    line = h.texts_to("李书记")[-1]
    assert waiting("12月10日 15:00") in line and "后到期" not in line


async def test_agenda_ticket_view_waits_for_the_discussion_day(h):
    await h.dm("李书记", "议事日 12月10日 15:00 党群服务站")
    await h.say(G1, "张三", LIFT)
    await h.dm("李书记", "议事 0001")
    await h.dm("李书记", "工单 0001")
    assert waiting("12月10日 15:00") in h.texts_to("李书记")[-1]


async def test_putting_a_ticket_on_the_agenda_tells_the_secretary_to_record_the_outcome_with_yiding(h):
    await h.dm("李书记", "议事日 12月10日 15:00 党群服务站")
    await h.say(G1, "张三", LIFT)
    await h.dm("李书记", "议事 0001")
    assert "议定 0001 结果" in h.texts_to("李书记")[-1]


async def test_day_before_reminder_tells_the_secretary_to_record_outcomes_with_yiding(h):
    await h.dm("李书记", "议事日 12月10日 15:00 党群服务站")
    await h.say(G1, "张三", LIFT)
    await h.dm("李书记", "议事 0001")
    await h.advance(days=8, hours=1, step=timedelta(hours=12))  # 12-09 10:00
    [reminder] = [t for t in h.texts_to("李书记") if t.startswith("【明天议事】")]
    assert "议定" in reminder
