"""Deadlines: first response and resolution per category and urgency; overdue tickets are
supervised (督办) by the community committee and listed first."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Compound
from bot.models.tickets import Ticket

G1 = "阳光花园业主1群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"
STEP = timedelta(hours=1)  # the sweep runs at the newest due fire time of each step


async def ticket(h, number: int = 1) -> Ticket:
    async with h.session() as s:
        return (await s.execute(select(Ticket).where(Ticket.number == number))).scalars().first()


def escalations(h, name: str) -> list[str]:
    return [t for t in h.texts_to(name) if t.startswith("【督办】")]


async def test_unanswered_ticket_escalates_to_the_community_after_the_deadline(h):
    await h.say(G1, "张三", LIGHT)
    t = await ticket(h)
    assert t.first_response_due - t.created_at == timedelta(hours=24)
    assert t.resolve_due - t.created_at == timedelta(days=7)
    await h.advance(hours=23, step=STEP)
    assert escalations(h, "陈社区") == [] and not (await ticket(h)).supervised
    await h.advance(hours=1, minutes=10, step=STEP)
    [told] = escalations(h, "陈社区")
    assert "阳光花园-0001" in told and "首次响应期限" in told
    assert escalations(h, "李书记")  # the branch hears it too
    assert (await ticket(h)).supervised
    await h.advance(hours=5, step=STEP)
    assert len(escalations(h, "陈社区")) == 1  # once per deadline, not every sweep


async def test_urgent_ticket_unanswered_for_30_minutes_escalates(h):
    await h.say(G1, "李四", "5号楼电梯困人了！快来人")
    t = await ticket(h)
    assert t.first_response_due - t.created_at == timedelta(minutes=30)
    assert t.resolve_due - t.created_at == timedelta(hours=24)
    await h.advance(minutes=40, step=timedelta(minutes=5))
    assert escalations(h, "陈社区")


async def test_assigned_ticket_escalates_when_the_resolution_deadline_passes(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 物业")
    await h.advance(days=6, step=timedelta(hours=6))
    assert escalations(h, "陈社区") == []
    await h.advance(days=1, minutes=10, step=timedelta(hours=2))
    [told] = escalations(h, "陈社区")
    assert "办结期限" in told and "安居物业" in told
    assert escalations(h, "周经理")  # the assignee is told as well


async def test_deadlines_are_configurable_per_compound(h):
    async with h.session() as s:
        row = (await s.execute(select(Compound).where(Compound.name == "阳光花园"))).scalar_one()
        row.settings = {**row.settings, "ticket_deadlines": {"property": {"first_response_hours": 2,
                                                                          "resolve_days": 2}}}
        await s.commit()
    await h.bot.refresh_org()
    await h.say(G1, "张三", LIGHT)
    t = await ticket(h)
    assert (t.first_response_due - t.created_at, t.resolve_due - t.created_at) == (timedelta(hours=2),
                                                                                   timedelta(days=2))


async def test_elevator_has_a_shorter_deadline_than_greening(h):
    await h.say(G1, "张三", "6号楼电梯又坏了，停在三楼不动")
    await h.say(G1, "李四", "小区绿化带的树好久没修剪了，挡住路灯")
    elevator, green = await ticket(h, 1), await ticket(h, 2)
    assert elevator.category == "elevator" and elevator.resolve_due - elevator.created_at == timedelta(days=3)
    assert green.resolve_due - green.created_at > elevator.resolve_due - elevator.created_at


async def test_secretary_list_shows_overdue_and_supervised_first(h):
    await h.say(G1, "张三", LIGHT)
    await h.advance(hours=20, step=timedelta(hours=4))
    await h.say(G1, "李四", "5号楼门口垃圾桶满了好几天没人清")
    await h.advance(hours=5, step=timedelta(hours=1))
    await h.dm("李书记", "工单")
    listing = h.texts_to("李书记")[-1]
    assert "未办结工单 2 件，超期 1 件" in listing
    lines = listing.splitlines()
    assert lines[1].startswith("【督办】【超期】#0001")
    assert "#0002" in lines[2]


async def test_non_urgent_notices_to_staff_wait_for_the_morning():
    from datetime import datetime

    from bot.testing import BotHarness

    async with BotHarness(start=datetime(2026, 12, 1, 23, 0)) as h:
        await h.say(G1, "张三", LIGHT)
        assert h.texts_to(G1) and h.texts_to("李书记") == []  # the resident is answered at once
        await h.say(G1, "李四", "5号楼电梯困人了！快来人")
        assert [t for t in h.texts_to("李书记") if t.startswith("【紧急】")]  # urgent never waits
        await h.advance(hours=8, step=timedelta(hours=1))
        assert any(t.startswith("【新工单】") for t in h.texts_to("李书记"))
