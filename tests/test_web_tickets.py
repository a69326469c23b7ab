"""Tickets in the dashboard and API: the board, the ticket page, actions through the tickets
service (residents and assignees hear about them in chat), scopes and validation."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models import Event
from bot.models.tickets import HotlineOrder, Ticket
from bot.web.testing import WebKit

REPORT = "4号楼门口下水道堵了，积水很深走不了路"


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        await kit.add_user("sun", "secretary", compounds=["兰亭水岸"], display_name="孙书记")
        await kit.add_user("chen", "community_staff", communities=["兰新社区"], display_name="陈社区")
        await kit.add_user("han", "district_staff", admin=True)
        yield kit


async def _report(h, text: str = REPORT, who: str = "张三", group: str = "阳光花园业主1群") -> Ticket:
    await h.say(group, who, text)
    async with h.session() as session:
        ticket = (await session.execute(select(Ticket).order_by(Ticket.id.desc()))).scalars().first()
    assert ticket is not None, [str(s) for s in h.sent]
    h.new_sent()
    return ticket


async def _act(w, ticket: Ticket, action: str, **fields):
    return await w.post_form(f"/dashboard/tickets/{ticket.id}/{action}", fields,
                             csrf_from=f"/dashboard/tickets/{ticket.id}")


async def _flash(w, ticket: Ticket) -> str:
    return await (await w.get(f"/dashboard/tickets/{ticket.id}")).text()


async def test_board_lists_open_tickets_of_the_secretarys_compound(w, h):
    await _report(h)
    await _report(h, "兰亭水岸3号楼电梯坏了，困人了", who="钱五", group="兰亭水岸邻里群")
    await w.login("li")
    text = await (await w.get("/dashboard/tickets")).text()
    assert "下水道" in text and "困人" not in text


async def test_board_filters_by_category_urgency_overdue_and_date(w, h):
    ticket = await _report(h)
    await w.login("li")
    category = ticket.category
    assert "下水道" in await (await w.get(f"/dashboard/tickets?category={category}")).text()
    assert "下水道" not in await (await w.get("/dashboard/tickets?category=pets")).text()
    assert "下水道" not in await (await w.get("/dashboard/tickets?overdue=true")).text()
    assert "下水道" in await (await w.get("/dashboard/tickets?since=2026-12-01&until=2026-12-01")).text()
    assert "下水道" not in await (await w.get("/dashboard/tickets?since=2026-12-02")).text()
    h.clock.advance(timedelta(days=8))
    await w.login("li")  # the session went idle meanwhile
    assert "下水道" in await (await w.get("/dashboard/tickets?overdue=true")).text()


async def test_bad_board_filters_are_422(w):
    await w.login("li")
    assert (await w.get("/dashboard/tickets?state=lost")).status == 422
    assert (await w.get("/dashboard/tickets?since=yesterday")).status == 422
    assert (await w.get("/dashboard/tickets?category=nonsense")).status == 422


async def test_ticket_page_shows_the_report_and_timeline(w, h):
    ticket = await _report(h)
    await w.login("li")
    page = await (await w.get(f"/dashboard/tickets/{ticket.id}")).text()
    assert REPORT in page and "张三" in page and "登记" in page
    assert "阳光花园-0001" in page


async def test_secretary_cannot_open_another_compounds_ticket(w, h):
    ticket = await _report(h)
    await w.login("sun")
    assert (await w.get(f"/dashboard/tickets/{ticket.id}")).status == 403
    resp = await _act(w, ticket, "assign", kind="property")
    assert resp.status == 403
    assert (await w.get("/dashboard/tickets/99999")).status == 404


async def test_assign_tells_the_assignee_in_chat_and_is_audited_with_the_web_user(w, h):
    ticket = await _report(h)
    await w.login("li")
    resp = await _act(w, ticket, "assign", kind="property", note="请今天处理")
    assert resp.status == 303
    assert "已派单给物业" in await _flash(w, ticket)
    await h.drain()
    assert any("派单" in t and "阳光花园-0001" in t for t in h.texts_to("周经理"))
    async with h.session() as session:
        event = (await session.execute(select(Event).where(
            Event.subject_kind == "ticket", Event.action == "assigned"))).scalar_one()
    assert event.actor_web_user == "li"


async def test_resolve_asks_the_resident_to_confirm_and_rating_closes_it(w, h):
    ticket = await _report(h)
    await w.login("li")
    await _act(w, ticket, "assign", kind="property")
    resp = await _act(w, ticket, "resolve", note="已疏通下水道")
    assert resp.status == 303
    await h.drain()
    asks = [s for s in h.new_sent() if "已办结" in s.text]
    assert asks and "张三" in asks[0].mentions
    await h.say("阳光花园业主1群", "张三", "满意")
    page = await _flash(w, ticket)
    assert "已完结" in page and "满意" in page


async def test_note_transfer_and_agenda_go_through_the_service(w, h):
    ticket = await _report(h)
    await w.login("li")
    await _act(w, ticket, "assign", kind="grid_worker")
    await h.drain()
    assert h.texts_to("王网格")
    assert (await _act(w, ticket, "note", note="已联系排水公司")).status == 303
    assert (await _act(w, ticket, "transfer", kind="property", note="属于物业")).status == 303
    assert (await _act(w, ticket, "agenda", scope="物业、业委会", topic="门口排水改造")).status == 303
    page = await _flash(w, ticket)
    assert "已列入" in page and "门口排水改造" in page
    async with h.session() as session:
        actions = list((await session.execute(select(Event.action).where(
            Event.subject_kind == "ticket", Event.subject_id == ticket.id).order_by(Event.id))).scalars())
    assert {"assigned", "noted", "transferred", "agenda"} <= set(actions)


async def test_merge_two_reports_into_one(w, h):
    first = await _report(h)
    second = await _report(h, "小区南门的路灯不亮了，晚上很黑", who="李四")
    await w.login("li")
    resp = await _act(w, second, "merge", into=f"id:{first.id}")
    assert resp.status == 303
    async with h.session() as session:
        merged = await session.get(Ticket, second.id)
        target = await session.get(Ticket, first.id)
    assert merged.state == "merged" and merged.merged_into_id == first.id
    assert target.reporters_count == 2


async def test_reopen_a_resolved_ticket_tells_the_handler(w, h):
    ticket = await _report(h)
    await w.login("li")
    await _act(w, ticket, "assign", kind="property")
    await _act(w, ticket, "resolve", note="已疏通")
    await h.drain()
    h.new_sent()
    resp = await _act(w, ticket, "reopen", comment="居民说又堵了")
    assert resp.status == 303
    await h.drain()
    assert any("又堵了" in t for t in h.texts_to("周经理"))
    async with h.session() as session:
        assert (await session.get(Ticket, ticket.id)).state == "assigned"


async def test_a_rule_refusal_is_shown_not_a_crash(w, h):
    ticket = await _report(h)
    await w.login("li")
    resp = await _act(w, ticket, "reopen")
    assert resp.status == 303
    assert "只有已办结" in await _flash(w, ticket)
    resp = await _act(w, ticket, "assign", kind="person", name="不存在的人")
    assert resp.status == 303
    page = await _flash(w, ticket)
    assert "flash err" in page


async def test_invalid_action_input_is_explained(w, h):
    ticket = await _report(h)
    await w.login("li")
    await _act(w, ticket, "resolve")  # no note
    assert "字段“note”不正确：必填" in await _flash(w, ticket)
    assert (await _act(w, ticket, "fly-away")).status == 404


async def test_community_staff_supervises(w, h):
    ticket = await _report(h)
    await w.login("chen")
    page = await (await w.get(f"/dashboard/tickets/{ticket.id}")).text()
    assert "act-supervise" in page
    assert (await _act(w, ticket, "supervise", reason="请本周内解决")).status == 303
    async with h.session() as session:
        assert (await session.get(Ticket, ticket.id)).supervised


async def test_resident_text_is_escaped_on_the_pages(w, h):
    ticket = await _report(h, "3号楼水管爆了到处是水<script>alert('x')</script><img src=x onerror=alert(1)>")
    await w.login("li")
    for path in (f"/dashboard/tickets/{ticket.id}", "/dashboard/tickets", "/dashboard/"):
        page = await (await w.get(path)).text()
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page


async def test_board_export_csv_and_xlsx(w, h):
    await _report(h, "=HYPERLINK(\"http://evil\") 5号楼电梯坏了困人")
    await w.login("li")
    resp = await w.get("/dashboard/tickets?format=csv")
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0][0] == "编号" and len(rows) == 2
    assert rows[1][5].startswith("'=")  # never a live spreadsheet formula
    resp = await w.get("/dashboard/tickets?format=xlsx")
    assert resp.status == 200 and (await resp.read())[:2] == b"PK"


# ---------------------------------------------------------------- API
async def test_api_ticket_list_detail_and_actions(w, h):
    ticket = await _report(h)
    token = await w.token("li")
    listing = await (await w.api("GET", "/api/v1/tickets", token=token)).json()
    assert listing["total"] == 1 and listing["items"][0]["code"] == "阳光花园-0001"
    detail = await (await w.api("GET", f"/api/v1/tickets/{ticket.id}", token=token)).json()
    assert detail["text"] == REPORT and detail["reporters"][0]["name"] == "张三"
    resp = await w.api("POST", f"/api/v1/tickets/{ticket.id}/assign", token=token, json={"kind": "property"})
    body = await resp.json()
    assert resp.status == 200 and body["ticket"]["state"] == "assigned"
    resp = await w.api("POST", f"/api/v1/tickets/{ticket.id}/resolve", token=token, json={"note": "已修好"})
    assert (await resp.json())["ticket"]["state"] == "resolved"
    await h.drain()
    assert any("已办结" in s.text for s in h.sent)


async def test_api_secretary_reading_another_compounds_ticket_is_403(w, h):
    ticket = await _report(h)
    token = await w.token("sun")
    resp = await w.api("GET", f"/api/v1/tickets/{ticket.id}", token=token)
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    resp = await w.api("POST", f"/api/v1/tickets/{ticket.id}/note", token=token, json={"note": "x"})
    assert resp.status == 403
    resp = await w.api("GET", "/api/v1/tickets?compound_id=1", token=token)
    assert resp.status == 403


async def test_api_ticket_validation_and_rule_errors(w, h):
    ticket = await _report(h)
    token = await w.token("li")
    resp = await w.api("POST", f"/api/v1/tickets/{ticket.id}/assign", token=token, json={"kind": "wizard"})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "kind"
    resp = await w.api("POST", f"/api/v1/tickets/{ticket.id}/note", token=token, json={"note": "x" * 501})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "note"
    resp = await w.api("POST", f"/api/v1/tickets/{ticket.id}/note", token=token, json={"note": "ok", "extra": 1})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "extra"
    resp = await w.api("POST", f"/api/v1/tickets/{ticket.id}/resolve", token=token, data=b"\xff\xfe",
                       headers={"Content-Type": "application/json"})
    assert resp.status == 400
    await w.api("POST", f"/api/v1/tickets/{ticket.id}/not-issue", token=token, json={})
    resp = await w.api("POST", f"/api/v1/tickets/{ticket.id}/resolve", token=token, json={"note": "x"})
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "rejected"
    resp = await w.api("GET", "/api/v1/tickets/abc", token=token)
    assert resp.status == 422


async def test_api_hotline_push_counts_orders_per_compound(w, h):
    token = await w.token("han")
    resp = await w.api("POST", "/api/v1/hotline/orders", token=token, json={"orders": [
        {"order_no": "HL20261201001", "received_at": "2026-12-01T08:00:00+08:00", "compound": "阳光花园",
         "content": "楼道灯不亮"},
        {"order_no": "HL20261201002", "received_at": "2026-12-01T08:30", "address": "兰亭水岸3号楼"},
        {"order_no": "HL20261201003", "received_at": "2026-12-01T09:00", "address": "不知道哪里"},
    ]})
    assert resp.status == 200
    assert await resp.json() == {"created": 3, "updated": 0, "unmatched": 1}
    async with h.session() as session:
        orders = {o.order_no: o.compound_id for o in (await session.execute(select(HotlineOrder))).scalars()}
    assert orders["HL20261201001"] == 1 and orders["HL20261201002"] == 2
    stats = await (await w.api("GET", "/api/v1/stats/hotline", token=token)).json()
    month = "2026-12"
    assert {r["compound"]: r[month] for r in stats["items"]} == {"阳光花园": 1, "兰亭水岸": 1}


async def test_api_hotline_push_is_validated_and_scoped(w):
    token = await w.token("li")
    resp = await w.api("POST", "/api/v1/hotline/orders", token=token, json={"orders": []})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "orders"
    resp = await w.api("POST", "/api/v1/hotline/orders", token=token, json={"orders": [
        {"order_no": "x", "received_at": "2026-12-01T08:00"}]})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "orders.0.order_no"
    resp = await w.api("POST", "/api/v1/hotline/orders", token=token, json={"orders": [
        {"order_no": "HL1234", "received_at": "2026-12-01T08:00", "compound_id": 2}]})
    assert resp.status == 403


async def test_reopen_of_a_closed_ticket_is_the_services_reopen(w, h):
    ticket = await _report(h)
    await w.login("li")
    await _act(w, ticket, "assign", kind="property")
    await _act(w, ticket, "resolve", note="已疏通")
    await h.drain()
    await h.say("阳光花园业主1群", "张三", "满意")
    h.new_sent()
    await _act(w, ticket, "reopen", comment="又堵了")
    await h.drain()
    async with h.session() as session:
        row = await session.get(Ticket, ticket.id)
        event = (await session.execute(select(Event).where(
            Event.subject_kind == "ticket", Event.subject_id == ticket.id).order_by(Event.id.desc()))).scalars().first()
    assert (row.state, row.closed_at, row.satisfaction, row.reopen_count) == ("assigned", None, None, 1)
    assert (event.action, event.from_state, event.to_state) == ("reopened", "closed", "assigned")
    assert any(t.startswith("【重新打开】") and "又堵了" in t for t in h.texts_to("周经理"))
