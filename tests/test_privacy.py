"""Retention: chatter is purged after the retention period, cases are kept; masking."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import InboundMessage
from bot.privacy import mask_pii


async def stored_texts(h) -> list[str]:
    async with h.session() as s:
        return list((await s.execute(select(InboundMessage.text).order_by(InboundMessage.id))).scalars())


async def test_chatter_is_purged_after_retention(h):
    await h.say("阳光花园业主1群", "张三", "今天天气不错")
    h.clock.advance(timedelta(days=8))
    assert await h.bot.purge() == 1
    assert await stored_texts(h) == []


async def test_recent_chatter_is_kept(h):
    await h.say("阳光花园业主1群", "张三", "今天天气不错")
    h.clock.advance(timedelta(days=6))
    assert await h.bot.purge() == 0


async def test_commands_are_kept_past_retention(h):
    await h.say("阳光花园业主1群", "张三", "帮助")
    h.clock.advance(timedelta(days=30))
    await h.bot.purge()
    assert await stored_texts(h) == ["帮助"]


async def test_deletion_request_removes_own_chatter(h):
    await h.say("阳光花园业主1群", "张三", "闲聊一句")
    await h.dm("张三", "删除我的信息")
    assert "已删除您的1条聊天记录" in h.texts_to("张三")[-1]


def test_mobile_and_id_numbers_are_masked():
    masked = mask_pii("电话13812345678，身份证370102199001011234")
    assert "13812345678" not in masked and "370102199001011234" not in masked


def test_cli_purge_reports_count(tmp_path, capsys):
    from bot.cli import main

    toml = tmp_path / "z.toml"
    toml.write_text(f'database_url = "sqlite+aiosqlite:///{tmp_path / "z.db"}"\n', encoding="utf-8")
    assert main(["--config", str(toml), "purge"]) == 0
    assert "已删除0条" in capsys.readouterr().out
