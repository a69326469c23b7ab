"""``[wecom]`` is validated at start and turns into transports for ``zhibu run``."""
from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.runner import build_transports
from bot.transports.base import StartupError
from fake_wecom import AES_KEY, HOOK_KEY, TOKEN, FakeWecom, WecomHarness

WECOM = {
    "corp_id": "ww-corp",
    "bot": {"token": TOKEN, "encoding_aes_key": AES_KEY},
    "hooks": [{"name": "duty", "key": HOOK_KEY, "topic": "值班群", "compound": "阳光花园"}],
    "customer_contact": {"secret": "cc-secret", "sender": "WangQunZhu"},
}


def test_zhibu_run_builds_one_transport_per_wecom_account():
    settings = Settings.model_validate({"wecom": WECOM})
    accounts = [t.account for t in build_transports(settings, demo=False)]
    assert {"wecom:staff", "wecom-hook:duty", "wecom-cg:notices"} <= set(accounts)


def test_a_short_encoding_aes_key_stops_the_start_with_a_chinese_message():
    environ = {"ZHIBU_WECOM__BOT__TOKEN": TOKEN, "ZHIBU_WECOM__BOT__ENCODING_AES_KEY": AES_KEY[:40]}
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    assert "EncodingAESKey 应为 43 个字符（现在是 40 个）" in str(caught.value)
    assert AES_KEY[:40] not in str(caught.value)


def test_customer_groups_need_the_corp_id():
    with pytest.raises(ValueError, match="corp_id"):
        Settings.model_validate({"wecom": {**WECOM, "corp_id": None}})


def test_secrets_are_not_in_the_settings_repr():
    shown = repr(Settings.model_validate({"wecom": WECOM}))
    assert TOKEN not in shown and AES_KEY not in shown and HOOK_KEY not in shown and "cc-secret" not in shown


async def test_a_robot_bound_to_an_unknown_compound_stops_the_start():
    fake = FakeWecom()
    await fake.start()
    try:
        hooks = [{"name": "duty", "key": HOOK_KEY, "topic": "值班群", "compound": "不存在花园"}]
        with pytest.raises(StartupError, match="不存在花园"):
            async with WecomHarness(fake, {"hooks": hooks}):
                pass
    finally:
        await fake.stop()
