"""Statistics: charts and tables from tickets, ratings, hotline orders and the property ranking;
exports of every table; the data-screen API."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.models import PropertyProject
from bot.models.tickets import Ticket
from bot.services import Deps
from bot.services import rankings as R
from bot.web.testing import WebKit
from bot.web.views.stats import TABLES


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await kit.add_user("han", "district_staff", admin=True)
        yield kit


async def _life_of_a_ticket(h, w) -> None:
    """Reported in a group, resolved from the dashboard, rated 满意 by the resident."""
    await h.say("阳光花园业主1群", "张三", "4号楼门口下水道堵了，积水很深")
    async with h.session() as session:
        ticket = (await session.execute(select(Ticket))).scalars().first()
    await w.login("li")
    await w.post_form(f"/dashboard/tickets/{ticket.id}/assign", {"kind": "property"})
    h.clock.advance(timedelta(hours=5))
    await w.post_form(f"/dashboard/tickets/{ticket.id}/resolve", {"note": "已疏通"})
    await h.drain()
    await h.say("阳光花园业主1群", "张三", "满意")


async def _rankings(h, months: list[str]) -> None:
    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.bot.settings)
        projects = list((await session.execute(select(PropertyProject).order_by(PropertyProject.id))).scalars())
        for i, month in enumerate(months):
            counts = {projects[0].id: 9}
            if i >= 1:
                counts[projects[1].id] = 4
            await R.compute_ranking(deps, month, counts=counts)
        await session.commit()


async def test_stats_page_draws_every_chart(w, h):
    await _life_of_a_ticket(h, w)
    await w.api("POST", "/api/v1/hotline/orders", token=await w.token("li"), json={"orders": [
        {"order_no": "HL0001", "received_at": "2026-12-01T08:00", "compound_id": 1}]})
    page = await (await w.get("/dashboard/stats")).text()
    for section in ("chart-categories", "chart-resolve", "chart-satisfaction", "chart-overdue", "chart-hotline",
                    "ranking", "compounds-table"):
        assert f'id="{section}"' in page
    assert page.count("<svg") >= 4  # categories, resolve time, satisfaction, hotline
    assert "满意率" in page and "100.0%" in page
    assert "<b>5.0</b>" in page  # median hours to resolve


async def test_ranking_shows_two_and_three_month_flags(w, h):
    await _rankings(h, ["2026-09", "2026-10", "2026-11"])
    await w.login("han")
    page = await (await w.get("/dashboard/stats")).text()
    assert "2026-11" in page
    assert "连续3个月：更换物业企业" in page and "连续2个月：更换项目经理" in page
    rows = await (await w.api("GET", "/api/v1/stats/ranking", token=await w.token("han"))).json()
    flags = {r["project"]: (r["flag_2_months"], r["flag_3_months"]) for r in rows["items"]}
    assert sorted(flags.values()) == [(False, True), (True, False)]


async def test_secretary_sees_only_their_compound_in_figures(w, h):
    await h.say("兰亭水岸邻里群", "钱五", "兰亭水岸3号楼电梯坏了困人了")
    await w.login("li")
    csv_text = (await (await w.get("/dashboard/stats?table=compounds&format=csv")).read()).decode("utf-8-sig")
    assert "阳光花园" in csv_text and "兰亭水岸" not in csv_text
    assert (await w.get("/dashboard/stats?compound_id=2")).status == 403


async def test_every_stats_table_exports_as_csv_and_xlsx(w, h):
    await w.login("han")
    for table in TABLES:
        resp = await w.get(f"/dashboard/stats?table={table}&format=csv")
        assert resp.status == 200
        header = next(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert header and all(header), table
        resp = await w.get(f"/dashboard/stats?table={table}&format=xlsx")
        sheet = load_workbook(io.BytesIO(await resp.read())).worksheets[0]
        assert [c.value for c in next(sheet.iter_rows(max_row=1))] == header


async def test_stats_api_summary_for_a_data_screen(w, h):
    await _life_of_a_ticket(h, w)
    token = await w.token("han")
    body = await (await w.api("GET", "/api/v1/stats", token=token)).json()
    assert body["summary"]["satisfaction_rate"] == 100.0
    assert body["summary"]["resolved_this_week"] == 1
    assert {c["compound"] for c in body["compounds"]} == {"阳光花园", "兰亭水岸", "沂龙湾润园"}
    resp = await w.api("GET", "/api/v1/stats/nothing", token=token)
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "name"
    resp = await w.api("GET", "/api/v1/stats?weeks=100", token=token)
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "weeks"
    resp = await w.api("GET", "/api/v1/stats?month=Nov", token=token)
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "month"


async def test_charts_escape_labels():
    from bot.web import charts

    svg = str(charts.hbars([("<script>x</script>", 3)], "t"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


async def test_satisfaction_keeps_an_unsatisfied_rating_after_the_ticket_is_resolved_again(w, h):
    await _life_of_a_ticket(h, w)  # rated 满意 … then the resident finds it blocked again
    async with h.session() as session:
        ticket = (await session.execute(select(Ticket))).scalars().first()
    await w.post_form(f"/dashboard/tickets/{ticket.id}/reopen", {"comment": "又堵了"})
    await w.post_form(f"/dashboard/tickets/{ticket.id}/resolve", {"note": "再次疏通"})
    await h.drain()
    await h.say("阳光花园业主1群", "张三", "不满意，还是有积水")
    await w.post_form(f"/dashboard/tickets/{ticket.id}/resolve", {"note": "换了新管道"})
    await h.drain()
    await h.say("阳光花园业主1群", "张三", "满意")
    body = await (await w.api("GET", "/api/v1/stats", token=await w.token("han"))).json()
    counts = body["summary"]["satisfaction"]
    assert (counts["满意"], counts["不满意"]) == (2, 1)


async def test_satisfaction_counts_reporters_who_never_answered_as_default(w, h):
    await h.say("阳光花园业主1群", "张三", "4号楼门口下水道堵了，积水很深")
    async with h.session() as session:
        ticket = (await session.execute(select(Ticket))).scalars().first()
    await w.login("li")
    await w.post_form(f"/dashboard/tickets/{ticket.id}/resolve", {"note": "已疏通"})
    await h.advance(days=3, minutes=10, step=timedelta(hours=6))
    body = await (await w.api("GET", "/api/v1/stats", token=await w.token("han"))).json()
    assert body["summary"]["satisfaction"]["未回复（默认办结）"] == 1
