"""Notices from the dashboard and API go through the notices service and reach the groups."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models import Event
from bot.models.notices import Notice
from bot.web.testing import WebKit


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await kit.add_user("sun", "secretary", compounds=["兰亭水岸"])
        await kit.add_user("chen", "community_staff", communities=["兰新社区"])
        yield kit


async def _compose(w, **fields) -> str:
    resp = await w.post_form("/dashboard/notices", fields, csrf_from="/dashboard/notices/new")
    assert resp.status == 303, await resp.text()
    return resp.headers["Location"]


async def test_preview_counts_the_groups_of_the_target(w):
    await w.login("li")
    body = await (await w.get("/dashboard/notices/preview?scope=compound&compound_id=1")).json()
    assert body["count"] == 2 and "阳光花园业主1群" in body["summary"]


async def test_broadcast_is_a_draft_until_confirmed_then_reaches_every_group(w, h):
    await w.login("li")
    location = await _compose(w, scope="compound", compound_id="1", text="本周六上午停水，请提前储水。")
    await h.drain()
    assert not any("停水" in s.text for s in h.sent)
    page = await (await w.get(location)).text()
    assert "待确认" in page and "confirm-notice" in page
    resp = await w.post_form(location + "/confirm", {}, csrf_from=location)
    assert resp.status == 303
    await h.drain()
    assert any("停水" in t for t in h.texts_to("阳光花园业主1群"))
    assert any("停水" in t for t in h.texts_to("阳光花园业主2群"))
    async with h.session() as session:
        notice = (await session.execute(select(Notice))).scalar_one()
        events = (await session.execute(select(Event).where(Event.subject_kind == "notice"))).scalars().all()
    assert notice.author_web_user == "li"
    assert {e.actor_web_user for e in events} == {"li"}
    page = await (await w.get(location)).text()
    assert page.count("已送达") == 2


async def test_scheduled_notice_is_sent_at_its_time(w, h):
    await w.login("li")
    location = await _compose(w, scope="compound", compound_id="1", text="十点议事日", send_at="2026-12-01T10:00")
    await w.post_form(location + "/confirm", {}, csrf_from=location)
    assert "已定时" in await (await w.get(location)).text()
    await h.advance(minutes=50, step=timedelta(minutes=10))
    assert not any("议事日" in s.text for s in h.sent)
    await h.advance(minutes=20, step=timedelta(minutes=5))
    assert any("议事日" in t for t in h.texts_to("阳光花园业主1群"))


async def test_cancelled_scheduled_notice_is_never_sent(w, h):
    await w.login("li")
    location = await _compose(w, scope="compound", compound_id="1", text="取消的通知", send_at="2026-12-02T09:00")
    await w.post_form(location + "/confirm", {}, csrf_from=location)
    resp = await w.post_form(location + "/cancel", {}, csrf_from=location)
    assert resp.status == 303
    assert "已撤回" in await (await w.get(location)).text()
    await h.advance(days=1, hours=2, step=timedelta(minutes=30))
    assert not any("取消的通知" in s.text for s in h.sent)


async def test_one_building_without_a_group_goes_to_its_residents(w, h):
    await w.login("li")
    body = await (await w.get("/dashboard/notices/preview?scope=building&compound_id=1&building=4")).json()
    assert body["unit"] == "人"


async def test_unknown_building_is_explained(w):
    await w.login("li")
    resp = await w.post_form("/dashboard/notices", {"scope": "building", "compound_id": "1", "building": "99",
                                                    "text": "x"}, csrf_from="/dashboard/notices/new")
    assert resp.status == 422
    assert "没有99号楼" in await resp.text()


async def test_notice_to_another_compound_is_forbidden(w, h):
    await w.login("li")
    resp = await w.post_form("/dashboard/notices", {"scope": "compound", "compound_id": "2", "text": "越权"},
                             csrf_from="/dashboard/notices/new")
    assert resp.status == 403
    async with h.session() as session:
        assert (await session.execute(select(Notice))).first() is None


async def test_secretary_cannot_open_another_compounds_notice(w):
    await w.login("sun")
    location = await _compose(w, scope="compound", compound_id="2", text="兰亭水岸的通知")
    await w.post_form("/dashboard/logout", {})
    await w.login("li")
    assert (await w.get(location)).status == 403
    assert "兰亭水岸的通知" not in await (await w.get("/dashboard/notices")).text()


async def test_community_staff_sends_to_the_whole_community(w, h):
    await w.login("chen")
    location = await _compose(w, scope="community", community_id="1", text="社区疫苗接种通知")
    await w.post_form(location + "/confirm", {}, csrf_from=location)
    await h.drain()
    groups = {s.group for s in h.sent if "疫苗" in s.text}
    assert groups == {"阳光花园业主1群", "阳光花园业主2群", "兰亭水岸邻里群"}


async def test_empty_and_too_long_text_are_refused_with_the_reason(w):
    await w.login("li")
    resp = await w.post_form("/dashboard/notices", {"scope": "compound", "compound_id": "1"},
                             csrf_from="/dashboard/notices/new")
    assert resp.status == 422 and "不能为空" in await resp.text()
    resp = await w.post_form("/dashboard/notices", {"scope": "compound", "compound_id": "1", "text": "长" * 1600},
                             csrf_from="/dashboard/notices/new")
    assert resp.status == 422 and "太长" in await resp.text()
    resp = await w.post_form("/dashboard/notices", {"scope": "compound", "compound_id": "1", "text": "x",
                                                    "send_at": "明天"}, csrf_from="/dashboard/notices/new")
    assert resp.status == 422 and "send_at" in await resp.text()


async def test_collection_notice_offers_the_answer_table(w, h):
    await w.login("li")
    location = await _compose(w, scope="compound", compound_id="1", text="请报名参加议事日",
                              collection_title="议事日报名", collection_fields="楼号 单元 人数")
    await w.post_form(location + "/confirm", {}, csrf_from=location)
    await h.drain()
    await h.say("阳光花园业主1群", "张三", "4号楼2单元 2人")
    page = await (await w.get(location)).text()
    assert "answers.xlsx" in page
    resp = await w.get(location + "/answers.xlsx")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")


async def test_notices_list_and_delivery_table_export(w, h):
    await w.login("li")
    location = await _compose(w, scope="compound", compound_id="1", text="导出测试")
    await w.post_form(location + "/confirm", {}, csrf_from=location)
    await h.drain()
    csv_text = (await (await w.get("/dashboard/notices?format=csv")).read()).decode("utf-8-sig")
    assert "导出测试" in csv_text
    deliveries = (await (await w.get(location + "?format=csv")).read()).decode("utf-8-sig")
    assert "阳光花园业主1群" in deliveries and "已送达" in deliveries


# ---------------------------------------------------------------- API
async def test_api_notice_draft_confirm_and_delivery_records(w, h):
    token = await w.token("li")
    resp = await w.api("POST", "/api/v1/notices/preview", token=token,
                       json={"scope": "compound", "compound_id": 1, "text": "x"})
    assert (await resp.json())["count"] == 2
    resp = await w.api("POST", "/api/v1/notices", token=token,
                       json={"scope": "compound", "compound_id": 1, "text": "接口发布的通知"})
    assert resp.status == 201
    created = await resp.json()
    assert created["status"] == "draft"
    resp = await w.api("POST", f"/api/v1/notices/{created['id']}/confirm", token=token)
    assert resp.status == 200
    await h.drain()
    detail = await (await w.api("GET", f"/api/v1/notices/{created['id']}", token=token)).json()
    assert detail["status"] == "sent" and {d["status"] for d in detail["deliveries"]} == {"sent"}
    assert "接口发布的通知" in detail["rendered"]
    listing = await (await w.api("GET", "/api/v1/notices", token=token)).json()
    assert listing["total"] == 1


async def test_api_notice_with_confirm_flag_schedules_at_once_and_can_be_cancelled(w, h):
    token = await w.token("li")
    resp = await w.api("POST", "/api/v1/notices", token=token, json={
        "scope": "compound", "compound_id": 1, "text": "定时", "send_at": "2026-12-03T08:00:00+08:00",
        "confirm": True})
    body = await resp.json()
    assert resp.status == 201 and body["status"] == "scheduled"
    resp = await w.api("POST", f"/api/v1/notices/{body['id']}/cancel", token=token)
    assert (await resp.json())["status"] == "cancelled"
    resp = await w.api("POST", f"/api/v1/notices/{body['id']}/cancel", token=token)
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "rejected"


async def test_api_notice_validation_and_scope(w):
    token = await w.token("li")
    resp = await w.api("POST", "/api/v1/notices", token=token, json={"scope": "planet", "text": "x"})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "scope"
    resp = await w.api("POST", "/api/v1/notices", token=token, json={"scope": "compound", "compound_id": 2,
                                                                     "text": "x"})
    assert resp.status == 403
    resp = await w.api("POST", "/api/v1/notices", token=token, json={"scope": "compound", "compound_id": 1,
                                                                     "text": "x", "send_at": "yesterday"})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "send_at"
    resp = await w.api("POST", "/api/v1/notices", token=token, json={"scope": "compound", "compound_id": 1,
                                                                     "text": "x", "send_at": "2020-01-01T09:00"})
    assert resp.status == 409 and "已经过去" in (await resp.json())["error"]["message"]
    resp = await w.api("GET", "/api/v1/notices/9999", token=token)
    assert resp.status == 404
