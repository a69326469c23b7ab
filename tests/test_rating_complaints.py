"""Which tickets are complaints against the property project: one rule (the standard file's
[complaints]) for the monthly ranking, the property score and the dashboard."""
from __future__ import annotations

from datetime import datetime

from bot.services import Deps
from bot.services.rating import complaints, standard
from bot.months import month_bounds
from bot.testing import BotHarness

G1 = "阳光花园业主1群"
# Six December complaints that blame the property: lifts, bins, cleaning, greenery, door access, drains.
SIX = [
    ("张三", "5号楼电梯又坏了，物业一直没人修"),
    ("李四", "3号楼下的垃圾桶满了溢出来好几天，物业也不清运"),
    ("王奶奶", "楼道好几天没人打扫了，物业保洁呢"),
    ("张三", "小区草坪好久没修剪了，物业不管绿化吗"),
    ("李四", "2号楼单元门门禁坏了刷卡打不开，物业赶紧修"),
    ("王奶奶", "4号楼门口下水道堵了积水，物业一直不来疏通"),
]


async def report_six(h) -> None:  # noqa: ANN001
    for sender, text in SIX:
        await h.say(G1, sender, text)
        await h.advance(minutes=30)


async def test_six_december_complaints_that_blame_the_property_rank_the_project_at_six():
    async with BotHarness(start=datetime(2026, 12, 2, 9, 0)) as h:
        await report_six(h)
        h.clock.set(datetime(2026, 12, 31, 23, 0).replace(tzinfo=h.clock.tz))
        await h.advance(hours=10)      # Jan 1: December's ranking
        [text] = [t for t in h.texts_to("区办小韩") if "投诉量排名" in t]
        assert "阳光花园项目（安居物业服务有限公司，阳光花园）6件" in text


async def test_the_ranking_and_the_counted_ticket_list_follow_the_same_rule():
    async with BotHarness(start=datetime(2026, 12, 2, 9, 0)) as h:
        await report_six(h)
        async with h.session() as session:
            deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
            start, end = month_bounds("2026-12", h.clock.tz)
            rule = standard.for_settings(h.settings).complaints
            listed = await complaints.counted_tickets(session, rule, start, end)
            from bot.services.rankings import complaint_counts
            counts = await complaint_counts(deps, "2026-12")
        cid = h.bot.org.by_name["阳光花园"].id
        assert len(listed[cid]) == 6 and sorted(counts.values()) == [6]


def test_a_standard_whose_complaint_rule_names_no_category_counts_only_assigned_tickets():
    rule = standard.ComplaintRule(categories=[], assigned_to_property=True)
    assert complaints.matches(rule, "elevator", "property", "assigned")
    assert not complaints.matches(rule, "elevator", None, "new")
    assert not complaints.matches(rule, "elevator", "property", "merged")


async def test_the_dashboard_shows_the_ranking_with_the_tickets_it_counted():
    from bot.web.testing import WebKit

    async with BotHarness(start=datetime(2026, 12, 2, 9, 0)) as h, WebKit(h) as w:
        await report_six(h)
        async with h.session() as session:
            deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
            from bot.services.rankings import compute_ranking
            await compute_ranking(deps, "2026-12")
            await session.commit()
            from bot.models.tickets import Ticket
            from sqlalchemy import select
            ids = list((await session.execute(select(Ticket.id))).scalars())
        await w.add_user("han", "district_staff")
        await w.login("han")
        page = await (await w.get("/dashboard/rating/lists?month=2026-12")).text()
        row = page.split('id="ranking"')[1].split("</tr>")[1]
        assert "阳光花园项目" in row and "<td>6</td>" in row
        assert all(f'href="/dashboard/tickets/{t}"' in row for t in ids) and len(ids) == 6
