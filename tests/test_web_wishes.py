"""Micro-wishes, stale claims, service records and identity requests in the dashboard and API."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models import Event
from bot.models.wishes import Wish
from bot.web.testing import WebKit


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        await kit.add_user("sun", "secretary", compounds=["兰亭水岸"])
        yield kit


async def _wish_id(h) -> int:
    async with h.session() as session:
        return (await session.execute(select(Wish.id).order_by(Wish.id.desc()))).scalars().first()


async def test_wishes_page_shows_open_and_claimed_wishes(w, h):
    await h.dm("王奶奶", "微心愿 帮忙修一下轮椅的刹车")
    wish = await _wish_id(h)
    await w.login("li")
    page = await (await w.get("/dashboard/wishes")).text()
    assert "轮椅" in page and "待认领" in page
    await h.dm("张党员", f"认领 W{wish}")
    page = await (await w.get("/dashboard/wishes?state=claimed")).text()
    assert "轮椅" in page and "张党员" in page


async def test_branch_posts_a_wish_for_someone_and_members_hear_of_it(w, h):
    await w.login("li")
    resp = await w.post_form("/dashboard/wishes", {
        "compound_id": "1", "summary": "陪同去医院复查", "wisher_name": "刘大爷", "address": "5号楼1单元102",
        "phone": "13912345678", "details": "行动不便"}, csrf_from="/dashboard/wishes/new")
    assert resp.status == 303
    page = await (await w.get(resp.headers["Location"])).text()
    assert "陪同去医院复查" in page and "5号楼1单元102" in page  # staff see the private part
    async with h.session() as session:
        wish = (await session.execute(select(Wish))).scalar_one()
        event = (await session.execute(select(Event).where(Event.subject_kind == "wish"))).scalar_one()
    assert wish.on_behalf and wish.posted_by_web == "li"
    assert event.actor_web_user == "li"


async def test_confirming_a_fulfilled_wish_credits_the_member(w, h):
    await h.dm("王奶奶", "微心愿 帮忙修一下轮椅的刹车")
    wish = await _wish_id(h)
    await h.dm("张党员", f"认领 W{wish}")
    await h.dm("张党员", f"完成 W{wish} 已修好")
    await w.login("li")
    page = await (await w.get(f"/dashboard/wishes/{wish}")).text()
    assert "确认已实现" in page
    h.new_sent()
    resp = await w.post_form(f"/dashboard/wishes/{wish}/confirm", {}, csrf_from=f"/dashboard/wishes/{wish}")
    assert resp.status == 303
    await h.drain()
    assert any(s.person == "张党员" for s in h.new_sent())
    records = await (await w.get("/dashboard/wishes/records?compound_id=1")).text()
    assert "张党员" in records


async def test_withdrawing_a_wish_tells_the_claimer(w, h):
    await h.dm("王奶奶", "微心愿 帮忙买点菜")
    wish = await _wish_id(h)
    await h.dm("张党员", f"认领 W{wish}")
    h.new_sent()
    await w.login("li")
    await w.post_form(f"/dashboard/wishes/{wish}/cancel", {"reason": "家人已解决"}, csrf_from="/dashboard/wishes")
    await h.drain()
    assert any(s.person == "张党员" for s in h.new_sent())
    async with h.session() as session:
        assert (await session.get(Wish, wish)).state == "cancelled"


async def test_stale_claims_are_listed(w, h):
    await h.dm("王奶奶", "微心愿 帮忙换个灯泡")
    wish = await _wish_id(h)
    await h.dm("张党员", f"认领 W{wish}")
    h.clock.advance(timedelta(days=4))
    await w.login("li")
    page = await (await w.get("/dashboard/wishes")).text()
    assert "stale-claims" in page and "4 天" in page
    csv_text = (await (await w.get("/dashboard/wishes/stale?format=csv")).read()).decode("utf-8-sig")
    assert "张党员" in csv_text


async def test_wish_of_another_compound_is_forbidden(w, h):
    await h.dm("王奶奶", "微心愿 帮忙修一下轮椅的刹车")
    wish = await _wish_id(h)
    await w.login("sun")
    assert (await w.get(f"/dashboard/wishes/{wish}")).status == 403
    token = await w.token("sun")
    assert (await w.api("GET", f"/api/v1/wishes/{wish}", token=token)).status == 403


async def test_identity_request_is_approved_in_the_dashboard(w, h):
    await h.say("阳光花园业主1群", "赵六", "亮身份 党员 5号楼1单元")
    await w.login("li")
    page = await (await w.get("/dashboard/people")).text()
    assert "pending-requests" in page and "赵六" in page
    async with h.session() as session:
        from bot.models.members import IdentityRequest

        req = (await session.execute(select(IdentityRequest))).scalar_one()
    h.new_sent()
    resp = await w.post_form(f"/dashboard/people/requests/{req.id}", {"decision": "approve"},
                             csrf_from="/dashboard/people")
    assert resp.status == 303
    await h.drain()
    assert any(s.person == "赵六" for s in h.new_sent())
    async with h.session() as session:
        req = await session.get(IdentityRequest, req.id)
    assert req.state == "approved" and req.decided_by_web == "li"


async def test_api_wishes_list_post_and_records(w, h):
    token = await w.token("li")
    resp = await w.api("POST", "/api/v1/wishes", token=token, json={
        "compound_id": 1, "summary": "修水龙头", "wisher_name": "独居老人刘奶奶"})
    assert resp.status == 201
    wish = await resp.json()
    assert wish["number"].startswith("W") and wish["private"] is not None
    listing = await (await w.api("GET", "/api/v1/wishes?state=open", token=token)).json()
    assert listing["total"] == 1
    assert (await w.api("GET", "/api/v1/wishes/stale-claims", token=token)).status == 200
    assert (await w.api("GET", "/api/v1/members/service-records?compound_id=1", token=token)).status == 200
    resp = await w.api("POST", "/api/v1/wishes", token=token, json={"compound_id": 1, "summary": "x" * 41,
                                                                    "wisher_name": "a"})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "summary"
    resp = await w.api("POST", "/api/v1/wishes", token=token, json={"compound_id": 2, "summary": "x",
                                                                    "wisher_name": "a"})
    assert resp.status == 403
    resp = await w.api("POST", f"/api/v1/wishes/{wish['id']}/confirm", token=token)
    assert resp.status == 409  # not fulfilled yet: the service says why
