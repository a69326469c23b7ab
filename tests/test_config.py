"""Configuration: defaults, zhibu.toml, environment; bad keys named clearly."""
from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


def test_defaults_use_sqlite_and_shanghai(tmp_path):
    settings = _load(tmp_path, "")
    assert settings.database_url.startswith("sqlite+aiosqlite:///var/")
    assert settings.timezone == "Asia/Shanghai"


def _load(tmp_path, toml: str, env: dict | None = None):
    path = tmp_path / "zhibu.toml"
    path.write_text(toml, encoding="utf-8")
    return load_settings(path, env or {})


def test_toml_values_are_read(tmp_path):
    settings = _load(tmp_path, 'retention_days = 3\n[outbox]\nmin_interval_seconds = 2.0\n')
    assert settings.retention_days == 3 and settings.outbox.min_interval_seconds == 2.0


def test_environment_overrides_toml(tmp_path):
    settings = _load(tmp_path, "retention_days = 3\n", {"ZHIBU_RETENTION_DAYS": "9",
                                                         "ZHIBU_OUTBOX__DAILY_CAP": "10"})
    assert settings.retention_days == 9 and settings.outbox.daily_cap == 10


def test_database_url_and_wechaty_env_vars(tmp_path):
    settings = _load(tmp_path, "", {"DATABASE_URL": "postgresql+asyncpg://u:p@localhost/z",
                                    "WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:8788",
                                    "WECHATY_PUPPET_SERVICE_TOKEN": "t"})
    assert settings.database_url.startswith("postgresql")
    assert settings.wechaty.all_accounts()[0].endpoint == "127.0.0.1:8788"


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="outbx"):
        _load(tmp_path, "outbx = 1\n")


def test_unknown_nested_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match="outbox.min_intervall"):
        _load(tmp_path, "[outbox]\nmin_intervall = 1\n")


def test_bad_value_is_named(tmp_path):
    with pytest.raises(ConfigError, match="retention_days"):
        _load(tmp_path, 'retention_days = "long"\n')


def test_unknown_timezone_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="timezone"):
        _load(tmp_path, 'timezone = "Mars/Olympus"\n')


def test_unsupported_database_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="database_url"):
        _load(tmp_path, 'database_url = "mysql://x"\n')


def test_broken_toml_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="不是有效的 TOML"):
        _load(tmp_path, "retention_days = = 3\n")


def test_named_config_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_settings(environ={"ZHIBU_CONFIG": str(tmp_path / "missing.toml")})
