"""What the Wechaty transport logs: its own news at INFO, never a gateway token, no SDK noise."""
from __future__ import annotations

import logging

from bot.transports import wechaty as wt
from bot.transports.wechaty import sdk
from conftest_gateway import Recorder
from wechaty_fake import FixedFakePuppet


async def test_the_transports_own_info_lines_are_visible(caplog) -> None:
    caplog.set_level(logging.INFO)
    puppet = FixedFakePuppet(self_name="支部助手", self_id="wxid_bot")
    transport = wt.WechatyTransport("acc", puppet_factory=lambda: puppet, qr_printer=None, health_interval=3600)
    await transport.start(Recorder())
    await transport.stop()
    assert any("logged in as 支部助手" in r.getMessage() for r in caplog.records
               if r.name == "bot.transports.wechaty")


def test_a_registered_token_is_redacted_from_any_logger_and_traceback(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    wt.register_secret("s3cret-gateway-token")
    try:
        raise RuntimeError('Invalid Wechaty TOKEN "s3cret-gateway-token"')
    except RuntimeError as exc:
        logging.getLogger("grpclib.client").warning("call failed: %s", exc, exc_info=True)
    assert "s3cret-gateway-token" not in caplog.text
    assert "Invalid Wechaty TOKEN" in caplog.text


def test_endpoint_and_token_from_the_environment_do_not_warn_at_connect(caplog, monkeypatch) -> None:
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "127.0.0.1:8788")
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "env-token")
    caplog.set_level(logging.DEBUG)
    options = sdk.PuppetOptions()
    options.token, options.end_point = "option-token", "127.0.0.1:8788"
    wt.ZhibuPuppetService(options)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
