"""A gateway outage on the real path (issue #13): the Node gateway (puppet-mock) is killed with
SIGKILL while a group reply and an urgent alert wait to be sent, and comes back only after all
of the outbox's retries would have run out. Run with ``pytest -m gateway``.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.models import OutboxMessage, OutboxStatus, Priority
from bot.texts import core as T
from conftest_gateway import gateway_factory  # noqa: F401
from test_wechaty_bot import BOT_WORLD, settings_for, start_bot, transport_of, wait_until  # noqa: F401

pytestmark = pytest.mark.gateway

URGENT = "5号楼电梯困人了！快来人"
WORLD: dict[str, Any] = {**BOT_WORLD, "contacts": [
    *BOT_WORLD["contacts"], {"key": "wangge", "name": "王网格", "id": "wxid_wang_wangge"}]}
MAX_ATTEMPTS = 3
RETRY_BASE = 0.3  # seconds: 0.3 + 0.6 + 1.2 between the three attempts
ALL_RETRIES = sum(RETRY_BASE * 2 ** i for i in range(MAX_ATTEMPTS))
GUARD = 120  # seconds; only against a hang


async def outbox_rows(app) -> list[OutboxMessage]:
    async with app.sessions() as session:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_a_reply_and_an_urgent_alert_pending_through_a_long_outage_are_delivered_once_after_it(
        gateway_factory, start_bot, tmp_path) -> None:
    gw = gateway_factory(WORLD)
    app = await start_bot(settings_for(
        tmp_path, gw, ZHIBU_OUTBOX__MAX_ATTEMPTS=str(MAX_ATTEMPTS),
        ZHIBU_OUTBOX__RETRY_BASE_SECONDS=str(RETRY_BASE)))
    transport = transport_of(app)
    room = gw.room_id("yg1")
    gw.hold_sends()  # the bot's first send reaches the gateway and stays in flight
    gw.say("zhangsan", "@支部助手\u2005帮助", room="yg1", mention_bot=True)  # an ordinary reply
    gw.say("lisi", URGENT, room="yg1")  # "正在通知…" in the group, alerts to the secretary and grid worker

    async def pending_reply_and_alerts() -> bool:
        rows = await outbox_rows(app)
        return gw.held_sends() >= 1 and len(rows) >= 4

    await wait_until(pending_reply_and_alerts, timeout=GUARD, what="a send in flight and the rest pending")
    before_kill = gw.sent()
    gw.stop(hard=True)  # kill -9, with the send in flight
    await wait_until(lambda: not transport.connected, timeout=GUARD, what="the drop to be noticed")
    # Down for longer than every attempt with its backoff would have lasted (twice over).
    await asyncio.sleep(2 * ALL_RETRIES)
    waiting = await outbox_rows(app)
    assert {r.priority for r in waiting} > {Priority.URGENT}  # an ordinary reply is among them
    assert {r.status for r in waiting} <= {OutboxStatus.PENDING, OutboxStatus.SENDING}
    gw.start()

    def delivered() -> list[dict[str, Any]]:
        return gw.sent()

    async def all_sent() -> bool:
        rows = await outbox_rows(app)
        return bool(rows) and all(r.status == OutboxStatus.SENT for r in rows)

    await wait_until(all_sent, timeout=GUARD, what="every outbox row sent")
    sent = before_kill + delivered()
    alerts = [s for s in sent if s["to_id"] and s["text"].startswith("【紧急】")]
    assert sorted(s["to_id"] for s in alerts) == ["wxid_li_shuji", "wxid_wang_wangge"]  # each once
    group_texts = [s for s in sent if s["room_id"] == room]
    assert len([s for s in group_texts if T.HELP_HEADER in s["text"]]) == 1
    assert len([s for s in group_texts if "正在通知" in s["text"]]) == 1
    assert len(group_texts) == 2
    # Truthful: the group never heard "已通知" before the alerts had gone out.
    assert not any("已通知" in s["text"] for s in group_texts)
    rows = await outbox_rows(app)
    assert not [r for r in rows if r.status == OutboxStatus.FAILED]
