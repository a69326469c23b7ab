"""Web hardening found by an attacker's pass: scopes on writes to existing objects, login
throttling and hashing, proxies, out-of-range ids, Secure cookies."""
from __future__ import annotations

import asyncio
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models.tickets import HotlineOrder, Ticket
from bot.testing import BotHarness
from bot.web import security
from bot.web.testing import PASSWORD, WebKit


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


# ---------------------------------------------------------------- log-in: argon2 off the loop
@pytest.fixture
async def slow_hash(monkeypatch):
    """A password check that holds its thread until the test releases it, noting where it ran."""
    class Gate:
        def __init__(self) -> None:
            self.started = asyncio.Event()
            self.release = threading.Event()
            self.threads: list[int] = []
            self.on_loop = False

    gate = Gate()
    loop_thread = threading.get_ident()
    running = asyncio.get_running_loop()

    def verify(stored_hash, password):  # noqa: ANN001, ANN202
        gate.threads.append(threading.get_ident())
        running.call_soon_threadsafe(gate.started.set)
        if threading.get_ident() == loop_thread:
            gate.on_loop = True  # blocking here would freeze the loop: the test notes it instead
            return False
        gate.release.wait()
        return False

    monkeypatch.setattr(security, "verify_password", verify)
    yield gate
    gate.release.set()


async def test_password_check_runs_in_a_worker_thread_not_on_the_event_loop(w, slow_hash):
    slow_hash.release.set()
    assert (await w.login("li", "wrong-password")).status == 401
    assert slow_hash.threads and threading.get_ident() not in slow_hash.threads


async def test_other_requests_are_answered_while_a_password_is_being_checked(w, slow_hash):
    login = asyncio.create_task(w.login("li", "wrong-password"))
    await slow_hash.started.wait()
    page = await w.get("/dashboard/login")
    assert page.status == 200
    assert not slow_hash.on_loop and not login.done()
    slow_hash.release.set()
    assert (await login).status == 401


async def test_password_checks_beyond_the_limit_are_told_to_retry(w, slow_hash):
    w.state.passwords.close()
    w.state.passwords = security.PasswordWorker(workers=1, max_pending=1)
    first = asyncio.create_task(w.login("li", "wrong-password"))
    await slow_hash.started.wait()
    busy = await w.login("li", PASSWORD)
    assert busy.status == 429
    assert "稍等" in await busy.text()
    slow_hash.release.set()
    assert (await first).status == 401


# ---------------------------------------------------------------- log-in: throttling and proxies
@pytest.fixture
async def proxied():
    """The dashboard behind a reverse proxy on this host (trusted for X-Forwarded-*)."""
    async with BotHarness(settings={"web": {"trusted_proxies": ["127.0.0.1", "10.9.0.0/16"]}}) as h, \
            WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        yield kit


async def _login_from(w, forwarded_for: str, username: str = "li", password: str = PASSWORD, **headers):
    return await w.c.post("/dashboard/login", data={"username": username, "password": password,
                                                    "_csrf": await w.csrf()},
                          headers={"X-Forwarded-For": forwarded_for, **headers}, allow_redirects=False)


async def test_a_guesser_elsewhere_cannot_lock_the_real_user_out(proxied):
    for _ in range(10):
        assert (await _login_from(proxied, "203.0.113.5", password="wrong-password")).status in (401, 429)
    assert (await _login_from(proxied, "203.0.113.5")).status == 429
    assert (await _login_from(proxied, "198.51.100.7")).status == 303


async def test_failed_tries_from_one_address_wait_longer_each_time(w, h):
    for _ in range(5):
        assert (await w.login("li", "wrong-password")).status == 401
    first = await w.login("li")
    assert first.status == 429 and "1 分钟" in await first.text()
    h.clock.advance(timedelta(seconds=61))
    assert (await w.login("li", "wrong-password")).status == 401
    second = await w.login("li")
    assert second.status == 429 and "2 分钟" in await second.text()
    h.clock.advance(timedelta(seconds=121))
    assert (await w.login("li")).status == 303


async def test_spoofed_forwarded_for_does_not_escape_the_address_limit(proxied):
    # The proxy appends the address it saw (203.0.113.5); the client made up the rest.
    for i in range(20):
        await _login_from(proxied, f"1.2.3.{i}, 203.0.113.5", username=f"guess{i}", password="x" * 8)
    assert (await _login_from(proxied, "9.9.9.9, 203.0.113.5")).status == 429


async def test_the_rightmost_address_not_of_a_trusted_proxy_is_the_client(proxied):
    for i in range(20):
        await _login_from(proxied, f"203.0.113.5, 10.9.0.{i + 1}", username=f"guess{i}", password="x" * 8)
    assert (await _login_from(proxied, "203.0.113.5, 10.9.0.77")).status == 429
    assert (await _login_from(proxied, "203.0.113.6, 10.9.0.77")).status == 303


async def test_forwarded_for_is_ignored_without_trusted_proxies(w):
    for i in range(20):
        await _login_from(w, f"10.0.0.{i}", username=f"guess{i}", password="x" * 8)
    assert (await _login_from(w, "10.0.0.99")).status == 429


async def test_session_cookie_is_secure_behind_an_https_proxy(proxied):
    resp = await _login_from(proxied, "203.0.113.5", **{"X-Forwarded-Proto": "https"})
    assert resp.status == 303 and resp.cookies["zhibu_session"]["secure"]


async def test_forwarded_proto_from_an_untrusted_peer_is_ignored(w):
    resp = await _login_from(w, "203.0.113.5", **{"X-Forwarded-Proto": "https"})
    assert resp.status == 303 and not resp.cookies["zhibu_session"]["secure"]


# ---------------------------------------------------------------- ids out of range
BIG = "9" * 20


def _id_routes() -> list[tuple[str, str, str]]:
    from bot.web.app import api_app, dashboard_app

    found = []
    for prefix, app in (("/dashboard", dashboard_app()), ("/api/v1", api_app())):
        for route in app.router.routes():
            path = route.resource.canonical if route.resource else ""
            if route.method == "HEAD" or "_id}" not in path:
                continue
            path = re.sub(r"\{\w+_id\}", BIG, path).replace("{action}", "note")
            found.append((prefix, route.method, prefix + path))
    return found


@pytest.mark.parametrize("prefix, method, path", _id_routes(), ids=lambda v: v if isinstance(v, str) else "")
async def test_an_id_too_large_for_the_database_is_not_found(w, prefix, method, path):
    if prefix == "/dashboard":
        await w.login("han")
        if method == "GET":
            resp = await w.get(path)
        else:
            resp = await w.post_form(path, {"note": "x", "active": "0"})
        assert resp.status == 404, await resp.text()
        assert "没有找到" in await resp.text()
    else:
        resp = await w.api(method, path, token=await w.token("han"), json={})
        assert resp.status == 404, await resp.text()
        assert (await resp.json())["error"]["code"] == "not_found"


# ---------------------------------------------------------------- undelivered messages
async def _enqueue(h, text: str, *, group: str | None = None, person: str | None = None) -> None:
    from bot.models import ChatGroup, Person

    async with h.session() as s:
        if person:
            pid = (await s.execute(select(Person.id).where(Person.name == person))).scalars().first()
            h.bot.outbox.enqueue(s, text, person_id=pid)
        else:
            gid = (await s.execute(select(ChatGroup.id).where(ChatGroup.topic == group))).scalar_one()
            h.bot.outbox.enqueue(s, text, group_id=gid)
        await s.commit()
    await h.drain()


async def test_outbox_page_lists_failed_and_waiting_sends_with_the_reason(w, h):
    from bot.transports.base import TransportError

    h.transport.gone.add("room-yg-1")
    await _enqueue(h, "停水通知", group="阳光花园业主1群")
    h.transport.fail_next("room-yg-2", TransportError("网关超时"), times=3)
    await _enqueue(h, "议事日提醒", group="阳光花园业主2群")
    await w.login("li")
    page = await (await w.get("/dashboard/outbox")).text()
    assert "阳光花园业主1群" in page and "发送失败" in page
    assert "阳光花园业主2群" in page and "等待发送" in page and "网关超时" in page
    failed = await (await w.get("/dashboard/outbox?state=failed")).text()
    assert "阳光花园业主1群" in failed and "阳光花园业主2群" not in failed


async def test_outbox_preview_shows_no_digits_of_a_phone_number_cut_at_its_end(w, h):
    # A private text is stored unmasked (its recipient may need the number); its preview is
    # masked, and 52 characters before the number put the 60-character cut inside it.
    h.transport.disconnect()
    await _enqueue(h, "请联系物业" * 10 + "电话" + "13812345678", person="张三")
    items = (await (await w.api("GET", "/api/v1/outbox", token=await w.token("li"))).json())["items"]
    [preview] = [i["preview"] for i in items if "请联系物业电话" in i["preview"]]
    assert "13812345" not in preview


async def test_outbox_lists_only_the_users_compounds_groups_and_people(w, h):
    h.transport.gone.update({"room-yg-1", "room-lt-1"})
    await _enqueue(h, "阳光的群消息", group="阳光花园业主1群")
    await _enqueue(h, "兰亭的群消息", group="兰亭水岸邻里群")
    h.transport.disconnect()
    await _enqueue(h, "给张三的私信", person="张三")
    mine = await (await w.api("GET", "/api/v1/outbox", token=await w.token("li"))).json()
    theirs = await (await w.api("GET", "/api/v1/outbox", token=await w.token("sun"))).json()
    everything = await (await w.api("GET", "/api/v1/outbox", token=await w.token("han"))).json()
    assert {i["preview"] for i in mine["items"]} == {"阳光的群消息", "给张三的私信"}
    assert {i["preview"] for i in theirs["items"]} == {"兰亭的群消息"}
    assert {"阳光的群消息", "兰亭的群消息", "给张三的私信"} <= {i["preview"] for i in everything["items"]}
    resp = await w.api("GET", "/api/v1/outbox?compound_id=1", token=await w.token("sun"))
    assert resp.status == 403


async def test_outbox_shows_a_status_it_does_not_know_under_its_own_name(w, h):
    from sqlalchemy import update

    from bot.models import OutboxMessage

    h.transport.disconnect()
    await _enqueue(h, "等网关", group="阳光花园业主1群")
    async with h.session() as s:
        await s.execute(update(OutboxMessage).values(status="parked"))
        await s.commit()
    body = await (await w.api("GET", "/api/v1/outbox?state=waiting", token=await w.token("li"))).json()
    assert [(i["status"], i["status_label"], i["recipient"]) for i in body["items"]] == \
        [("parked", "parked", "阳光花园业主1群")]


async def test_an_unlisted_local_proxy_is_reported_once_in_the_log(w, caplog):
    from bot.web import proxy

    proxy._warned.discard("127.0.0.1")  # noqa: SLF001  (once per process: start clean)
    with caplog.at_level("WARNING", logger="bot.web.proxy"):
        await _login_from(w, "203.0.113.5", password="wrong-password")
        await _login_from(w, "203.0.113.6", password="wrong-password")
    warnings = [r for r in caplog.records if "web.trusted_proxies" in r.getMessage()]
    assert len(warnings) == 1
