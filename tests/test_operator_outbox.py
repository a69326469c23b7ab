"""`zhibu outbox status`: waiting and failed sends, with their reason."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.cli import main
from bot.doctor import outbox_status_lines
from bot.models import ChatGroup, OutboxMessage, OutboxStatus


async def add_send(h, topic: str, text: str, **values) -> None:  # noqa: ANN001
    async with h.session() as session:
        group_id = (await session.execute(select(ChatGroup.id).where(ChatGroup.topic == topic))).scalar_one()
        session.add(OutboxMessage(account="sim", group_id=group_id, text=text,
                                  created_at=h.now - timedelta(minutes=5), **values))
        await session.commit()


async def test_status_lists_a_waiting_send_with_its_group(h):
    await add_send(h, "阳光花园业主1群", "停水通知")
    async with h.session() as session:
        out = "\n".join(await outbox_status_lines(session, h.clock))
    waiting = out.split("等待发送")[1].split("近7天")[0]
    assert "群“阳光花园业主1群”" in waiting and "停水通知" in waiting


async def test_status_lists_a_failed_send_with_its_reason(h):
    await add_send(h, "兰亭水岸邻里群", "议事日提醒", status=OutboxStatus.FAILED, attempts=5,
                   error="机器人已被移出该群")
    async with h.session() as session:
        out = "\n".join(await outbox_status_lines(session, h.clock))
    failed = out.split("近7天")[1]
    assert "群“兰亭水岸邻里群”" in failed and "原因：机器人已被移出该群" in failed


async def test_status_masks_phone_numbers_in_previews(h):
    await add_send(h, "阳光花园业主1群", "请联系 13812345678")
    async with h.session() as session:
        out = "\n".join(await outbox_status_lines(session, h.clock))
    assert "13812345678" not in out


def test_zhibu_outbox_status_is_a_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'zhibu.db'}")
    (tmp_path / "zhibu.toml").write_text("", encoding="utf-8")
    assert main(["--config", str(tmp_path / "zhibu.toml"), "outbox", "status"]) == 0
    assert "等待发送（0条）" in capsys.readouterr().out
