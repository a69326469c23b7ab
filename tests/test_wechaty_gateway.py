"""The Wechaty transport against the real TypeScript gateway (PuppetServer over puppet-mock).

Run alone with ``pytest -m gateway``; needs ``npm ci --prefix gateway``.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

import pytest

from bot.transports.base import Address, ChatGone, Incoming, LoggedIn, RateLimited, RoomJoined, RoomLeft, RoomTopicChanged
from bot.transports.wechaty import WechatyStartError, WechatyTransport
from conftest_gateway import (  # noqa: F401  (fixtures)
    GATEWAY_TOKEN, STANDARD_WORLD, Gateway, Recorder, free_port, gateway, gateway_factory,
)

pytestmark = pytest.mark.gateway


def make_transport(gw: Gateway, **kwargs) -> WechatyTransport:
    options = dict(qr_printer=None, retry_base=0.1, retry_max=0.5, connect_retries=3, health_interval=2.0,
                   login_timeout=10.0)
    options.update(kwargs)
    return WechatyTransport("default", gw.endpoint, kwargs.pop("token", GATEWAY_TOKEN),
                            **{k: v for k, v in options.items() if k != "token"})


@pytest.fixture
async def bot(gateway: Gateway):
    sink = Recorder()
    transport = make_transport(gateway)
    await transport.start(sink)
    try:
        yield transport, sink
    finally:
        await transport.stop()
    # The module shares one gateway: nothing a test handled may be replayed to the next one.
    await gateway.wait_queue(lambda pending: not pending, timeout=5)


async def test_login_over_grpc(gateway: Gateway, bot) -> None:
    transport, sink = bot
    [login] = sink.of(LoggedIn)
    assert login.self_id == "wxid_bot" and login.name == "支部助手" and login.ids_stable is True
    rooms = {r.topic: r for r in login.rooms}
    assert set(rooms) == {"幸福小区1号楼"}  # not the room the bot is not in
    assert rooms["幸福小区1号楼"].member_count == 3
    assert rooms["幸福小区1号楼"].member_names == ("李阿姨", "王书记")


async def test_room_message_mention_and_reply(gateway: Gateway, bot) -> None:
    transport, sink = bot
    before = len(gateway.sent())
    mid = gateway.say("li", "@支部助手\u2005楼道灯坏了", room="r1", mention_bot=True)
    [msg] = await sink.wait_for(Incoming, timeout=5)
    assert msg.message_id == mid and msg.chat_id == "r1@chatroom" and msg.chat_topic == "幸福小区1号楼"
    assert msg.sender_id == "wxid_li" and msg.sender_name == "李阿姨"
    assert msg.mentions_bot is True and msg.text == "楼道灯坏了" and msg.mention_ids == ()
    assert abs((msg.sent_at - datetime.now(timezone.utc)).total_seconds()) < 10

    sent_id = await transport.send_text(Address("group", "r1@chatroom"), "收到，已登记", ["wxid_li"])
    out = await gateway.wait_sent(lambda s: "收到，已登记" in s["text"], since=before)
    assert out["id"] == sent_id and out["room_id"] == "r1@chatroom"
    assert out["mention_ids"] == ["wxid_li"] and out["text"].startswith("@李阿姨")
    await sink.settle()
    assert len(sink.of(Incoming)) == 1  # the echo of our own text was not delivered


async def test_mention_without_a_mention_list(gateway: Gateway, bot) -> None:
    transport, sink = bot
    gateway.say("wang", "@支部助手 帮助", room="r1", mention_bot=True, mention_list=False)
    [msg] = await sink.wait_for(Incoming, timeout=5)
    assert msg.mentions_bot is True and msg.text == "帮助"


async def test_private_message_and_reply(gateway: Gateway, bot) -> None:
    transport, sink = bot
    before = len(gateway.sent())
    gateway.say("wang", "我的身份")
    [msg] = await sink.wait_for(Incoming, timeout=5)
    assert msg.chat_id is None and msg.sender_id == "wxid_wang" and msg.text == "我的身份"
    await transport.send_text(Address("person", "wxid_wang"), "您是支部书记")
    out = await gateway.wait_sent(lambda s: s["text"] == "您是支部书记", since=before)
    assert out["to_id"] == "wxid_wang" and out["room_id"] is None


async def test_old_and_duplicate_messages_are_delivered_as_they_are(gateway: Gateway, bot) -> None:
    transport, sink = bot
    gateway.say("li", "昨天的消息", room="r1", age_seconds=3600, deliveries=2)
    first, second = await sink.wait_for(Incoming, 2, timeout=5)
    assert first.message_id == second.message_id
    age = (datetime.now(timezone.utc) - first.sent_at).total_seconds()
    assert 3590 < age < 3700


async def test_graceful_stop_acknowledges_every_handled_event(gateway: Gateway, monkeypatch) -> None:
    from bot.transports import wechaty as module
    sent_ack = module.ZhibuPuppetService.ack
    slow = asyncio.Event()

    async def ack(self, seqs):  # a loaded machine: the batch acknowledgement is still on its way
        if slow.is_set():
            await asyncio.sleep(30)
        await sent_ack(self, seqs)

    monkeypatch.setattr(module.ZhibuPuppetService, "ack", ack)
    sink = Recorder()
    transport = make_transport(gateway)
    await transport.start(sink)
    slow.set()
    gateway.say("li", "停机前的消息", room="r1")
    await sink.wait_for(Incoming, timeout=5)
    await sink.settle()
    slow.clear()
    await transport.stop()
    assert gateway.queue() == []


async def test_alias_survives_in_the_gateway(gateway: Gateway, bot) -> None:
    transport, sink = bot
    await transport.set_alias("wxid_zhao", "赵师傅#zb42")
    assert gateway.state()["contacts"]["zhao"]["alias"] == "赵师傅#zb42"
    gateway.say("zhao", "你好")
    [msg] = await sink.wait_for(Incoming, timeout=5)
    assert msg.sender_alias == "赵师傅#zb42"


async def test_room_events(gateway_factory) -> None:
    gw = gateway_factory(STANDARD_WORLD)
    sink = Recorder()
    transport = make_transport(gw)
    await transport.start(sink)
    try:
        gw.room_add("r2", ["bot"], by="li")
        [joined] = await sink.wait_for(RoomJoined, timeout=5)
        assert joined.bot_joined and joined.room.platform_id == "r2@chatroom" and joined.room.topic == "新建的群"
        gw.room_add("r1", ["zhao"], by="wang")
        joined = (await sink.wait_for(RoomJoined, 2, timeout=5))[1]
        assert not joined.bot_joined and [m.name for m in joined.members] == ["赵师傅"]
        assert joined.room.member_count == 4
        gw.room_topic("r1", "幸福小区1号楼业主群", by="wang")
        [topic] = await sink.wait_for(RoomTopicChanged, timeout=5)
        assert topic.new_topic == "幸福小区1号楼业主群" and topic.old_topic == "幸福小区1号楼"
        gw.room_remove("r1", ["bot"], by="wang")
        [left] = await sink.wait_for(RoomLeft, timeout=5)
        assert left.bot_left and left.room_id == "r1@chatroom"
        with pytest.raises(ChatGone):
            await transport.send_text(Address("group", "r1@chatroom"), "还在吗")
    finally:
        await transport.stop()


async def test_send_errors_from_the_gateway(gateway_factory) -> None:
    gw = gateway_factory(STANDARD_WORLD)
    transport = make_transport(gw)
    await transport.start(Recorder())
    try:
        gw.fail_sends("发送消息过于频繁，请稍后再试")
        with pytest.raises(RateLimited):
            await transport.send_text(Address("group", "r1@chatroom"), "x")
        with pytest.raises(ChatGone):  # the gateway says the bot is not a member
            await transport.send_text(Address("group", "r2@chatroom"), "x")
        with pytest.raises(ChatGone):
            await transport.send_text(Address("person", "wxid_nobody"), "x")
    finally:
        await transport.stop()


async def test_wrong_token_fails_fast_and_clearly(gateway: Gateway) -> None:
    # An hour between attempts: were a refused token retried, start() would not return (the
    # wait_for only guards against that hang; nothing here depends on how fast the machine is).
    transport = make_transport(gateway, token="wrong-token", connect_retries=5, retry_base=3600.0)
    with pytest.raises(WechatyStartError) as info:
        await asyncio.wait_for(transport.start(Recorder()), timeout=120)
    assert "拒绝了令牌" in str(info.value) and gateway.endpoint in str(info.value)


async def test_unreachable_gateway_fails_after_bounded_retries() -> None:
    port = free_port()
    transport = WechatyTransport("default", f"127.0.0.1:{port}", "t", qr_printer=None,
                                 connect_retries=3, retry_base=0.05)
    with pytest.raises(WechatyStartError) as info:
        await transport.start(Recorder())
    assert "无法连接微信网关" in str(info.value) and "已尝试 3 次" in str(info.value)


async def test_qr_scan_is_shown_then_login(gateway_factory, caplog) -> None:
    gw = gateway_factory({**STANDARD_WORLD, "scan": True, "scan_delay_ms": 400,
                          "scan_qrcode": "https://login.weixin.qq.com/l/zhibu-test"})
    printed: list[str] = []
    transport = make_transport(gw, qr_printer=printed.append)
    sink = Recorder()
    with caplog.at_level(logging.WARNING, logger="bot.transports.wechaty"):
        await transport.start(sink)
    try:
        assert printed == ["https://login.weixin.qq.com/l/zhibu-test"]
        assert "https://wechaty.js.org/qrcode/https%3A%2F%2Flogin.weixin.qq.com%2Fl%2Fzhibu-test" in caplog.text
        assert sink.of(LoggedIn)
    finally:
        await transport.stop()


async def test_gateway_restart_reconnects_and_keeps_serving(gateway_factory) -> None:
    gw = gateway_factory(STANDARD_WORLD)
    sink = Recorder()
    transport = make_transport(gw)
    await transport.start(sink)
    try:
        gw.stop(hard=True)  # the gateway dies
        await asyncio.sleep(0.3)
        assert not transport.connected
        gw.start()
        await sink.wait_for(LoggedIn, 2, timeout=15)
        assert transport.status.reconnects >= 1
        gw.say("li", "重连后第一条", room="r1")
        [msg] = await sink.wait_for(Incoming, timeout=5)
        assert msg.text == "重连后第一条"
        await transport.send_text(Address("group", "r1@chatroom"), "我回来了")
        await gw.wait_sent(lambda s: s["text"] == "我回来了")
    finally:
        await transport.stop()


async def test_web_protocol_restart_changes_ids_but_not_aliases(gateway_factory) -> None:
    gw = gateway_factory(STANDARD_WORLD, id_style="web")
    sink = Recorder()
    transport = make_transport(gw)
    await transport.start(sink)
    try:
        first = sink.of(LoggedIn)[0]
        assert first.ids_stable is False and first.self_id.startswith("@")
        old_li = gw.contact_id("li")
        await transport.set_alias(old_li, "李阿姨#zb5")
        gw.restart()
        second = (await sink.wait_for(LoggedIn, 2, timeout=15))[1]
        assert second.self_id != first.self_id
        assert second.rooms[0].platform_id != first.rooms[0].platform_id
        assert second.rooms[0].topic == first.rooms[0].topic
        assert second.rooms[0].member_names == first.rooms[0].member_names
        new_li = gw.contact_id("li")
        assert new_li != old_li
        members = {m.name: m for m in await transport.room_members(second.rooms[0].platform_id)}
        assert members["李阿姨"].platform_id == new_li and members["李阿姨"].alias == "李阿姨#zb5"
    finally:
        await transport.stop()
