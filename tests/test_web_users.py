"""Accounts: `zhibu user …`, a district admin creating accounts in the dashboard, API tokens, audit."""
from __future__ import annotations

import argparse
import io

import pytest
from sqlalchemy import select

from bot.models import Event
from bot.models.web import ApiToken, WebUser
from bot.web.cli import register_cli
from bot.web.testing import PASSWORD, WebKit


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("han", "district_staff", admin=True, display_name="区办小韩")
        await kit.add_user("li", "secretary", compounds=["阳光花园"])
        yield kit


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="zhibu")
    sub = parser.add_subparsers(dest="command", required=True)
    register_cli(sub)
    return parser.parse_args(argv)


async def _run(h, argv, stdin: str | None = None, monkeypatch=None) -> int:
    args = _parse(argv)
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return await args.func(args, h.bot)


async def test_cli_user_add_secretary_with_password_from_stdin(w, h, monkeypatch, capsys):
    code = await _run(h, ["user", "add", "sun", "--role", "secretary", "--compound", "兰亭水岸",
                          "--person", "孙书记", "--password-stdin"], "another-secret-9\n", monkeypatch)
    assert code == 0
    assert "已创建" in capsys.readouterr().out
    assert (await w.login("sun", "another-secret-9")).status == 303
    me = await (await w.get("/api/v1/me")).json()
    assert [c["name"] for c in me["compounds"]] == ["兰亭水岸"]
    assert me["person_id"] is not None


async def test_cli_user_add_without_password_prints_a_generated_one(w, h, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = await _run(h, ["user", "add", "chen", "--role", "community_staff", "--community", "兰新社区"])
    out = capsys.readouterr().out
    assert code == 0
    password = out.split("初始密码：")[1].split("（")[0]
    assert (await w.login("chen", password)).status == 303


async def test_cli_refuses_a_secretary_without_a_compound_and_unknown_names(w, h, monkeypatch, capsys):
    assert await _run(h, ["user", "add", "x1", "--role", "secretary", "--password-stdin"],
                      "long-enough-1\n", monkeypatch) == 2
    assert "所属小区" in capsys.readouterr().err
    assert await _run(h, ["user", "add", "x2", "--role", "secretary", "--compound", "不存在小区",
                          "--password-stdin"], "long-enough-1\n", monkeypatch) == 2
    assert "不存在小区" in capsys.readouterr().err
    assert await _run(h, ["user", "add", "li", "--role", "secretary", "--compound", "阳光花园",
                          "--password-stdin"], "long-enough-1\n", monkeypatch) == 2
    assert "已存在" in capsys.readouterr().err


async def test_cli_token_list_disable_and_passwd(w, h, monkeypatch, capsys):
    assert await _run(h, ["user", "token", "li", "--name", "12345平台"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert (await w.api("GET", "/api/v1/me", token=token)).status == 200
    assert await _run(h, ["user", "list"]) == 0
    listing = capsys.readouterr().out
    assert "li\t支部书记\t阳光花园" in listing and "han\t区级工作人员\t全区\t管理员" in listing
    assert await _run(h, ["user", "passwd", "li", "--password-stdin"], "fresh-password-3\n", monkeypatch) == 0
    assert (await w.login("li", "fresh-password-3")).status == 303
    assert await _run(h, ["user", "disable", "li"]) == 0
    assert (await w.api("GET", "/api/v1/me", token=token)).status == 401
    assert await _run(h, ["user", "disable", "nobody"]) == 2


async def test_district_admin_creates_a_secretary_account_in_the_dashboard(w, h):
    await w.login("han")
    page = await w.get("/dashboard/users")
    assert page.status == 200
    resp = await w.post_form("/dashboard/users", [
        ("username", "ma"), ("display_name", "马书记"), ("password", "initial-pass-5"), ("role", "secretary"),
        ("compounds", "3"), ("person", "马书记")], csrf_from="/dashboard/users")
    assert resp.status == 303
    async with h.session() as session:
        user = (await session.execute(select(WebUser).where(WebUser.username == "ma"))).scalar_one()
        event = (await session.execute(select(Event).where(Event.subject_kind == "web_user",
                                                           Event.action == "created",
                                                           Event.subject_id == user.id))).scalar_one()
    assert [s.compound_id for s in user.scopes] == [3]
    assert event.actor_web_user == "han"


async def test_dashboard_account_form_shows_the_wrong_field(w):
    await w.login("han")
    resp = await w.post_form("/dashboard/users", [("username", "x"), ("password", "short"), ("role", "secretary")],
                             csrf_from="/dashboard/users")
    assert resp.status == 422
    assert "字段“username”不正确：太短" in await resp.text()
    resp = await w.post_form("/dashboard/users", [("username", "newbie"), ("password", "long-enough-1"),
                                                  ("role", "secretary")], csrf_from="/dashboard/users")
    assert resp.status == 422
    assert "所属小区" in await resp.text()


async def test_non_admin_cannot_open_or_use_account_management(w):
    await w.login("li")
    assert (await w.get("/dashboard/users")).status == 403
    resp = await w.post_form("/dashboard/users", [("username", "evil"), ("password", "long-enough-1"),
                                                  ("role", "district_staff")])
    assert resp.status == 403


async def test_admin_disables_an_account(w, h):
    await w.login("han")
    async with h.session() as session:
        li = (await session.execute(select(WebUser).where(WebUser.username == "li"))).scalar_one()
    resp = await w.post_form(f"/dashboard/users/{li.id}/active", {"active": "0"}, csrf_from="/dashboard/users")
    assert resp.status == 303
    assert (await w.login("li", PASSWORD)).status == 401


async def test_user_makes_and_revokes_an_api_token_in_the_dashboard(w, h):
    await w.login("li")
    resp = await w.post_form("/dashboard/account/tokens", {"name": "数据大屏"}, csrf_from="/dashboard/account")
    text = await resp.text()
    token = text.split('id="new-token">')[1].split("<")[0]
    assert token.startswith("zb_")
    assert (await w.api("GET", "/api/v1/me", token=token, cookies={})).status == 200
    async with h.session() as session:
        row = (await session.execute(select(ApiToken).where(ApiToken.name == "数据大屏"))).scalar_one()
        assert token not in (row.token_hash, row.prefix)
    await w.post_form(f"/dashboard/account/tokens/{row.id}/revoke", {}, csrf_from="/dashboard/account")
    w.c.session.cookie_jar.clear()
    assert (await w.api("GET", "/api/v1/me", token=token)).status == 401


async def test_audit_page_lists_web_actions_with_the_user_name(w, h):
    await w.login("han")
    await w.post_form("/dashboard/users", [("username", "zhou"), ("password", "initial-pass-5"),
                                           ("role", "district_staff")], csrf_from="/dashboard/users")
    text = await (await w.get("/dashboard/audit?web_only=true")).text()
    assert "后台 han" in text and "created" in text


async def test_demo_account_is_created_once_when_there_are_no_accounts(h):
    from bot.web import accounts

    async with h.session() as session:
        password = await accounts.ensure_demo_account(session, h.bot.org, h.now)
        await session.commit()
        assert password and await accounts.ensure_demo_account(session, h.bot.org, h.now) is None
    async with WebKit(h) as kit:
        assert (await kit.login("demo", password)).status == 303
        assert (await kit.get("/dashboard/users")).status == 200
