"""Whole ticket lifecycles: report → ack → assign → resolve → confirm, reopen, auto-close."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Event
from bot.models.tickets import Ticket, TicketReporter, TicketState

G1, G2 = "阳光花园业主1群", "阳光花园业主2群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"


async def ticket(h, number: int = 1) -> Ticket:
    async with h.session() as s:
        return (await s.execute(select(Ticket).where(Ticket.number == number).order_by(Ticket.id))).scalars().first()


async def actions(h, ticket_id: int) -> list[str]:
    async with h.session() as s:
        return list((await s.execute(select(Event.action).where(
            Event.subject_kind == "ticket", Event.subject_id == ticket_id).order_by(Event.id))).scalars())


async def resolved_light(h) -> None:
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("周经理", "办结 0001 已更换楼道灯")


async def test_lifecycle_report_ack_assign_resolve_confirm(h):
    await h.say(G1, "张三", LIGHT)
    assert "已转支部处理：工单 #0001" in h.texts_to(G1)[0]
    await h.dm("李书记", "派单 0001 物业")
    assert "已派给物业（安居物业服务有限公司·周经理）" in h.texts_to("李书记")[-1]
    [told] = h.texts_to("周经理")
    assert "【派单】" in told and "3号楼2单元" in told and "办结 0001" in told
    await h.dm("周经理", "办结 0001 已更换楼道灯")
    assert "正在请1位反映人确认评价" in h.texts_to("周经理")[-1]
    ask = [s for s in h.sent if s.group == G1 and "已办结" in s.text]
    assert len(ask) == 1 and ask[0].mentions == ("张三",) and "已更换楼道灯" in ask[0].text
    assert "已由周经理办结" in h.texts_to("李书记")[-1]
    await h.say(G1, "张三", "满意，谢谢支部")
    assert "已完结" in h.texts_to(G1)[-1]
    t = await ticket(h)
    assert (t.state, t.satisfaction) == (TicketState.CLOSED, "satisfied")
    assert t.first_response_at is not None and t.closed_at is not None
    assert await actions(h, t.id) == ["created", "assigned", "resolved", "rated", "closed"]


async def test_every_merged_reporter_is_asked_to_confirm(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G2, "王奶奶", "3号楼2单元楼道灯坏了，摔了一跤")
    await h.dm("李四", "报事 3号楼2单元的楼道灯还是不亮，晚上黑乎乎的")
    assert (await ticket(h)).reporters_count == 3
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("周经理", "办结 0001 已更换楼道灯")
    asks = [s for s in h.new_sent() if "已办结" in s.text and "满意" in s.text]
    assert {(s.group, s.person, s.mentions) for s in asks} == {
        (G1, None, ("张三",)), (G2, None, ("王奶奶",)), (None, "李四", ())}
    await h.say(G1, "张三", "满意")
    await h.dm("李四", "基本满意")
    assert (await ticket(h)).state == TicketState.RESOLVED  # 王奶奶 has not answered yet
    await h.say(G2, "王奶奶", "满意")
    t = await ticket(h)
    assert (t.state, t.satisfaction) == (TicketState.CLOSED, "basic")  # the lowest rating counts


async def test_unsatisfied_reopens_the_ticket_for_the_assignee(h):
    await resolved_light(h)
    await h.say(G1, "张三", "不满意，晚上还是不亮")
    t = await ticket(h)
    assert (t.state, t.reopen_count, t.supervised) == (TicketState.ASSIGNED, 1, False)
    assert "已重新打开" in h.texts_to(G1)[-1]
    told = h.texts_to("周经理")[-1]
    assert "【重新打开】" in told and "晚上还是不亮" in told
    async with h.session() as s:
        row = (await s.execute(select(TicketReporter))).scalar_one()
    assert row.confirm_asked_at is None  # asked again at the next 办结


async def test_second_reopen_escalates_to_the_community(h):
    await resolved_light(h)
    await h.say(G1, "张三", "不满意")
    await h.dm("周经理", "办结 0001 换了新灯泡")
    await h.say(G1, "张三", "还是没修好")
    t = await ticket(h)
    assert (t.reopen_count, t.supervised) == (2, True)
    [escalation] = [x for x in h.texts_to("陈社区") if x.startswith("【督办】")]
    assert "第2次不满意" in escalation
    assert "supervised" in await actions(h, t.id)


async def test_rating_with_several_pending_confirmations_asks_which(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "张三", "5号楼门口垃圾桶满了好几天没人清")
    await h.dm("李书记", "办结 0001 已修")
    await h.dm("李书记", "办结 0002 已清运")
    await h.dm("张三", "满意")
    assert "2件待评价的工单" in h.texts_to("张三")[-1]
    await h.dm("张三", "评价 0002 满意")
    assert (await ticket(h, 2)).state == TicketState.CLOSED
    await h.dm("张三", "基本满意")  # one pending left: it applies to that one
    assert (await ticket(h, 1)).satisfaction == "basic"


async def test_rating_from_someone_who_did_not_report_is_refused(h):
    await resolved_light(h)
    await h.dm("李四", "评价 0001 满意")
    assert "只有反映这个问题的居民可以评价" in h.texts_to("李四")[-1]
    await h.say(G1, "李四", "满意")  # no pending confirmation: plain chatter, no answer
    assert not h.texts_to(G1)[-1].startswith("谢谢您的评价")
    assert (await ticket(h)).state == TicketState.RESOLVED


async def test_unconfirmed_ticket_closes_as_resolved_after_the_confirmation_window(h):
    await resolved_light(h)
    await h.advance(days=2, step=timedelta(hours=6))
    assert (await ticket(h)).state == TicketState.RESOLVED
    await h.advance(days=1, minutes=10, step=timedelta(hours=6))
    t = await ticket(h)
    assert (t.state, t.satisfaction) == (TicketState.CLOSED, "default")
    assert (await actions(h, t.id))[-1] == "auto_closed"


async def test_progress_and_my_tickets_for_the_reporter(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 网格员")
    await h.dm("张三", "进度 0001")
    reply = h.texts_to("张三")[-1]
    assert "阳光花园-0001" in reply and "处理中（网格员）" in reply and "王网格" not in reply
    await h.dm("张三", "我的工单")
    assert "您反映的工单" in h.texts_to("张三")[-1] and "阳光花园-0001" in h.texts_to("张三")[-1]
    await h.dm("王网格", "我的工单")
    assert "您承办的工单" in h.texts_to("王网格")[-1]


async def test_restart_keeps_pending_confirmations(h):
    await resolved_light(h)
    await h.restart()
    await h.say(G1, "张三", "满意")
    assert (await ticket(h)).state == TicketState.CLOSED
