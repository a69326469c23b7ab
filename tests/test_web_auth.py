"""Dashboard log-in: password hashing, session cookie, CSRF, throttling, log-out."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models import Event
from bot.models.web import WebSetting, WebUser
from bot.testing import BotHarness
from bot.web.testing import PASSWORD, WebKit


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        yield kit


async def test_dashboard_redirects_to_login_when_not_logged_in(w):
    resp = await w.get("/dashboard/tickets", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/dashboard/login?next=/dashboard/tickets"


async def test_login_sets_httponly_samesite_session_cookie_and_lands_on_next(w):
    token = await w.csrf("/dashboard/login")
    resp = await w.c.post("/dashboard/login", data={"username": "li", "password": PASSWORD, "_csrf": token,
                                                    "next": "/dashboard/people"}, allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/dashboard/people"
    cookie = resp.cookies["zhibu_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    page = await w.get("/dashboard/")
    assert page.status == 200
    assert "李书记" in await page.text()


async def test_login_next_never_leaves_the_dashboard(w):
    token = await w.csrf("/dashboard/login")
    resp = await w.c.post("/dashboard/login", data={"username": "li", "password": PASSWORD, "_csrf": token,
                                                    "next": "//evil.example/x"}, allow_redirects=False)
    assert resp.headers["Location"] == "/dashboard/"


async def test_wrong_password_is_refused_without_saying_which_part_was_wrong(w):
    resp = await w.login("li", "wrong-password")
    assert resp.status == 401
    assert "用户名或密码错误" in await resp.text()
    resp = await w.login("nobody", "wrong-password")
    assert resp.status == 401
    assert "用户名或密码错误" in await resp.text()


async def test_password_is_stored_as_an_argon2id_hash(w, h):
    async with h.session() as session:
        user = (await session.execute(select(WebUser).where(WebUser.username == "li"))).scalar_one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_five_failures_make_the_next_try_wait_even_with_the_right_password(w, h):
    for _ in range(5):
        assert (await w.login("li", "wrong-password")).status == 401
    locked = await w.login("li")
    assert locked.status == 429
    assert "分钟后再试" in await locked.text()
    h.clock.advance(timedelta(minutes=16))
    assert (await w.login("li")).status == 303


@pytest.fixture
async def proxied():
    """The dashboard behind a reverse proxy on this host (trusted for X-Forwarded-For)."""
    async with BotHarness(settings={"web": {"trusted_proxies": ["127.0.0.1"]}}) as h, WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        yield kit


async def test_failures_from_one_address_are_throttled_across_user_names(proxied):
    w = proxied
    for i in range(20):
        await w.c.post("/dashboard/login", data={"username": f"guess{i}", "password": "x" * 8,
                                                 "_csrf": await w.csrf()},
                       headers={"X-Forwarded-For": "10.0.0.9"})
    token = await w.csrf()
    resp = await w.c.post("/dashboard/login", data={"username": "li", "password": PASSWORD, "_csrf": token},
                          headers={"X-Forwarded-For": "10.0.0.9"}, allow_redirects=False)
    assert resp.status == 429
    other = await w.c.post("/dashboard/login", data={"username": "li", "password": PASSWORD, "_csrf": token},
                           headers={"X-Forwarded-For": "10.0.0.10"}, allow_redirects=False)
    assert other.status == 303


async def test_login_form_without_csrf_token_is_refused(w):
    resp = await w.c.post("/dashboard/login", data={"username": "li", "password": PASSWORD}, allow_redirects=False)
    assert resp.status == 403


async def test_form_post_without_csrf_token_is_refused(w, h):
    await w.login("li")
    resp = await w.c.post("/dashboard/notices", data={"scope": "compound", "compound_id": "1", "text": "停水"},
                          allow_redirects=False)
    assert resp.status == 403
    assert "页面已过期" in await resp.text()
    resp = await w.c.post("/dashboard/notices", data={"scope": "compound", "compound_id": "1", "text": "停水",
                                                      "_csrf": "forged"}, allow_redirects=False)
    assert resp.status == 403


async def test_form_post_from_another_origin_is_refused(w):
    await w.login("li")
    resp = await w.post_form("/dashboard/logout", {}, headers={"Origin": "http://evil.example"})
    assert resp.status == 403


async def test_logout_ends_the_session(w):
    await w.login("li")
    resp = await w.post_form("/dashboard/logout", {})
    assert resp.status == 303
    again = await w.get("/dashboard/", allow_redirects=False)
    assert again.status == 303


async def test_a_copied_session_cookie_stops_working_after_logout(w):
    await w.login("li")
    stolen = w.c.session.cookie_jar.filter_cookies(w.c.make_url("/"))["zhibu_session"].value
    await w.post_form("/dashboard/logout", {})
    resp = await w.get("/dashboard/", cookies={"zhibu_session": stolen}, allow_redirects=False)
    assert resp.status == 303


async def test_a_forged_session_cookie_is_ignored(w):
    resp = await w.get("/dashboard/", cookies={"zhibu_session": "abc.def"}, allow_redirects=False)
    assert resp.status == 303


async def test_disabled_account_cannot_log_in_and_loses_its_sessions(w, h):
    from bot.web import accounts

    await w.login("li")
    async with h.session() as session:
        user = await accounts.get_user(session, "li")
        await accounts.set_active(session, user, False, h.now, "test")
        await session.commit()
    assert (await w.get("/dashboard/", allow_redirects=False)).status == 303
    resp = await w.login("li")
    assert resp.status == 401
    assert "已停用" in await resp.text()


async def test_session_secret_is_kept_in_the_database_so_sessions_survive_a_restart(h):
    async with WebKit(h) as first:
        await first.add_user("li", "secretary", compounds=["阳光花园"])
        await first.login("li")
        cookie = first.c.session.cookie_jar.filter_cookies(first.c.make_url("/"))["zhibu_session"].value
    async with h.session() as session:
        assert (await session.get(WebSetting, "secret_key")) is not None
    async with WebKit(h) as second:
        resp = await second.get("/dashboard/", cookies={"zhibu_session": cookie}, allow_redirects=False)
        assert resp.status == 200


async def test_session_expires_after_a_long_idle_time(w, h):
    await w.login("li")
    h.clock.advance(timedelta(hours=13))
    assert (await w.get("/dashboard/", allow_redirects=False)).status == 303


async def test_login_and_logout_are_in_the_audit_trail(w, h):
    await w.login("li")
    await w.post_form("/dashboard/logout", {})
    async with h.session() as session:
        actions = list((await session.execute(select(Event.action).where(
            Event.subject_kind == "web_user", Event.actor_web_user == "li"))).scalars())
    assert "login" in actions and "logout" in actions


async def test_pages_carry_security_headers(w):
    await w.login("li")
    resp = await w.get("/dashboard/")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Cache-Control"] == "no-store"


async def test_user_changes_password_and_other_sessions_end(w):
    await w.login("li")
    resp = await w.post_form("/dashboard/account/password", {"current": PASSWORD, "new": "new-password-77",
                                                             "again": "new-password-77"}, csrf_from="/dashboard/account")
    assert resp.status == 303
    assert (await w.get("/dashboard/", allow_redirects=False)).status == 303
    assert (await w.login("li", PASSWORD)).status == 401
    assert (await w.login("li", "new-password-77")).status == 303


async def test_weak_new_password_is_refused_with_a_reason(w):
    await w.login("li")
    resp = await w.post_form("/dashboard/account/password", {"current": PASSWORD, "new": "1234", "again": "1234"},
                             csrf_from="/dashboard/account")
    assert resp.status == 422
    assert "至少需要 8 位" in await resp.text()
