"""The rating pages: results scoped like the rest of the dashboard, the run's review and
approval from the dashboard, a compound's items with their data, adjustments, entries, the
property form and the red/black lists."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.models import Event
from bot.models.rating import RatingRun
from bot.models.tickets import Ticket
from bot.web.testing import WebKit


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await kit.add_user("chen", "community_staff", communities=["兰新社区"], person="陈社区")
        await kit.add_user("han", "district_staff", admin=True, person="区办小韩")
        yield kit


async def computed(w) -> None:  # noqa: ANN001
    await w.login("han")
    resp = await w.post_form("/dashboard/rating/run", {"period": "2026-Q4"})
    assert resp.status == 303


async def results(w, who: str) -> str:  # noqa: ANN001
    await w.login(who)
    return await (await w.get("/dashboard/rating?period=2026-Q4")).text()


async def test_the_rating_page_draws_the_star_distribution_and_lists_every_compound_for_the_district(w):
    await computed(w)
    page = await results(w, "han")
    assert 'id="chart-stars"' in page and "<svg" in page.split('id="chart-stars"')[1].split("</section>")[0]
    for name in ("阳光花园", "兰亭水岸", "沂龙湾润园"):
        assert f">{name}</a>" in page


async def test_a_secretary_sees_only_their_own_compound(w):
    await computed(w)
    page = await results(w, "li")
    assert ">阳光花园</a>" in page and "兰亭水岸" not in page and "沂龙湾润园" not in page
    other = w.h.bot.org.by_name["兰亭水岸"].id
    assert (await w.get(f"/dashboard/rating/compounds/{other}")).status == 403


async def test_community_staff_see_the_compounds_of_their_community(w):
    await computed(w)
    page = await results(w, "chen")
    assert ">阳光花园</a>" in page and ">兰亭水岸</a>" in page and "沂龙湾润园" not in page


async def test_a_run_is_reviewed_by_the_community_and_approved_and_published_by_the_district(w, h):
    await computed(w)
    await w.login("chen")
    assert (await w.post_form("/dashboard/rating/review", {"period": "2026-Q4"})).status == 303
    await w.login("han")
    await w.post_form("/dashboard/rating/review", {"period": "2026-Q4"})     # the compounds left
    await w.post_form("/dashboard/rating/approve", {"period": "2026-Q4"})
    await w.post_form("/dashboard/rating/publish", {"period": "2026-Q4"})
    async with h.session() as session:
        run = (await session.execute(select(RatingRun))).scalar_one()
        actors = [e.actor_web_user for e in (await session.execute(
            select(Event).where(Event.subject_kind == "rating_run").order_by(Event.id))).scalars()]
    assert run.status == "published" and actors == ["han", "chen", "han", "han", "han"]
    await h.drain()
    assert any(t.startswith("【2026年第四季度支部评星结果】阳光花园") for t in h.texts_to("李书记"))


async def test_community_staff_cannot_compute_or_approve_from_the_dashboard(w):
    await computed(w)
    await w.login("chen")
    assert (await w.post_form("/dashboard/rating/run", {"period": "2026-Q3"})).status == 403
    await w.post_form("/dashboard/rating/review", {"period": "2026-Q4"})
    await w.post_form("/dashboard/rating/approve", {"period": "2026-Q4"})
    async with w.h.session() as session:
        assert (await session.execute(select(RatingRun.status))).scalars().all() == ["draft"]


async def test_a_compounds_page_shows_each_item_with_its_rule_and_links_to_the_counted_tickets(w, h):
    await h.say("阳光花园业主1群", "张三", "5号楼电梯又坏了，物业一直没人修")
    async with h.session() as session:
        ticket_id = (await session.execute(select(Ticket.id))).scalar_one()
    await w.login("li")
    cid = h.bot.org.by_name["阳光花园"].id
    page = await (await w.get(f"/dashboard/rating/compounds/{cid}")).text()
    assert "本期预估" in page and "议事日 0 次 → 本季度至少 1 次" in page
    complaints = page.split('id="property-complaints"')[1].split("</tr>")[0]
    assert "1 件" in complaints and f'href="/dashboard/tickets/{ticket_id}"' in complaints
    assert "≤ 0 得满分 40" in complaints


async def test_an_adjustment_from_the_dashboard_without_a_reason_changes_nothing(w, h):
    await computed(w)
    cid = h.bot.org.by_name["阳光花园"].id
    page = await (await w.get(f"/dashboard/rating/compounds/{cid}?period=2026-Q4")).text()
    rating_id = page.split('name="rating_id" value="')[1].split('"')[0]
    before = page.split('id="stars">')[1].split("<")[0]
    await w.post_form(f"/dashboard/rating/compounds/{cid}/adjust", {"rating_id": rating_id, "stars": "5", "reason": ""})
    again = await (await w.get(f"/dashboard/rating/compounds/{cid}?period=2026-Q4")).text()
    assert again.split('id="stars">')[1].split("<")[0] == before
    await w.post_form(f"/dashboard/rating/compounds/{cid}/adjust",
                      {"rating_id": rating_id, "stars": "5", "reason": "示范点验收通过"})
    after = await (await w.get(f"/dashboard/rating/compounds/{cid}?period=2026-Q4")).text()
    assert after.split('id="stars">')[1].split("<")[0] == "★★★★★" and "示范点验收通过" in after


async def test_an_audit_finding_is_entered_with_owner_and_deadline_and_closed(w, h):
    await w.login("chen")
    cid = h.bot.org.by_name["阳光花园"].id
    await w.post_form(f"/dashboard/rating/compounds/{cid}/entries", {
        "kind": "audit", "title": "公共收益未按季度公示", "owner": "钱主任", "deadline": "2026-12-20"})
    page = await (await w.get(f"/dashboard/rating/compounds/{cid}")).text()
    assert "公共收益未按季度公示" in page and "钱主任" in page and "整改销号" in page
    entry_id = page.split("/dashboard/rating/entries/")[1].split("/")[0]
    await w.post_form(f"/dashboard/rating/entries/{entry_id}/close")
    assert "已整改" in await (await w.get(f"/dashboard/rating/compounds/{cid}")).text()


async def test_a_secretary_cannot_enter_list_items(w, h):
    await w.login("li")
    cid = h.bot.org.by_name["阳光花园"].id
    await w.post_form(f"/dashboard/rating/compounds/{cid}/entries", {"kind": "positive", "title": "自评表彰"})
    assert "自评表彰" not in await (await w.get(f"/dashboard/rating/compounds/{cid}")).text()


async def test_the_property_form_from_the_dashboard_counts_in_the_property_score(w, h):
    await w.login("li")
    cid = h.bot.org.by_name["阳光花园"].id
    await w.post_form(f"/dashboard/rating/compounds/{cid}/property", {
        "management": "10", "facilities": "10", "order": "10", "cleaning": "10", "greening": "5", "residents": "5"})
    page = await (await w.get(f"/dashboard/rating/compounds/{cid}")).text()
    assert "评议表 50.0" in page and "物业评议 <span class=\"small\">70.0 分" in page    # 0.6 × 50 + 0.4 × 100


async def test_the_lists_page_shows_the_counted_tickets_and_exports_xlsx(w, h):
    cid = h.bot.org.by_name["兰亭水岸"].id
    async with h.session() as session:
        made = datetime(2026, 11, 5, tzinfo=h.clock.tz)
        rows = [Ticket(compound_id=cid, number=i + 1, text="垃圾没人清", category="sanitation", state="closed",
                       created_at=made, updated_at=made) for i in range(10)]
        session.add_all(rows)
        await session.commit()
        ids = [r.id for r in rows]
    async with h.session() as session:
        from bot.services import Deps
        from bot.services.rating import lists, standard
        await lists.compute_lists(Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings),
                                  standard.for_settings(h.settings), "2026-11")
        await session.commit()
    await w.login("chen")
    page = await (await w.get("/dashboard/rating/lists?month=2026-11")).text()
    black = page.split('id="black"')[1].split("</section>")[0]
    assert "兰亭水岸项目" in black and all(f'href="/dashboard/tickets/{t}"' in black for t in ids)
    assert "环境卫生/垃圾" in page                                     # the rule, in words
    data = await (await w.get("/dashboard/rating/lists?month=2026-11&format=xlsx")).read()
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[1][1:3] == ("黑榜", "兰亭水岸项目")


async def test_the_district_narrows_the_rating_page_to_one_street(w):
    await computed(w)
    page = await (await w.get("/dashboard/rating?period=2026-Q4&street=柳青街道")).text()
    results = page.split('id="results"')[1]
    assert ">沂龙湾润园</a>" in results and "阳光花园" not in results


async def test_the_api_gives_a_secretary_only_their_compounds_result_and_its_items(w, h):
    await computed(w)
    token = await w.token("li")
    data = await (await w.api("GET", "/api/v1/rating?period=2026-Q4", token=token)).json()
    assert [r["compound"] for r in data["items"]] == ["阳光花园"] and data["status"] == "draft"
    cid = h.bot.org.by_name["阳光花园"].id
    one = await (await w.api("GET", f"/api/v1/rating/compounds/{cid}?period=2026-Q4", token=token)).json()
    assert {i["key"] for i in one["items"]} >= {"discussion_days", "hotline_change"} and one["live"] is False
    other = h.bot.org.by_name["兰亭水岸"].id
    assert (await w.api("GET", f"/api/v1/rating/compounds/{other}", token=token)).status == 403


async def test_the_rating_page_lists_the_compounds_whose_stars_moved_since_the_last_period(w, h):
    from bot.roles import Grant, Roles
    from bot.services import Actor, Deps
    from bot.services.rating import runs, standard
    from schedules.context import SYSTEM

    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        std = standard.for_settings(h.settings)
        q3 = await runs.compute_run(deps, std, "2026-Q3", SYSTEM)
        row = next(r for r in await runs.ratings_of(deps, q3) if r.compound_id == h.bot.org.by_name["阳光花园"].id)
        district = Actor("区办", Roles([Grant("district_staff", None, None)], h.bot.org.community_of), web_user="han")
        await runs.adjust(deps, district, std, row.id, 5, "上期示范点")
        await runs.compute_run(deps, std, "2026-Q4", SYSTEM)
        await session.commit()
    page = await results(w, "han")
    movers = page.split('id="movers"')[1].split("</ul>")[0]
    assert "阳光花园</a> 5星 → " in movers and "兰亭水岸" not in movers
