"""The whole bot (BotApp) against the real TypeScript gateway (PuppetServer over puppet-mock).

Settings come from the same environment variables an operator sets for ``zhibu run``.
Run alone with ``pytest -m gateway``; needs ``npm ci --prefix gateway``.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
from sqlalchemy import select

from bot import marker_writer
from bot.app import BotApp
from bot.config import SAMPLE_ORG, Settings, load_settings
from bot.invites import create_invite
from bot.models import ChatGroup, InboundMessage, Person
from bot.texts import core as T
from bot.transports.wechaty import WechatyTransport, build_wechaty_transports
from conftest_gateway import Gateway, free_port, gateway_factory, require_gateway  # noqa: F401

pytestmark = pytest.mark.gateway

# The sample organisation's people and groups, as the mock WeChat account sees them.
BOT_WORLD: dict[str, Any] = {
    "self": {"key": "bot", "name": "支部助手", "id": "wxid_zhibu_bot"},
    "contacts": [
        {"key": "li_shuji", "name": "李书记", "id": "wxid_li_shuji"},
        {"key": "zhangsan", "name": "张三", "id": "wxid_zhangsan"},
        {"key": "lisi", "name": "李四", "id": "wxid_lisi"},
        {"key": "stranger", "name": "新邻居", "id": "wxid_new_neighbour"},
    ],
    "rooms": [
        {"key": "yg1", "id": "room-yg-1", "topic": "阳光花园业主1群", "members": ["li_shuji", "zhangsan", "lisi"]},
        {"key": "other", "topic": "楼下快递群", "members": ["zhangsan", "stranger"], "bot_in": False},
    ],
}
WEST_WORLD: dict[str, Any] = {
    "self": {"key": "bot", "name": "支部助手2号", "id": "wxid_zhibu_bot2"},
    "contacts": [
        {"key": "sun", "name": "孙书记", "id": "wxid_sun_shuji"},
        {"key": "resident", "name": "兰亭住户", "id": "wxid_lt_resident"},
    ],
    "rooms": [{"key": "lt1", "id": "room-lt-1", "topic": "兰亭水岸邻里群", "members": ["sun", "resident"]}],
}
FAST = dict(retry_base=0.2, retry_max=1.0, health_interval=2.0, qr_printer=None)


def operator_env(tmp: Path, gw: Gateway | None = None, **extra: str) -> dict[str, str]:
    """The environment an operator would give ``zhibu run``."""
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'zhibu.db'}",
        "ZHIBU_ORG_FILE": str(SAMPLE_ORG),
        "ZHIBU_OUTBOX__MIN_INTERVAL_SECONDS": "0",
        "ZHIBU_OUTBOX__JITTER_SECONDS": "0",
        "ZHIBU_OUTBOX__GROUP_PER_MINUTE": "100",
        "ZHIBU_WECHATY__LOGIN_TIMEOUT_SECONDS": "15",
    }
    if gw is not None:
        env["WECHATY_PUPPET_SERVICE_ENDPOINT"] = gw.endpoint
        env["WECHATY_PUPPET_SERVICE_TOKEN"] = gw.token
    env.update(extra)
    return env


def settings_for(tmp: Path, gw: Gateway | None = None, toml: str = "", **extra: str) -> Settings:
    config = tmp / "zhibu.toml"
    config.write_text(toml, encoding="utf-8")
    return load_settings(config, environ=operator_env(tmp, gw, **extra))


@pytest.fixture
async def start_bot():
    """Start BotApps (real transports, real dispatcher and outbox); all are stopped at the end."""
    apps: list[BotApp] = []

    async def start(settings: Settings, **transport_options: Any) -> BotApp:
        app = BotApp(settings, transports=build_wechaty_transports(settings, **{**FAST, **transport_options}))
        apps.append(app)
        await app.start()
        return app

    try:
        yield start
    finally:
        for app in apps:
            await app.stop()


@pytest.fixture(scope="module")
def sample_gateway():
    """One gateway with the sample organisation's world for the non-destructive tests."""
    require_gateway()
    workdir = Path(tempfile.mkdtemp(prefix="zhibu-gw-bot-"))
    gw = Gateway(workdir, BOT_WORLD)
    try:
        gw.start()
        yield gw
    finally:
        gw.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def wait_until(check: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


def transport_of(app: BotApp, account: str = "default") -> WechatyTransport:
    transport = app.transports[account]
    assert isinstance(transport, WechatyTransport)
    return transport


# ---------------------------------------------------------------------------- serving

async def test_a_residents_room_message_gets_a_reply_in_the_room(sample_gateway, start_bot, tmp_path) -> None:
    gw = sample_gateway
    app = await start_bot(settings_for(tmp_path, gw))
    since = len(gw.sent())
    gw.say("zhangsan", "@支部助手\u2005帮助", room="yg1", mention_bot=True)
    reply = await gw.wait_sent(lambda s: s["room_id"] == "room-yg-1", since=since)
    assert T.HELP_HEADER in reply["text"]
    async with app.sessions() as session:
        group = (await session.execute(select(ChatGroup).where(ChatGroup.platform_id == "room-yg-1"))).scalar_one()
    assert app.org.name_of(group.compound_id) == "阳光花园" and group.member_count == 4


async def test_a_private_message_gets_a_private_reply(sample_gateway, start_bot, tmp_path) -> None:
    gw = sample_gateway
    await start_bot(settings_for(tmp_path, gw))
    since = len(gw.sent())
    gw.say("li_shuji", "我的身份")
    reply = await gw.wait_sent(lambda s: s["to_id"] == "wxid_li_shuji", since=since)
    assert "支部书记" in reply["text"]


async def test_an_at_mention_without_a_mention_list_is_understood(sample_gateway, start_bot, tmp_path) -> None:
    gw = sample_gateway
    app = await start_bot(settings_for(tmp_path, gw))
    since = len(gw.sent())
    mid = gw.say("lisi", "@支部助手 你好呀", room="yg1", mention_bot=True, mention_list=False)
    await gw.wait_sent(lambda s: s["room_id"] == "room-yg-1", since=since)
    async with app.sessions() as session:
        stored = (await session.execute(select(InboundMessage).where(
            InboundMessage.platform_message_id == mid))).scalar_one()
    assert stored.mentions_bot is True and stored.text == "你好呀"


async def test_replayed_and_duplicate_messages_are_stored_once_and_old_ones_not_acted_on(
        sample_gateway, start_bot, tmp_path) -> None:
    gw = sample_gateway
    app = await start_bot(settings_for(tmp_path, gw))
    since = len(gw.sent())
    old = gw.say("zhangsan", "@支部助手\u2005帮助", room="yg1", mention_bot=True, age_seconds=3600)
    twice = gw.say("lisi", "@支部助手\u2005帮助", room="yg1", mention_bot=True, deliveries=2)
    await gw.wait_sent(lambda s: s["room_id"] == "room-yg-1", since=since)
    await asyncio.sleep(0.5)
    assert len([s for s in gw.sent(since) if s["room_id"] == "room-yg-1"]) == 1  # one answer, to the fresh one
    async with app.sessions() as session:
        rows = (await session.execute(select(InboundMessage.platform_message_id, InboundMessage.status)
                                      .where(InboundMessage.platform_message_id.in_([old, twice])))).all()
    assert sorted(rows) == sorted([(old, "stale"), (twice, "handled")])


async def test_a_rate_limited_account_pauses_then_delivers(sample_gateway, start_bot, tmp_path) -> None:
    gw = sample_gateway
    await start_bot(settings_for(tmp_path, gw, ZHIBU_OUTBOX__RATE_LIMIT_PAUSE_SECONDS="1"))
    since = len(gw.sent())
    gw.fail_sends("发送消息过于频繁，请稍后再试")
    started = time.monotonic()
    gw.say("zhangsan", "@支部助手\u2005帮助", room="yg1", mention_bot=True)
    reply = await gw.wait_sent(lambda s: s["room_id"] == "room-yg-1", since=since)
    assert T.HELP_HEADER in reply["text"] and time.monotonic() - started >= 0.9


async def test_room_events_through_the_gateway(gateway_factory, start_bot, tmp_path) -> None:
    gw = gateway_factory(BOT_WORLD)
    app = await start_bot(settings_for(tmp_path, gw))
    # the bot is added to a room: a short self-introduction and the binding prompt
    gw.room_add("other", ["bot"], by="zhangsan")
    other = gw.room_id("other")
    intro = await gw.wait_sent(lambda s: s["room_id"] == other)
    assert "绑定" in intro["text"]
    # an unbound group stays silent
    since = len(gw.sent())
    gw.say("zhangsan", "@支部助手 有人吗", room="other", mention_bot=True)
    await asyncio.sleep(1.0)
    assert [s for s in gw.sent(since) if s["room_id"] == other] == []
    # a member joins a bound group: the compound's welcome text
    gw.room_add("yg1", ["stranger"], by="li_shuji")
    welcome = await gw.wait_sent(lambda s: s["room_id"] == "room-yg-1", since=since)
    assert "欢迎新邻居" in welcome["text"]
    # the bot is removed: the group is marked inactive
    gw.room_remove("yg1", ["bot"], by="li_shuji")

    async def inactive() -> bool:
        async with app.sessions() as session:
            group = (await session.execute(select(ChatGroup).where(ChatGroup.platform_id == "room-yg-1"))).scalar_one()
            return not group.active

    await wait_until(inactive, what="group marked inactive")


# ---------------------------------------------------------------------------- failures

def run_zhibu(tmp: Path, env: dict[str, str], timeout: float = 300) -> tuple[int, str]:
    """Run ``zhibu run`` to its end. ``timeout`` only guards against a hang (a loaded machine
    may be slow): the tests assert what happened, never how long it took."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHATY_", "ZHIBU_"))}
    full_env.update(env, ZHIBU_WEB__PORT=str(free_port()), ZHIBU_CONFIG=str(tmp / "zhibu.toml"))
    (tmp / "zhibu.toml").write_text("", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def connect_retries_logged(output: str) -> int:
    """How many failed connect attempts the transport logged before giving up."""
    return len(re.findall(r"connect attempt \d+/\d+ failed", output))


async def test_zhibu_run_with_a_wrong_token_exits_with_a_clear_error(gateway_factory, tmp_path) -> None:
    gw = gateway_factory(BOT_WORLD)
    env = operator_env(tmp_path, gw, WECHATY_PUPPET_SERVICE_TOKEN="not-the-token")
    code, output = await asyncio.to_thread(run_zhibu, tmp_path, env)
    assert code != 0, output
    assert "拒绝了令牌" in output and gw.endpoint in output
    assert "Traceback" not in output
    assert connect_retries_logged(output) == 0  # a refused token is final: no retry


async def test_zhibu_run_with_no_gateway_gives_up_after_bounded_retries(tmp_path) -> None:
    require_gateway()
    env = operator_env(tmp_path, None, WECHATY_PUPPET_SERVICE_ENDPOINT=f"127.0.0.1:{free_port()}",
                       WECHATY_PUPPET_SERVICE_TOKEN="t", ZHIBU_WECHATY__CONNECT_RETRIES="2")
    code, output = await asyncio.to_thread(run_zhibu, tmp_path, env)
    assert code != 0, output
    assert "无法连接微信网关" in output and "已尝试 2 次" in output
    assert "Traceback" not in output
    assert connect_retries_logged(output) == 1  # attempt 1 failed and was retried once, then it gave up


async def test_the_bot_resumes_after_the_gateway_restarts(gateway_factory, start_bot, tmp_path) -> None:
    gw = gateway_factory(BOT_WORLD)
    app = await start_bot(settings_for(tmp_path, gw))
    transport = transport_of(app)
    gw.stop(hard=True)
    await wait_until(lambda: not transport.connected, what="the drop to be noticed")
    gw.start()
    await wait_until(lambda: transport.connected and transport.status.reconnects >= 1, timeout=20,
                     what="reconnect")
    since = len(gw.sent())
    gw.say("zhangsan", "@支部助手\u2005帮助", room="yg1", mention_bot=True)
    reply = await gw.wait_sent(lambda s: s["room_id"] == "room-yg-1", since=since)
    assert T.HELP_HEADER in reply["text"]


# ---------------------------------------------------------------------------- identity across logins

async def test_new_ids_at_relogin_keep_the_secretary_and_the_groups_compound(
        gateway_factory, start_bot, tmp_path, monkeypatch) -> None:
    """A web-protocol puppet: every login brings new contact and room ids."""
    monkeypatch.setattr(marker_writer, "MARK_SPACING_SECONDS", 0.05)
    gw = gateway_factory(BOT_WORLD, id_style="web")
    app = await start_bot(settings_for(tmp_path, gw))
    transport = transport_of(app)
    assert transport.self_id and transport.self_id.startswith("@")

    # The secretary links their WeChat with an invite code, privately (as in production).
    async with app.sessions() as session:
        secretary = (await session.execute(select(Person).where(Person.name == "李书记"))).scalar_one()
        invite = await create_invite(session, secretary, "secretary", app.clock.now(), 72,
                                     compound_id=secretary.compound_id)
        await session.commit()
    first_li = gw.contact_id("li_shuji")
    gw.say("li_shuji", invite.code)
    linked = await gw.wait_sent(lambda s: s["to_id"] == first_li and "身份确认成功" in s["text"])
    assert "支部书记" in linked["text"]
    # The bot writes its marker into the secretary's remark (WeChat keeps remarks across logins).
    app.markers.request()
    await wait_until(lambda: (gw.state()["contacts"]["li_shuji"]["alias"] or "").endswith(f"#zb{secretary.id}"),
                     what="the alias marker")

    # WeChat logs in again: every id changes.
    gw.restart()
    since = 0  # a new gateway process: its log of sent texts starts empty
    await wait_until(lambda: transport.logins >= 2 and transport.connected, timeout=20, what="re-login")
    second_li, new_room = gw.contact_id("li_shuji"), gw.room_id("yg1")
    assert second_li != first_li
    # The group was recognised by its topic and members: the secretary is asked to confirm.
    ask = await gw.wait_sent(lambda s: s["to_id"] == second_li and "请确认" in s["text"], since=since)
    assert "阳光花园业主1群" in ask["text"]
    # The secretary keeps the role…
    gw.say("li_shuji", "我的身份")
    roles = await gw.wait_sent(lambda s: s["to_id"] == second_li and "身份" in s["text"] and "请确认" not in s["text"],
                               since=since)
    assert "支部书记" in roles["text"]
    # …and the group keeps its compound: residents are served there.
    gw.say("zhangsan", "@支部助手\u2005帮助", room="yg1", mention_bot=True)
    reply = await gw.wait_sent(lambda s: s["room_id"] == new_room, since=since)
    assert T.HELP_HEADER in reply["text"]
    async with app.sessions() as session:
        group = (await session.execute(select(ChatGroup).where(ChatGroup.platform_id == new_room))).scalar_one()
    assert app.org.name_of(group.compound_id) == "阳光花园" and group.relink_pending


async def test_two_accounts_serve_one_district_from_one_database(gateway_factory, start_bot, tmp_path) -> None:
    east, west = gateway_factory(BOT_WORLD), gateway_factory(WEST_WORLD)
    toml = (
        "[wechaty]\naccounts = [\n"
        f'  {{ name = "east", endpoint = "{east.endpoint}", token = "{east.token}" }},\n'
        f'  {{ name = "west", endpoint = "{west.endpoint}", token = "{west.token}" }},\n]\n'
    )
    app = await start_bot(settings_for(tmp_path, None, toml))
    assert set(app.transports) == {"east", "west"}
    since_east, since_west = len(east.sent()), len(west.sent())
    west.say("resident", "@支部助手2号\u2005帮助", room="lt1", mention_bot=True)
    east.say("zhangsan", "@支部助手\u2005帮助", room="yg1", mention_bot=True)
    assert T.HELP_HEADER in (await west.wait_sent(lambda s: s["room_id"] == "room-lt-1", since=since_west))["text"]
    assert T.HELP_HEADER in (await east.wait_sent(lambda s: s["room_id"] == "room-yg-1", since=since_east))["text"]
    assert [s for s in east.sent(since_east) if s["room_id"] == "room-lt-1"] == []
    async with app.sessions() as session:
        rows = (await session.execute(select(ChatGroup).where(ChatGroup.platform_id == "room-lt-1",
                                                              ChatGroup.active.is_(True)))).scalars().all()
    assert [(g.account, app.org.name_of(g.compound_id)) for g in rows] == [("west", "兰亭水岸")]
