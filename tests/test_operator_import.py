"""`zhibu import org` attaches groups and WeChat ids to the account that will serve them, and says which."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import db
from bot.cli import main
from bot.config import SAMPLE_ORG
from bot.models import ChatGroup, Identity


@pytest.fixture
def operator(tmp_path, monkeypatch):
    """An operator's environment: a config file of their own and a fresh SQLite database."""
    for name in ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN", "ZHIBU_CONFIG", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'zhibu.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    config = tmp_path / "zhibu.toml"

    def run(*argv: str, toml: str = "") -> int:
        config.write_text(toml, encoding="utf-8")
        return main(["--config", str(config), *argv])

    run.url = url  # type: ignore[attr-defined]
    return run


def accounts_of(url: str, model, **where: object) -> set[str]:  # noqa: ANN001
    async def query() -> set[str]:
        engine = db.create_engine(url)
        try:
            async with db.session_factory(engine)() as session:
                return set((await session.execute(select(model.account).filter_by(**where))).scalars())
        finally:
            await engine.dispose()
    return asyncio.run(query())


ONE_ACCOUNT = '[wechaty]\nendpoint = "127.0.0.1:8788"\ntoken = "t"\n'
TWO_ACCOUNTS = ('[[wechaty.accounts]]\nname = "east"\nendpoint = "127.0.0.1:8788"\ntoken = "a"\n'
                '[[wechaty.accounts]]\nname = "west"\nendpoint = "127.0.0.1:8789"\ntoken = "b"\n')


def test_import_attaches_groups_to_the_configured_account(operator, capsys):
    assert operator("import", "org", str(SAMPLE_ORG), toml=ONE_ACCOUNT) == 0
    assert accounts_of(operator.url, ChatGroup) == {"default"}
    assert "default" in capsys.readouterr().out


def test_import_attaches_roster_wechat_ids_to_the_configured_account(operator):
    assert operator("import", "org", str(SAMPLE_ORG), toml=ONE_ACCOUNT) == 0
    assert accounts_of(operator.url, Identity) == {"default"}


def test_import_without_a_configured_account_uses_the_demo_account_and_says_so(operator, capsys):
    assert operator("import", "org", str(SAMPLE_ORG)) == 0
    assert accounts_of(operator.url, ChatGroup) == {"sim"}
    assert "演示账号" in capsys.readouterr().out


def test_import_with_several_accounts_and_none_named_is_refused(operator, capsys):
    assert operator("import", "org", str(SAMPLE_ORG), toml=TWO_ACCOUNTS) == 2
    assert "--account" in capsys.readouterr().err
    assert accounts_of(operator.url, ChatGroup) == set()


def test_import_uses_the_account_the_file_names(operator, tmp_path):
    org = tmp_path / "org.yaml"
    org.write_text("account: east\n" + SAMPLE_ORG.read_text(encoding="utf-8"), encoding="utf-8")
    assert operator("import", "org", str(org), toml=TWO_ACCOUNTS) == 0
    assert accounts_of(operator.url, ChatGroup) == {"east"}


def test_import_to_an_unconfigured_account_is_refused(operator, capsys):
    assert operator("import", "org", str(SAMPLE_ORG), "--account", "nosuch", toml=ONE_ACCOUNT) == 2
    assert "nosuch" in capsys.readouterr().err


def test_import_moves_the_demo_accounts_groups_to_the_configured_account_and_says_so(operator, capsys):
    assert operator("import", "org", str(SAMPLE_ORG)) == 0
    capsys.readouterr()
    assert operator("import", "org", str(SAMPLE_ORG), toml=ONE_ACCOUNT) == 0
    assert accounts_of(operator.url, ChatGroup, active=True) == {"default"}
    assert "4个群从演示账号“sim”转到账号“default”" in capsys.readouterr().out


def test_import_warns_about_groups_left_on_another_account(operator, tmp_path, capsys):
    assert operator("import", "org", str(SAMPLE_ORG)) == 0
    other = tmp_path / "other.csv"
    other.write_text("街道,社区,小区,群\n柳青街道,荣昌社区,新华园,新华园业主群\n", encoding="utf-8")
    capsys.readouterr()
    assert operator("import", "org", str(other), toml=ONE_ACCOUNT) == 0
    assert "还有4个群属于账号“sim”，账号“default”不会回答这些群" in capsys.readouterr().out


def test_a_group_another_live_account_serves_stays_with_it_and_the_import_says_so(operator, capsys):
    assert operator("import", "org", str(SAMPLE_ORG), "--account", "east", toml=TWO_ACCOUNTS) == 0
    capsys.readouterr()
    assert operator("import", "org", str(SAMPLE_ORG), "--account", "west", toml=TWO_ACCOUNTS) == 0
    assert accounts_of(operator.url, ChatGroup, active=True) == {"east"}
    assert "群“阳光花园业主1群”由账号“east”服务" in capsys.readouterr().out
