"""The discussion day carries its tickets: they wait for the meeting, everyone concerned is
reminded, and the outcome (议定) flows back to the ticket."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models.tickets import AgendaItem, DiscussionDay, Ticket
from bot.testing import fixed_part
from bot.texts import agenda as TA
from bot.texts import digests as DT

G1 = "阳光花园业主1群"
LIFT = "3号楼电梯坏了，困了好几天了"   # a 3-day deadline: due long before the meeting
WATER = "4号楼前路面积水好几天了没人管"


async def ticket(h) -> Ticket:  # noqa: ANN001
    async with h.session() as s:
        return (await s.execute(select(Ticket).order_by(Ticket.id))).scalars().first()


async def day(h) -> DiscussionDay:  # noqa: ANN001
    async with h.session() as s:
        return (await s.execute(select(DiscussionDay).order_by(DiscussionDay.id))).scalars().first()


async def on_agenda(h, report: str = LIFT, fixes: str = "") -> None:  # noqa: ANN001
    await h.dm("李书记", "议事日 12月10日 15:00 党群服务站")
    await h.say(G1, "张三", report)
    await h.dm("李书记", f"议事 0001 {fixes}".strip())


async def test_ticket_on_the_agenda_takes_the_meeting_as_its_deadline(h):
    await on_agenda(h)
    assert (await ticket(h)).resolve_due == (await day(h)).starts_at


async def test_ticket_on_the_agenda_is_not_escalated_before_the_meeting(h):
    await on_agenda(h)
    await h.advance(days=8, step=timedelta(hours=12))  # 12-09: its own 3-day deadline is long past
    t = await ticket(h)
    assert not t.supervised and t.resolve_escalated_at is None
    assert not [x for x in h.texts_to("陈社区") if "督办" in x]


async def test_ticket_recategorised_on_the_agenda_is_still_not_escalated(h):
    await on_agenda(h, WATER)
    await h.dm("李书记", "改类 0001 电梯")  # new deadlines from the report: due 12-04
    await h.advance(days=5, step=timedelta(hours=12))
    assert not (await ticket(h)).supervised


async def test_reminder_reaches_the_parties_under_scope(h):
    await on_agenda(h, fixes="范围 物业")
    await h.advance(days=8, hours=1, step=timedelta(hours=12))  # 12-09 10:00
    assert any(t.startswith("【明天议事】") and "12月10日 15:00" in t for t in h.texts_to("周经理"))


async def test_reminder_reaches_the_residents_who_reported_it(h):
    await on_agenda(h)
    await h.advance(days=8, hours=1, step=timedelta(hours=12))
    assert any(t.startswith(TA.REMIND_REPORTER.split("（")[0]) and "12月10日 15:00" in t for t in h.texts_to("张三"))


async def test_outcome_flows_back_to_the_ticket(h):
    await on_agenda(h)
    await h.advance(days=9, hours=8, step=timedelta(hours=12))  # 12-10 17:00, after the meeting
    await h.dm("李书记", "议定 0001 结果 物业联系电梯公司更换主板 责任 物业 期限 12月20日")
    t = await ticket(h)
    assert t.assignee_kind == "property" and t.state == "assigned"
    assert h.bot.clock.local(t.resolve_due).strftime("%m-%d %H:%M") == "12-20 18:00"
    async with h.session() as s:
        item = (await s.execute(select(AgendaItem))).scalar_one()
    assert item.state == "discussed" and "更换主板" in item.outcome


async def test_outcome_reaches_the_reporters_and_the_owner(h):
    await on_agenda(h)
    await h.advance(days=9, hours=8, step=timedelta(hours=12))
    await h.dm("李书记", "议定 0001 结果 物业联系电梯公司更换主板 责任 物业 期限 12月20日")
    assert any(t.startswith("【议事结果】") and "更换主板" in t for t in h.texts_to("张三"))
    assert any(t.startswith("【议事结果】") and "12月20日" in t for t in h.texts_to("周经理"))


async def test_outcome_for_a_ticket_not_on_the_agenda_says_so(h):
    await h.say(G1, "张三", LIFT)
    await h.dm("李书记", "议定 0001 结果 换主板")
    assert h.texts_to("李书记")[-1] == TA.OUTCOME_NO_ITEM.format(code="阳光花园-0001", num="0001")


async def test_digest_shows_the_ticket_as_waiting_for_the_meeting_not_overdue(h):
    from bot.texts import digests as TD

    await on_agenda(h)
    await h.advance(days=5, step=timedelta(hours=1))  # 12-06: its own 3-day deadline is past
    digest = [t for t in h.texts_to("李书记") if fixed_part(DT.DAILY_HEADER) in t][-1]
    assert TD.DAILY_AGENDA.split("{")[0] + "1件" in digest and "（12月10日 15:00议事）" in digest
    assert "超期" not in digest.split(TD.DAILY_AGENDA.split("{")[0])[0]
