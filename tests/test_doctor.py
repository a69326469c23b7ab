"""`zhibu doctor`: one actionable line per finding, in Chinese and English; non-zero exit when something is wrong."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.cli import main
from bot.doctor import diagnose
from bot.models import InboundMessage, InboundStatus, OutboxMessage, OutboxStatus
from bot.testing import BotHarness
from bot.transports.gateway_probe import GatewayProbe, probe_gateway
from bot.web import accounts, security
from conftest_gateway import free_port

GATEWAY = {"wechaty": {"endpoint": "127.0.0.1:8788", "token": "t"}}
SAMPLE_ROOMS = {"room-yg-1": "阳光花园业主1群", "room-yg-2": "阳光花园业主2群", "room-lt-1": "兰亭水岸邻里群",
                "room-yl-1": "沂龙湾润园业主群"}


def logged_in(rooms: dict[str, str] = SAMPLE_ROOMS):
    async def probe(endpoint: str, token: str, **_: object) -> GatewayProbe:
        return GatewayProbe(endpoint, reachable=True, token_ok=True, logged_in=True, rooms=dict(rooms))
    return probe


def gateway_says(**state: object):
    async def probe(endpoint: str, token: str, **_: object) -> GatewayProbe:
        return GatewayProbe(endpoint, reachable=True, **state)
    return probe


async def add_admin(h: BotHarness) -> None:
    security.use_fast_hashing()
    async with h.session() as session:
        await accounts.create_user(session, h.bot.org, h.now, accounts.NewUser(
            username="admin", password="correct-horse-42", role="district_staff", is_admin=True), created_by="test")
        await session.commit()


@pytest.fixture
async def live():
    """The sample district imported on the configured account, with a dashboard administrator."""
    async with BotHarness(account="default", settings=GATEWAY) as h:
        await add_admin(h)
        yield h


async def findings(h: BotHarness, probe=None, **settings: object) -> list:  # noqa: ANN001
    config = h.bot.settings.model_copy(update=settings) if settings else h.bot.settings
    return await diagnose(config, probe=probe or logged_in(), clock=h.clock, engine=h.bot.engine)


def lines(found: list, level: str | None = None) -> str:
    return "\n".join(f.line() for f in found if level is None or f.level == level)


async def test_a_healthy_installation_has_no_errors_or_warnings(live):
    found = await findings(live)
    assert lines(found, "error") == "" and lines(found, "warn") == ""


def test_doctor_exits_non_zero_without_a_gateway_and_says_how_to_configure_one(tmp_path, monkeypatch, capsys):
    for name in ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN", "ZHIBU_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'zhibu.db'}")
    (tmp_path / "zhibu.toml").write_text("", encoding="utf-8")
    assert main(["--config", str(tmp_path / "zhibu.toml"), "doctor"]) == 1
    out = capsys.readouterr().out
    assert "[错误] 未配置微信网关" in out and "no WeChat gateway configured" in out


def test_doctor_says_an_empty_database_needs_an_upgrade(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'zhibu.db'}")
    (tmp_path / "zhibu.toml").write_text("", encoding="utf-8")
    main(["--config", str(tmp_path / "zhibu.toml"), "doctor"])
    assert "zhibu db upgrade" in capsys.readouterr().out


async def test_an_unreachable_gateway_is_an_error_naming_the_endpoint(live):
    endpoint = f"127.0.0.1:{free_port()}"
    found = await findings(live, probe=probe_gateway, wechaty=live.bot.settings.wechaty.model_copy(
        update={"endpoint": endpoint}))
    assert f"连不上微信网关 {endpoint}" in lines(found, "error")


async def test_a_rejected_token_is_an_error(live):
    found = await findings(live, probe=gateway_says(token_ok=False))
    assert "拒绝了令牌" in lines(found, "error")


async def test_a_gateway_without_a_logged_in_account_is_an_error(live):
    found = await findings(live, probe=gateway_says(token_ok=True, logged_in=False))
    assert "微信未登录" in lines(found, "error")


async def test_doctor_lists_which_account_serves_which_groups(live):
    found = await findings(live)
    assert "账号“default”服务4个已绑定的群" in lines(found, "ok")
    assert "阳光花园业主1群（阳光花园）" in lines(found, "ok")


async def test_a_bound_group_the_bots_wechat_is_not_in_is_an_error(live):
    rooms = {k: v for k, v in SAMPLE_ROOMS.items() if k != "room-lt-1"}
    found = await findings(live, probe=logged_in(rooms))
    assert "群“兰亭水岸邻里群”（兰亭水岸）属于账号“default”，但该微信不在群里" in lines(found, "error")


async def test_groups_on_an_account_nobody_serves_are_an_error_with_the_fix():
    async with BotHarness(account="sim", settings=GATEWAY) as h:
        found = await findings(h)
    assert "4个已绑定小区的群属于账号“sim”" in lines(found, "error")
    assert "--account default" in lines(found, "error")


async def test_sends_waiting_too_long_are_an_error(live):
    async with live.session() as session:
        session.add(OutboxMessage(account="default", text="回复", created_at=live.now - timedelta(hours=1)))
        await session.commit()
    assert "1条消息等待发送超过15分钟" in lines(await findings(live), "error")


async def test_failed_sends_are_reported_with_their_reason(live):
    async with live.session() as session:
        session.add(OutboxMessage(account="default", text="回复", status=OutboxStatus.FAILED,
                                  error="机器人已被移出该群", created_at=live.now - timedelta(hours=1)))
        await session.commit()
    assert "1条消息发送失败（最近原因：机器人已被移出该群）" in lines(await findings(live), "warn")


async def test_dead_lettered_messages_are_an_error_pointing_to_retry(live):
    async with live.session() as session:
        session.add(InboundMessage(account="default", platform_message_id="m1", sender_platform_id="wxid_x",
                                   text="你好", sent_at=live.now, received_at=live.now,
                                   status=InboundStatus.FAILED, error="boom"))
        await session.commit()
    assert "1条收到的消息处理出错" in lines(await findings(live), "error")


async def test_doctor_says_what_the_web_server_exposes(live):
    assert "/dashboard/（需登录）" in lines(await findings(live), "ok")


async def test_a_web_server_on_every_interface_is_a_warning(live):
    web = live.bot.settings.web.model_copy(update={"host": "0.0.0.0"})
    assert "HTTPS 反向代理" in lines(await findings(live, web=web), "warn")


async def test_no_dashboard_administrator_is_a_warning():
    async with BotHarness(account="default", settings=GATEWAY) as h:
        found = await findings(h)
    assert "zhibu user add" in lines(found, "warn")


async def test_messages_the_database_refused_are_an_error(live):
    deadletters = pytest.importorskip("bot.models.deadletters")
    async with live.session() as session:
        session.add(deadletters.DeadLetter(account="default", platform_message_id="'m1'", chat_platform_id=None,
                                           sender_platform_id="'wxid_x'", kind="text", text_repr="'\\x00'",
                                           error="NUL byte", sent_at=None, failed_at=live.now))
        await session.commit()
    assert "1条收到的消息数据库拒收" in lines(await findings(live), "error")


# ---------------------------------------------------------------------------- the probe, on the real gateway
@pytest.mark.gateway
async def test_the_probe_reads_a_rejected_token_from_the_real_gateway(gateway):
    probe = await probe_gateway(gateway.endpoint, "not-the-token")
    assert probe.reachable and probe.token_ok is False


@pytest.mark.gateway
async def test_the_probe_lists_the_rooms_of_a_logged_in_account(gateway):
    probe = await probe_gateway(gateway.endpoint, gateway.token)
    assert probe.logged_in and probe.rooms[gateway.room_id("r1")] == "幸福小区1号楼"


@pytest.mark.gateway
async def test_the_probe_sees_an_account_that_is_not_logged_in(gateway_factory):
    gw = gateway_factory()
    gw._call("/logout", {})
    probe = await probe_gateway(gw.endpoint, gw.token)
    assert probe.token_ok and probe.logged_in is False


async def test_a_group_matched_by_name_after_a_new_login_awaits_the_secretarys_confirmation(live):
    from sqlalchemy import update

    from bot.models import ChatGroup

    async with live.session() as session:
        await session.execute(update(ChatGroup).where(ChatGroup.platform_id == "room-yg-2").values(relink_pending=True))
        await session.commit()
    assert "群“阳光花园业主2群”在重新登录后按群名和成员认定属于“阳光花园”，待确认" in lines(await findings(live), "warn")
