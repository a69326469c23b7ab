"""The branch's tools: 议事 (four fixes), 议事日, 合并, 拆分, 改类, 备注, 工单 timeline."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Event
from bot.models.tickets import AgendaItem, DiscussionDay, NlpCorrection, Ticket, TicketReporter, TicketState

G1, G2 = "阳光花园业主1群", "阳光花园业主2群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"
WATER = "4号楼前路面积水好几天了没人管"


async def ticket(h, number: int = 1) -> Ticket:
    async with h.session() as s:
        return (await s.execute(select(Ticket).where(Ticket.number == number).order_by(Ticket.id))).scalars().first()


async def test_agenda_puts_the_ticket_on_the_next_discussion_day_with_four_fixes(h):
    await h.say(G1, "张三", WATER)
    await h.dm("李书记", "议事 0001")
    reply = h.texts_to("李书记")[-1]
    for fix in ("定时间：12月15日 15:00", "定议题：", "定范围：支部书记、网格员", "定责任：李书记"):
        assert fix in reply
    async with h.session() as s:
        item = (await s.execute(select(AgendaItem))).scalar_one()
        day = await s.get(DiscussionDay, item.discussion_day_id)
    assert h.bot.clock.local(day.starts_at).strftime("%m-%d %H:%M") == "12-15 15:00"
    assert "楼长" in item.scope and "居民代表" in item.scope
    t = await ticket(h)
    assert t.first_response_at is not None  # the branch took it up
    await h.dm("李书记", "议事 0001")
    assert "已在 12月15日 15:00 的议事日议程中" in h.texts_to("李书记")[-1]


async def test_agenda_with_explicit_topic_scope_and_owner(h):
    await h.say(G1, "张三", WATER)
    await h.dm("李书记", "议事 0001 议题 4号楼前积水改造方案 范围 物业、业委会、社区 责任 王网格")
    reply = h.texts_to("李书记")[-1]
    assert "定议题：4号楼前积水改造方案" in reply
    assert "定范围：支部书记、物业经理、业委会、社区两委" in reply
    assert "定责任：王网格" in reply
    assert "【议事】" in h.texts_to("王网格")[-1]


async def test_discussion_day_can_be_set_shown_and_used(h):
    await h.dm("李书记", "议事日 12月5日 19:30 党群服务站")
    assert "已设定阳光花园小区议事日：12月5日 19:30，地点：党群服务站" in h.texts_to("李书记")[-1]
    await h.say(G1, "张三", WATER)
    await h.dm("李书记", "议事 0001")
    assert "12月5日 19:30" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "议事日")
    shown = h.texts_to("李书记")[-1]
    assert "议程（1项）" in shown and "1. " in shown
    await h.dm("李书记", "议事日 明年某天")
    assert "时间不对" in h.texts_to("李书记")[-1]
    await h.dm("张三", "议事日")
    assert "需要" in h.texts_to("张三")[-1]


async def test_agenda_reminder_the_day_before(h):
    await h.dm("李书记", "议事日 12月3日 15:00")
    await h.say(G1, "张三", WATER)
    await h.dm("李书记", "议事 0001 责任 王网格")
    await h.advance(days=1, hours=1, step=timedelta(hours=1))  # 12-02 10:00: past the 09:00 reminder
    reminders = [t for t in h.texts_to("李书记") if t.startswith("【明天议事】")]
    assert len(reminders) == 1 and "12月3日 15:00" in reminders[0]
    assert any(t.startswith("【明天议事】") for t in h.texts_to("王网格"))


async def test_secretary_merges_two_tickets_by_hand(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G2, "李四", "5号楼门口垃圾桶满了好几天没人清")
    assert (await ticket(h, 2)) is not None
    await h.dm("李书记", "合并 0002 0001")
    assert "已把工单 阳光花园-0002 并入 阳光花园-0001，现有2位居民反映" in h.texts_to("李书记")[-1]
    source, target = await ticket(h, 2), await ticket(h, 1)
    assert (source.state, source.merged_into_id, target.reporters_count) == (TicketState.MERGED, target.id, 2)
    await h.dm("李书记", "办结 0002 已修")
    assert "已并入 阳光花园-0001" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "合并 0001 0001")
    assert "不能把工单合并到它自己" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "合并 0001")
    assert "用法：合并" in h.texts_to("李书记")[-1]


async def test_secretary_splits_a_wrongly_merged_report(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "3号楼2单元的楼道灯还是不亮，晚上黑乎乎的")
    await h.dm("李书记", "拆分 0001 李四")
    assert "已把李四的反映从工单 阳光花园-0001 拆出，新工单 阳光花园-0002" in h.texts_to("李书记")[-1]
    old, new = await ticket(h, 1), await ticket(h, 2)
    assert (old.reporters_count, new.reporters_count, new.split_from_id) == (1, 1, old.id)
    async with h.session() as s:
        moved = (await s.execute(select(TicketReporter).where(TicketReporter.ticket_id == new.id))).scalar_one()
    assert "黑乎乎" in moved.text and new.text == moved.text
    await h.dm("李书记", "拆分 0001 张三")
    assert "只有一位反映人" in h.texts_to("李书记")[-1]


async def test_recategorize_changes_deadline_and_records_a_correction(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "改类 0001 电梯 紧急")
    assert "已改为“电梯”（紧急）" in h.texts_to("李书记")[-1]
    t = await ticket(h)
    assert (t.category, t.urgent, t.resolve_due - t.created_at) == ("elevator", True, timedelta(hours=24))
    async with h.session() as s:
        rows = (await s.execute(select(NlpCorrection).order_by(NlpCorrection.id))).scalars().all()
    assert [(r.kind, r.predicted_category, r.category) for r in rows] == [
        ("category", "property", "elevator"), ("urgency", "property", "elevator")]
    await h.dm("李书记", "改类 0001 外星")
    assert "没有“外星”这个类别" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "改类 0001 电梯")
    assert "已经是“电梯”类了" in h.texts_to("李书记")[-1]


async def test_notes_and_the_timeline(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 网格员")
    await h.dm("王网格", "备注 0001 已现场查看，需要换灯具")
    assert "有新备注（王网格）" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "工单 0001")
    detail = h.texts_to("李书记")[-1]
    for part in ("工单 阳光花园-0001", "状态：处理中（网格员王网格）", "反映人数：1（张三）", "处理记录：",
                 "张三 登记", "李书记 派单：网格员王网格", "王网格 备注：已现场查看"):
        assert part in detail
    async with h.session() as s:
        rows = (await s.execute(select(Event).where(Event.subject_kind == "ticket"))).scalars().all()
    assert all(r.at is not None for r in rows)
    assigned = next(r for r in rows if r.action == "assigned")
    assert (assigned.from_state, assigned.to_state, assigned.actor_person_id is not None) == ("new", "assigned", True)


async def test_secretary_ticket_list_and_empty_list(h):
    await h.dm("李书记", "工单")
    assert "阳光花园目前没有未办结的工单" in h.texts_to("李书记")[-1]
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "5号楼电梯困人了！快来人")
    await h.dm("李书记", "工单")
    listing = h.texts_to("李书记")[-1].splitlines()
    assert listing[0] == "阳光花园未办结工单 2 件，超期 0 件："
    assert listing[1].startswith("【紧急】#0002")  # urgent before normal


async def test_resident_tickets_command_shows_their_own(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("张三", "工单")
    assert "您反映的工单" in h.texts_to("张三")[-1]
