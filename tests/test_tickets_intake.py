"""有事找支部 intake: plain messages and 报事 become tickets; duplicates merge; urgent alerts;
不是问题 corrections; chatter stays chatter."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Compound, OutboxMessage, Priority
from bot.models.tickets import NlpCorrection, Ticket, TicketReporter, TicketState

G1, G2 = "阳光花园业主1群", "阳光花园业主2群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"


async def tickets(h) -> list[Ticket]:
    async with h.session() as s:
        return list((await s.execute(select(Ticket).order_by(Ticket.id))).scalars())


async def set_setting(h, compound: str, **values) -> None:
    async with h.session() as s:
        row = (await s.execute(select(Compound).where(Compound.name == compound))).scalar_one()
        row.settings = {**(row.settings or {}), **values}
        await s.commit()
    await h.bot.refresh_org()


async def test_group_issue_becomes_ticket_with_short_group_ack(h):
    await h.say(G1, "张三", LIGHT)
    [ticket] = await tickets(h)
    assert (ticket.number, ticket.state, ticket.category, ticket.location) == (1, "new", "property", "3号楼2单元")
    assert ticket.text == LIGHT and ticket.channel == "group" and ticket.fingerprint
    sent = h.new_sent()
    ack = [s for s in sent if s.group == G1]
    assert len(ack) == 1 and "#0001" in ack[0].text and ack[0].mentions == ("张三",)
    assert LIGHT not in ack[0].text  # the group sees category and place, not a re-post of the message
    secretary = [s.text for s in sent if s.person == "李书记"]
    assert len(secretary) == 1 and "【新工单】阳光花园-0001" in secretary[0] and "张三" in secretary[0]


async def test_chatter_creates_no_ticket(h):
    for text in ("早上好", "收到", "谢谢物业，电梯修好了", "#接龙 明天团购草莓\n1. 3-2-501 两盒", "哈哈哈",
                 "满意", "不满意"):
        await h.say(G1, "李四", text)
    assert await tickets(h) == []
    assert h.sent == []


async def test_explicit_report_in_private_creates_ticket_and_replies_privately(h):
    await h.dm("李四", "报事 小区东门的健身器材坏了一个")
    [ticket] = await tickets(h)
    assert ticket.channel == "private" and ticket.group_id is None
    assert [s.person for s in h.sent if "已记录为工单" in s.text] == ["李四"]
    assert "阳光花园-0001" in h.texts_to("李四")[0]


async def test_explicit_report_the_nlp_missed_is_recorded_as_correction(h):
    await h.say(G1, "李四", "报事 咱们这边那个东西又不行了")
    [ticket] = await tickets(h)
    assert ticket.category == "other"
    async with h.session() as s:
        [row] = (await s.execute(select(NlpCorrection))).scalars().all()
    assert (row.kind, row.is_issue, row.predicted_is_issue) == ("missed_issue", True, False)


async def test_report_without_text_gets_usage(h):
    await h.say(G1, "李四", "报事")
    assert "用法：报事" in h.texts_to(G1)[0]
    assert await tickets(h) == []


async def test_private_report_without_compound_asks_for_it_or_takes_named_compound(h):
    await h.dm("新邻居", "报事 3号楼楼道灯坏了")
    assert "请先确认您所在的小区" in h.texts_to("新邻居")[-1]
    await h.dm("新邻居", "报事 兰亭水岸 3号楼楼道灯坏了")
    [ticket] = await tickets(h)
    assert ticket.text == "3号楼楼道灯坏了"
    assert "兰亭水岸-0001" in h.texts_to("新邻居")[-1]


async def test_private_ack_mode_acknowledges_by_private_message(h):
    await set_setting(h, "阳光花园", ack_mode="private")
    await h.say(G1, "张三", LIGHT)
    assert h.texts_to(G1) == []
    [ack] = h.texts_to("张三")
    assert "阳光花园-0001" in ack and LIGHT in ack


async def test_duplicates_merge_counting_three_reporters(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "3号楼2单元的楼道灯还是不亮，晚上黑乎乎的")
    await h.say(G2, "王奶奶", "3号楼2单元楼道灯坏了，摔了一跤")
    [ticket] = await tickets(h)
    assert ticket.reporters_count == 3
    async with h.session() as s:
        assert len((await s.execute(select(TicketReporter).where(TicketReporter.ticket_id == ticket.id))).all()) == 3
    merged = [s for s in h.sent if "合并到工单 #0001" in s.text]
    assert [(s.group, s.mentions) for s in merged] == [(G1, ("李四",)), (G2, ("王奶奶",))]
    assert "已有3位居民反映" in merged[-1].text
    assert len([s for s in h.sent if s.person == "李书记"]) == 1  # merges do not flood the secretary


async def test_same_reporter_twice_is_not_counted_again(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "张三", "3号楼2单元楼道灯坏了怎么还没人管")
    [ticket] = await tickets(h)
    assert ticket.reporters_count == 1
    assert "不用重复反映" in h.texts_to(G1)[-1]


async def test_same_problem_after_the_window_opens_a_new_ticket(h):
    await h.say(G1, "张三", LIGHT)
    await h.advance(days=4, step=timedelta(hours=6))
    await h.say(G1, "李四", "3号楼2单元的楼道灯还是不亮，晚上黑乎乎的")
    assert [t.number for t in await tickets(h)] == [1, 2]


async def test_different_problems_are_not_merged(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "5号楼门口垃圾桶满了好几天没人清")
    assert len(await tickets(h)) == 2


async def test_ticket_numbers_are_per_compound(h):
    await h.say(G1, "张三", LIGHT)
    await h.say("兰亭水岸邻里群", "路人甲", "8号楼下水道堵了，污水漫出来了")
    await h.say(G1, "李四", "5号楼门口垃圾桶满了好几天没人清")
    numbers = [(t.compound_id, t.number) for t in await tickets(h)]
    assert [n for _, n in numbers] == [1, 1, 2]
    assert "#0001" in h.texts_to("兰亭水岸邻里群")[0]


async def test_urgent_report_alerts_secretary_and_grid_worker_in_the_same_tick(h):
    start = h.now
    await h.say(G1, "李四", "5号楼电梯困人了！快来人")  # no h.advance: no scheduled job involved
    [ticket] = await tickets(h)
    assert ticket.urgent and ticket.category == "elevator"
    alerts = [s for s in h.sent if s.text.startswith("【紧急】")]
    assert sorted(s.person for s in alerts) == ["李书记", "王网格"]
    # Sent on the message's own drain, ahead of everything else: seconds (send spacing) after the report.
    assert all((s.at - start).total_seconds() < 10 for s in alerts)
    assert h.sent.index(alerts[-1]) < 2
    async with h.session() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.text.startswith("【紧急】")))).scalars().all()
    assert {r.priority for r in rows} == {Priority.URGENT}
    [group] = h.texts_to(G1)
    assert "正在通知支部书记、网格员" in group and "已通知" not in group  # sent before the alerts are


async def test_phone_numbers_are_masked_in_the_group_and_for_the_secretary(h):
    await h.say(G1, "张三", "3号楼2单元楼道灯坏了，有事打我电话13912345678")
    assert not any("13912345678" in s.text for s in h.sent)
    assert any("139****5678" in s.text for s in h.sent if s.person == "李书记")


async def test_not_issue_from_the_reporter_closes_and_records_a_correction(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "张三", "不是问题")
    [ticket] = await tickets(h)
    assert ticket.state == TicketState.REJECTED
    async with h.session() as s:
        [row] = (await s.execute(select(NlpCorrection))).scalars().all()
    assert (row.kind, row.is_issue, row.category, row.predicted_is_issue, row.text) == (
        "not_issue", False, "none", True, LIGHT)
    assert "不是问题并关闭" in h.texts_to(G1)[-1]


async def test_not_issue_from_another_resident_is_refused(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "不是问题 0001")
    assert (await tickets(h))[0].state == TicketState.NEW
    assert "只有反映人或支部书记可以撤销" in h.texts_to(G1)[-1]


async def test_not_issue_from_the_secretary_with_a_number(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "3号楼2单元的楼道灯还是不亮，晚上黑乎乎的")
    await h.say(G1, "张三", "不是问题 0001")  # one of two reporters may not withdraw it for everyone
    assert "还有其他1位居民反映" in h.texts_to(G1)[-1]
    await h.dm("李书记", "不是问题 0001 楼道灯是物业在检修")
    assert (await tickets(h))[0].state == TicketState.REJECTED
