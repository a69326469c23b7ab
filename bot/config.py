"""Configuration: defaults, then ``zhibu.toml``, then environment variables.

Validated once at start; an unknown or malformed key stops the bot with a message naming it.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.transports.wecom.settings import WecomSettings  # WeCom keeps its section in its package

SAMPLE_ORG = Path(__file__).resolve().parent / "sample" / "sample_org.yaml"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")  # web.host values only this machine reaches


class ConfigError(Exception):
    """A configuration problem, worded for the operator (Chinese first)."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutboxSettings(_Section):
    min_interval_seconds: float = Field(1.5, ge=0)   # per account: ~1 s apart holds, 0.5 s gets banned
    # Random extra spacing, so sends do not look scripted; 0.3 keeps a 3,000-group notice over
    # 6 accounts within ~15 min (bench/broadcast.py) while min_interval keeps the safe pace.
    jitter_seconds: float = Field(0.3, ge=0)
    group_per_minute: int = Field(6, ge=1)           # per group: never flood one chat
    daily_cap: int = Field(3000, ge=1)               # per account per day
    rate_limit_pause_seconds: float = Field(300, ge=1)  # first pause after "发送消息过于频繁"; doubles
    max_attempts: int = Field(5, ge=1)
    retry_base_seconds: float = Field(5, ge=0)
    text_limit: int = Field(1800, ge=50)             # split longer texts on line boundaries


class WechatyAccount(_Section):
    name: str
    endpoint: str
    token: str


class WechatySettings(_Section):
    endpoint: str | None = None
    token: str | None = None
    accounts: list[WechatyAccount] = []
    login_timeout_seconds: float = Field(60, gt=0)
    connect_retries: int = Field(5, ge=1)
    bot_name: str = "支部助手"
    # Messages of different conversations handled at once per account (each conversation stays in order).
    event_concurrency: int = Field(32, ge=1)

    def all_accounts(self) -> list[WechatyAccount]:
        found = list(self.accounts)
        if self.endpoint and self.token:
            found.insert(0, WechatyAccount(name="default", endpoint=self.endpoint, token=self.token))
        return found


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    secret_key: str | None = None
    # Reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto are believed; empty:
    # none, the peer address is the client. ZHIBU_WEB__TRUSTED_PROXIES="127.0.0.1,10.0.0.0/8".
    trusted_proxies: list[str] = []

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: Any) -> Any:
        import ipaddress

        items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        for item in items or []:
            try:
                ipaddress.ip_network(str(item), strict=False)
            except ValueError as exc:
                raise ValueError(f"不是IP地址或网段：{item}") from exc
        return items


class SchedulesSettings(_Section):
    # Failover after a crash takes at most lease + tick; both are measured on the database's clock.
    lease_seconds: float = Field(20, gt=0)   # a holder that stopped renewing is replaced after this
    tick_seconds: float = Field(5, gt=0)     # how often the holder looks for due jobs (and renews)

    @model_validator(mode="after")
    def _tick_renews_in_time(self) -> "SchedulesSettings":
        if self.tick_seconds * 2 > self.lease_seconds:
            raise ValueError("tick_seconds must be at most half of lease_seconds (the lease is renewed each tick)")
        return self


class AccountsSettings(_Section):
    """Who serves each account (``bot.accounts``): the lease holder, timed on the database's clock."""

    # A crashed process's accounts are taken over by a standby within lease + tick.
    lease_seconds: float = Field(20, gt=0)
    tick_seconds: float = Field(5, gt=0)     # how often a holder renews and a standby looks
    # A standby process (same gateway, same accounts) connects an account only once no other
    # process holds its lease; an active one takes a free lease at once.
    standby: bool = False

    @model_validator(mode="after")
    def _tick_renews_in_time(self) -> "AccountsSettings":
        if self.tick_seconds * 2 > self.lease_seconds:
            raise ValueError("tick_seconds must be at most half of lease_seconds (the lease is renewed each tick)")
        return self


class Settings(_Section):
    database_url: str = "sqlite+aiosqlite:///var/zhibu.db"
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    org_file: Path | None = None            # loaded on first start of an empty database
    retention_days: int = Field(7, ge=0)    # unreferenced chatter is purged after this
    replay_max_age_seconds: int = Field(300, ge=0)  # older messages at (re)connect: stored, not acted on
    max_text_chars: int = Field(100_000, ge=100)
    invite_ttl_hours: int = Field(72, ge=1)
    nlp_rules_file: Path | None = None
    nlp_model_file: Path | None = None
    rating_standard_file: Path | None = None  # the district's 评星 standard (docs/rating.md); else the sample
    media_dir: Path = Path("var/media")     # photos/videos attached to tickets (kept with the ticket)
    media_max_bytes: int = Field(20_000_000, ge=1)  # larger attachments are not downloaded
    media_window_minutes: int = Field(10, ge=1)  # a photo this close to a report belongs to it
    outbox: OutboxSettings = OutboxSettings()
    wechaty: WechatySettings = WechatySettings()
    web: WebSettings = WebSettings()
    wecom: WecomSettings = WecomSettings()  # WeCom (企业微信) for staff: docs/wecom.md
    schedules: SchedulesSettings = SchedulesSettings()
    accounts: AccountsSettings = AccountsSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://user:pw@host/db")
        return value


ENV_KEYS = {
    "DATABASE_URL": ("database_url",),
    "WECHATY_PUPPET_SERVICE_ENDPOINT": ("wechaty", "endpoint"),
    "WECHATY_PUPPET_SERVICE_TOKEN": ("wechaty", "token"),
}


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """DATABASE_URL, WECHATY_* and ZHIBU_<KEY> / ZHIBU_<SECTION>__<KEY> variables."""
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if name in ENV_KEYS:
            path = ENV_KEYS[name]
        elif name.startswith("ZHIBU_") and name != "ZHIBU_CONFIG":
            path = tuple(name[len("ZHIBU_"):].lower().split("__"))
        else:
            continue
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return out


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"配置错误（{source}）："]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            lines.append(f"  - 未知的配置项 '{key}'（unknown key）")
        else:
            lines.append(f"  - '{key}': {item['msg']}")
    return "\n".join(lines)


def load_settings(config_path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read ``zhibu.toml`` (or ``ZHIBU_CONFIG``) and the environment; raise ConfigError on bad input."""
    environ = dict(os.environ if environ is None else environ)
    if config_path is None:
        named = environ.get("ZHIBU_CONFIG")
        config_path = Path(named) if named else Path("zhibu.toml")
        must_exist = bool(named)
    else:
        must_exist = True
    data: dict[str, Any] = {}
    if config_path.exists():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"配置错误：{config_path} 不是有效的 TOML：{exc}") from exc
    elif must_exist:
        raise ConfigError(f"配置错误：找不到配置文件 {config_path}")
    try:
        return Settings.model_validate(_merge(data, _env_overrides(environ)))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, f"{config_path} 与环境变量")) from exc
