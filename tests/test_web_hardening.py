"""Web hardening found by an attacker's pass: scopes on writes to existing objects, login
throttling and hashing, proxies, out-of-range ids, Secure cookies."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models.tickets import HotlineOrder, Ticket
from bot.web.testing import WebKit


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        await kit.add_user("sun", "secretary", compounds=["兰亭水岸"], display_name="孙书记")
        await kit.add_user("han", "district_staff", admin=True)
        yield kit


async def _order(h, order_no: str) -> HotlineOrder:
    async with h.session() as session:
        return (await session.execute(select(HotlineOrder).where(HotlineOrder.order_no == order_no))).scalar_one()


async def _push(w, who: str, **order):
    order.setdefault("received_at", "2026-12-01T08:00")
    return await w.api("POST", "/api/v1/hotline/orders", token=await w.token(who), json={"orders": [order]})


# ---------------------------------------------------------------- hotline scope
async def test_secretary_cannot_move_another_compounds_hotline_order_by_pushing_it_again(w, h):
    assert (await _push(w, "han", order_no="HX-A001", compound_id=1, content="楼道灯不亮")).status == 200
    resp = await _push(w, "sun", order_no="HX-A001", compound_id=2, content="改掉")
    assert resp.status == 403
    order = await _order(h, "HX-A001")
    assert order.compound_id == 1 and order.content == "楼道灯不亮"


async def test_secretary_cannot_claim_an_unmatched_hotline_order(w, h):
    assert (await _push(w, "han", order_no="HX-U001", address="不知道哪里")).status == 200
    assert (await _push(w, "sun", order_no="HX-U001", compound_id=2)).status == 403
    assert (await _order(h, "HX-U001")).compound_id is None


async def test_secretary_may_update_their_own_compounds_hotline_order(w, h):
    assert (await _push(w, "han", order_no="HX-B001", compound_id=2)).status == 200
    resp = await _push(w, "sun", order_no="HX-B001", compound_id=2, status="已办结")
    assert resp.status == 200 and (await resp.json())["updated"] == 1
    assert (await _order(h, "HX-B001")).status == "已办结"


async def test_linking_another_compounds_hotline_order_to_a_ticket_is_refused(w, h):
    assert (await _push(w, "han", order_no="HX-B002", compound_id=2)).status == 200
    await h.say("阳光花园业主1群", "张三", "4号楼门口下水道堵了，积水很深走不了路")
    async with h.session() as session:
        ticket = (await session.execute(select(Ticket))).scalars().one()
    resp = await w.api("POST", f"/api/v1/tickets/{ticket.id}/hotline", token=await w.token("li"),
                       json={"order_no": "HX-B002"})
    assert resp.status == 409
    order = await _order(h, "HX-B002")
    assert order.ticket_id is None and order.compound_id == 2
