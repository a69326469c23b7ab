"""Rights and bad input: wrong roles are refused with a reason, malformed commands get usage."""
from __future__ import annotations

from sqlalchemy import select

from bot.models.tickets import Ticket, TicketState

G1 = "阳光花园业主1群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"


async def state(h) -> str:
    async with h.session() as s:
        return (await s.execute(select(Ticket.state).order_by(Ticket.id))).scalars().first()


async def test_resident_cannot_assign(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李四", "派单 0001 物业")
    assert "“派单”需要" in h.texts_to("李四")[-1] and "支部书记" in h.texts_to("李四")[-1]
    assert await state(h) == TicketState.NEW


async def test_resident_cannot_resolve(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "张三", "办结 0001 我自己修好了")
    assert "只有阳光花园的支部书记、网格员、社区工作人员或该工单的承办人可以办结" in h.texts_to(G1)[-1]
    assert await state(h) == TicketState.NEW


async def test_secretary_of_another_compound_is_refused(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("孙书记", "派单 阳光花园-0001 物业")
    assert "您不是阳光花园的支部书记" in h.texts_to("孙书记")[-1]
    await h.dm("孙书记", "派单 0001 物业")  # a bare number means his own compound: nothing there
    assert "没有找到工单 0001" in h.texts_to("孙书记")[-1]
    assert await state(h) == TicketState.NEW


async def test_community_staff_act_in_their_community(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("陈社区", "派单 阳光花园-0001 楼长")
    assert "已派给楼长赵楼长" in h.texts_to("陈社区")[-1]
    await h.say("沂龙湾润园业主群", "住户甲", "2号楼楼道灯坏了好几天了")
    await h.dm("陈社区", "派单 沂龙湾润园-0001 物业")  # another community
    assert "您不是沂龙湾润园的" in h.texts_to("陈社区")[-1]


async def test_assignee_can_transfer_and_resolve_but_not_assign(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 网格员")
    await h.dm("王网格", "转办 0001 物业 灯具需要物业更换")
    assert "已转给物业" in h.texts_to("王网格")[-1]
    told = h.texts_to("周经理")[-1]
    assert "【派单】王网格" in told and "说明：灯具需要物业更换" in told
    await h.dm("周经理", "派单 0001 业委会")
    assert "“派单”需要" in h.texts_to("周经理")[-1]
    await h.dm("周经理", "办结 0001 已换灯")
    assert await state(h) == TicketState.RESOLVED


async def test_assign_without_arguments_gets_usage(h):
    await h.dm("李书记", "派单")
    assert "用法：派单 0042 物业" in h.texts_to("李书记")[-1]
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001")
    assert "用法：派单 0042" in h.texts_to("李书记")[-1]


async def test_assign_unknown_ticket_says_not_found(h):
    await h.dm("李书记", "派单 9999 物业")
    assert "没有找到工单 9999" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "派单 abc 物业")
    assert "工单编号不对" in h.texts_to("李书记")[-1]


async def test_assign_unknown_target_explains(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 火星人")
    assert "没有找到“火星人”" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "派单 0001 网格员 张三")
    assert "没有名为“张三”的网格员" in h.texts_to("李书记")[-1]


async def test_assign_to_a_kind_nobody_holds_warns(h):
    await h.say("兰亭水岸邻里群", "住户乙", "8号楼楼道灯坏了好几天了")
    await h.dm("孙书记", "派单 0001 业委会")
    assert "业委会还没有登记联系人" in h.texts_to("孙书记")[-1]


async def test_resolve_on_a_closed_ticket_gives_the_reason(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "办结 0001 已修")
    await h.say(G1, "张三", "满意")
    await h.dm("李书记", "办结 0001 再办一次")
    assert "已完结，不需要再办结" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "办结 0001")
    assert "已完结" in h.texts_to("李书记")[-1]


async def test_resolve_without_a_note_gets_usage(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "办结 0001")
    assert "用法：办结 0042 处理说明" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "办结")
    assert "用法：办结" in h.texts_to("李书记")[-1]


async def test_resolved_ticket_cannot_be_assigned_again(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "办结 0001 已修")
    await h.dm("李书记", "派单 0001 物业")
    assert "正在等居民确认" in h.texts_to("李书记")[-1]


async def test_resident_cannot_see_someone_elses_ticket(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李四", "进度 0001")
    assert "只能查询自己反映或承办的工单" in h.texts_to("李四")[-1]
    await h.dm("李四", "工单 0001")
    assert "只能查询自己反映或承办的工单" in h.texts_to("李四")[-1]


async def test_oversized_note_is_refused(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "备注 0001 " + "很长" * 400)
    assert "内容太长了" in h.texts_to("李书记")[-1]


async def test_only_community_staff_supervise(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "督办 0001")
    assert "“督办”需要" in h.texts_to("李书记")[-1]
    await h.dm("陈社区", "督办 阳光花园-0001 请本周内解决")
    assert "已督办工单 阳光花园-0001" in h.texts_to("陈社区")[-1]
    assert any("【督办】" in t and "请本周内解决" in t for t in h.texts_to("李书记"))
