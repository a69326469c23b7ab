"""The Wechaty transport in-process, over the SDK's FakePuppet (fixed): no gateway, no Node."""
from __future__ import annotations

import asyncio
import logging
import sys
from datetime import datetime, timedelta, timezone

import pytest

from bot.config import Settings
from bot.transports.base import (
    Address, ChatGone, EventSink, Incoming, LoggedIn, MessageKind, RateLimited, RoomJoined, RoomLeft,
    RoomTopicChanged, Transport, TransportError,
)
from bot.transports import wechaty as wt
from bot.transports.wechaty import sdk
from bot.transports.mentions import strip_mention
from conftest_gateway import Recorder
from wechaty_fake import FixedFakePuppet

BOT = "wxid_bot"
ROOM = "r1@chatroom"


def make_puppet(self_id: str = BOT) -> FixedFakePuppet:
    puppet = FixedFakePuppet(self_name="支部助手", self_id=self_id)
    puppet.add_contact("wxid_wang", "王书记", alias="王书记#zb7")
    puppet.add_contact("wxid_li", "李阿姨")
    puppet.add_contact("wxid_new", "新邻居")
    puppet.add_room(ROOM, "幸福小区1号楼", ["wxid_wang", "wxid_li"])
    puppet.add_room("r2@chatroom", "还没进的群", ["wxid_li"], with_bot=False)
    return puppet


@pytest.fixture
async def world():
    puppet = make_puppet()
    sink = Recorder()
    transport = wt.WechatyTransport("acc", puppet_factory=lambda: puppet, qr_printer=None,
                                    health_interval=3600)
    await transport.start(sink)
    try:
        yield puppet, transport, sink
    finally:
        await transport.stop()


def test_protocols_are_implemented() -> None:
    transport = wt.WechatyTransport("acc", "127.0.0.1:1", "t")
    assert isinstance(transport, Transport)
    assert isinstance(Recorder(), EventSink)


async def test_login_reports_rooms_with_members(world) -> None:
    puppet, transport, sink = world
    [login] = sink.of(LoggedIn)
    assert login.account == "acc" and login.self_id == BOT and login.name == "支部助手"
    assert login.ids_stable is True
    [room] = login.rooms  # only the room the bot is in
    assert room.platform_id == ROOM and room.topic == "幸福小区1号楼"
    assert room.member_count == 3 and room.member_names == ("李阿姨", "王书记")
    assert transport.connected and transport.status.logged_in_as == "支部助手"


async def test_web_protocol_ids_are_flagged_unstable() -> None:
    puppet = make_puppet(self_id="@9f3a0c")
    sink = Recorder()
    transport = wt.WechatyTransport("acc", puppet_factory=lambda: puppet, qr_printer=None)
    await transport.start(sink)
    try:
        assert sink.of(LoggedIn)[0].ids_stable is False
    finally:
        await transport.stop()


async def test_room_message_becomes_incoming(world) -> None:
    puppet, transport, sink = world
    sent = datetime.now(timezone.utc) - timedelta(seconds=30)
    mid = puppet.inject_message("wxid_wang", "  3号楼门口积水了 ", room_id=ROOM, timestamp=sent.timestamp())
    [msg] = await sink.wait_for(Incoming)
    assert msg.account == "acc" and msg.message_id == mid
    assert msg.sender_id == "wxid_wang" and msg.sender_name == "王书记" and msg.sender_alias == "王书记#zb7"
    assert msg.chat_id == ROOM and msg.chat_topic == "幸福小区1号楼" and msg.is_group
    assert msg.text == "3号楼门口积水了" and msg.kind == MessageKind.TEXT
    assert msg.mentions_bot is False and msg.mention_ids == () and msg.is_self is False
    assert msg.sent_at.tzinfo is not None and abs((msg.sent_at - sent).total_seconds()) < 0.01


async def test_private_message(world) -> None:
    puppet, transport, sink = world
    puppet.inject_message("wxid_li", "你好")
    [msg] = await sink.wait_for(Incoming)
    assert msg.chat_id is None and msg.chat_topic is None and not msg.is_group
    assert msg.sender_name == "李阿姨" and msg.sender_alias is None and msg.text == "你好"


async def test_mention_from_the_mention_list_is_stripped(world) -> None:
    puppet, transport, sink = world
    puppet.inject_message("wxid_li", "@支部助手\u2005帮助", room_id=ROOM, mention_ids=[BOT])
    [msg] = await sink.wait_for(Incoming)
    assert msg.mentions_bot is True and msg.text == "帮助" and msg.mention_ids == ()


async def test_mention_falls_back_to_the_bot_name_in_the_text(world) -> None:
    puppet, transport, sink = world
    puppet.inject_message("wxid_li", "@支部助手 帮助", room_id=ROOM)  # the puppet lost the list
    [msg] = await sink.wait_for(Incoming)
    assert msg.mentions_bot is True and msg.text == "帮助"


async def test_mention_by_the_bots_group_nickname(world) -> None:
    puppet, transport, sink = world
    puppet.room_aliases[(ROOM, BOT)] = "小助手"
    puppet.inject_message("wxid_li", "@小助手\u2005楼道灯坏了", room_id=ROOM)
    [msg] = await sink.wait_for(Incoming)
    assert msg.mentions_bot is True and msg.text == "楼道灯坏了"


async def test_other_mentions_stay_in_text_and_ids(world) -> None:
    puppet, transport, sink = world
    puppet.inject_message("wxid_wang", "@支部助手\u2005任命 @李阿姨\u2005为楼长", room_id=ROOM,
                          mention_ids=[BOT, "wxid_li"])
    [msg] = await sink.wait_for(Incoming)
    assert msg.mentions_bot is True
    assert msg.text == "任命 @李阿姨 为楼长" and msg.mention_ids == ("wxid_li",)


async def test_no_mention_no_flag_and_email_like_text_is_kept(world) -> None:
    puppet, transport, sink = world
    puppet.inject_message("wxid_li", "发到 a@支部助手x.com 了吗", room_id=ROOM)
    [msg] = await sink.wait_for(Incoming)
    assert msg.mentions_bot is False and msg.text == "发到 a@支部助手x.com 了吗"


async def test_own_messages_are_not_delivered(world) -> None:
    puppet, transport, sink = world
    puppet.inject_message(BOT, "我自己说的", room_id=ROOM)
    await transport.send_text(Address("group", ROOM), "收到")  # echoed back by the puppet
    puppet.inject_message("wxid_li", "after", room_id=ROOM)
    msgs = await sink.wait_for(Incoming)
    await sink.settle()
    assert [m.text for m in sink.of(Incoming)] == ["after"] and msgs[0].sender_id == "wxid_li"


async def test_own_messages_can_be_delivered_flagged() -> None:
    puppet = make_puppet()
    sink = Recorder()
    transport = wt.WechatyTransport("acc", puppet_factory=lambda: puppet, qr_printer=None, deliver_self=True)
    await transport.start(sink)
    try:
        puppet.inject_message(BOT, "我自己说的", room_id=ROOM)
        [msg] = await sink.wait_for(Incoming)
        assert msg.is_self is True
    finally:
        await transport.stop()


async def test_duplicate_deliveries_pass_through_for_the_dispatcher(world) -> None:
    puppet, transport, sink = world
    puppet.inject_message("wxid_li", "一条", room_id=ROOM, message_id="m-1")
    puppet.inject_message("wxid_li", "一条", room_id=ROOM, message_id="m-1")
    msgs = await sink.wait_for(Incoming, 2)
    assert [m.message_id for m in msgs] == ["m-1", "m-1"]


async def test_non_text_kinds(world) -> None:
    puppet, transport, sink = world
    puppet.inject_message("wxid_li", "<msg><img/></msg>", room_id=ROOM,
                          message_type=sdk.MessageType.MESSAGE_TYPE_IMAGE)
    puppet.inject_message("wxid_li", "<voice/>", message_type=sdk.MessageType.MESSAGE_TYPE_AUDIO)
    first, second = await sink.wait_for(Incoming, 2)
    assert (first.kind, first.text) == (MessageKind.IMAGE, "")
    assert second.kind == MessageKind.VOICE


async def test_unknown_sender_still_delivers(world) -> None:
    puppet, transport, sink = world
    puppet.inject_message("wxid_stranger", "我是谁", room_id=ROOM)
    [msg] = await sink.wait_for(Incoming)
    assert msg.sender_id == "wxid_stranger" and msg.sender_name == "" and msg.text == "我是谁"


async def test_bot_added_to_a_room(world) -> None:
    puppet, transport, sink = world
    puppet.room_join("r2@chatroom", [BOT], inviter_id="wxid_li")
    [joined] = await sink.wait_for(RoomJoined)
    assert joined.bot_joined is True and joined.account == "acc"
    assert joined.room.platform_id == "r2@chatroom" and joined.room.topic == "还没进的群"
    assert joined.room.member_count == 2 and joined.members == ()
    assert joined.at is not None


async def test_member_joins_a_room(world) -> None:
    puppet, transport, sink = world
    puppet.room_join(ROOM, ["wxid_new"], inviter_id="wxid_wang")
    [joined] = await sink.wait_for(RoomJoined)
    assert joined.bot_joined is False and joined.room.member_count == 4
    assert [(m.platform_id, m.name) for m in joined.members] == [("wxid_new", "新邻居")]


async def test_bot_removed_then_sends_there_fail_as_gone(world) -> None:
    puppet, transport, sink = world
    puppet.room_leave(ROOM, [BOT], remover_id="wxid_wang")
    [left] = await sink.wait_for(RoomLeft)
    assert left.bot_left is True and left.room_id == ROOM
    with pytest.raises(ChatGone):
        await transport.send_text(Address("group", ROOM), "还在吗")
    assert puppet.sent == []


async def test_member_leaves(world) -> None:
    puppet, transport, sink = world
    puppet.room_leave(ROOM, ["wxid_li"], remover_id="wxid_wang")
    [left] = await sink.wait_for(RoomLeft)
    assert left.bot_left is False and [m.name for m in left.members] == ["李阿姨"]


async def test_topic_change(world) -> None:
    puppet, transport, sink = world
    puppet.room_topic_change(ROOM, "幸福小区1号楼（新）", changer_id="wxid_wang")
    [topic] = await sink.wait_for(RoomTopicChanged)
    assert (topic.old_topic, topic.new_topic) == ("幸福小区1号楼", "幸福小区1号楼（新）")
    puppet.inject_message("wxid_li", "hi", room_id=ROOM)
    [msg] = await sink.wait_for(Incoming)
    assert msg.chat_topic == "幸福小区1号楼（新）"


async def test_send_text_with_mentions_goes_through_room_say(world, monkeypatch) -> None:
    puppet, transport, sink = world
    calls = []
    original = sdk.Room.say

    async def spy(self, text, mention_ids=None):  # noqa: ANN001
        calls.append((self.room_id, text, mention_ids))
        return await original(self, text, mention_ids=mention_ids)

    monkeypatch.setattr(sdk.Room, "say", spy)
    message_id = await transport.send_text(Address("group", ROOM), "收到，已登记", ["wxid_wang"])
    assert calls == [(ROOM, "收到，已登记", ["wxid_wang"])]
    [sent] = puppet.sent
    assert sent["conversation_id"] == ROOM and sent["mention_ids"] == ["wxid_wang"]
    assert sent["text"] == "@王书记 收到，已登记" and message_id == sent["id"]


async def test_send_text_to_a_person_goes_through_contact_say(world, monkeypatch) -> None:
    puppet, transport, sink = world
    calls = []
    original = sdk.Contact.say

    async def spy(self, text):  # noqa: ANN001
        calls.append(self.contact_id)
        return await original(self, text)

    monkeypatch.setattr(sdk.Contact, "say", spy)
    message_id = await transport.send_text(Address("person", "wxid_li"), "您好")
    assert calls == ["wxid_li"] and puppet.sent[0]["text"] == "您好" and message_id


@pytest.mark.parametrize("error, expected", [
    (RuntimeError("发送消息过于频繁，请稍后再试"), RateLimited),
    # "not found" while the room is still in the bot's room list: not confirmed gone, retried.
    (RuntimeError("contact wxid_x not found"), TransportError),
    (RuntimeError("socket hang up"), TransportError),
])
async def test_send_errors_are_mapped(world, error, expected) -> None:
    puppet, transport, sink = world
    puppet.fail_next.append(error)
    with pytest.raises(expected) as info:
        await transport.send_text(Address("group", ROOM), "x")
    assert type(info.value) is expected


async def test_sending_to_an_unknown_contact_is_gone(world) -> None:
    puppet, transport, sink = world
    with pytest.raises(ChatGone):
        await transport.send_text(Address("person", "wxid_nobody"), "x")


async def test_a_send_that_went_out_is_not_reported_failed(world, monkeypatch) -> None:
    """Some puppets return an id they cannot load: the text was sent, do not resend it."""
    puppet, transport, sink = world

    async def broken_payload(message_id):  # noqa: ANN001
        raise RuntimeError("no payload")

    monkeypatch.setattr(puppet, "message_payload", broken_payload)
    message_id = await transport.send_text(Address("group", ROOM), "hi")
    assert message_id == puppet.sent[0]["id"]


def test_classify_grpc_errors() -> None:
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    assert isinstance(wt.classify_send_error(GRPCError(Status.UNKNOWN, "发送消息过于频繁")), RateLimited)
    assert isinstance(wt.classify_send_error(GRPCError(Status.NOT_FOUND, "x")), ChatGone)
    assert type(wt.classify_send_error(GRPCError(Status.UNAVAILABLE, "down"))) is TransportError


async def test_not_connected_is_a_transport_error() -> None:
    transport = wt.WechatyTransport("acc", "127.0.0.1:1", "t")
    with pytest.raises(TransportError):
        await transport.send_text(Address("group", ROOM), "x")


async def test_set_alias_and_lists(world) -> None:
    puppet, transport, sink = world
    await transport.set_alias("wxid_li", "李阿姨#zb9")
    assert puppet.get_fake_contact("wxid_li").alias == "李阿姨#zb9"
    members = await transport.room_members(ROOM)
    assert {(m.platform_id, m.name, m.alias) for m in members} == {
        ("wxid_wang", "王书记", "王书记#zb7"), ("wxid_li", "李阿姨", "李阿姨#zb9")}
    [room] = await transport.room_list()
    assert room.platform_id == ROOM
    friends = await transport.contacts()
    assert {c.platform_id for c in friends} == {"wxid_wang", "wxid_li", "wxid_new"}
    puppet.inject_message("wxid_li", "hi")
    [msg] = await sink.wait_for(Incoming)
    assert msg.sender_alias == "李阿姨#zb9"


async def test_qr_code_is_printed_and_logged(caplog) -> None:
    puppet = make_puppet()
    printed: list[str] = []
    sink = Recorder()
    transport = wt.WechatyTransport("acc", puppet_factory=lambda: puppet, qr_printer=printed.append)
    await transport.start(sink)
    try:
        with caplog.at_level(logging.INFO, logger="bot.transports.wechaty"):
            puppet.scan("https://login.weixin.qq.com/l/abc")
            await sink.settle()
        assert printed == ["https://login.weixin.qq.com/l/abc"]
        assert "https://wechaty.js.org/qrcode/https%3A%2F%2Flogin.weixin.qq.com%2Fl%2Fabc" in caplog.text
    finally:
        await transport.stop()


def test_print_qr_draws_in_the_terminal(capsys) -> None:
    wt.print_qr("https://login.weixin.qq.com/l/abc", stream=sys.stdout)
    out = capsys.readouterr().out
    assert out.count("\n") > 15 and "█" in out


async def test_two_accounts_in_one_process_do_not_share_sdk_objects() -> None:
    one, two = make_puppet(), make_puppet(self_id="wxid_bot2")
    sink_one, sink_two = Recorder(), Recorder()
    t_one = wt.WechatyTransport("one", puppet_factory=lambda: one, qr_printer=None)
    t_two = wt.WechatyTransport("two", puppet_factory=lambda: two, qr_printer=None)
    await t_one.start(sink_one)
    await t_two.start(sink_two)
    try:
        await t_one.send_text(Address("group", ROOM), "from one")
        await t_two.send_text(Address("group", ROOM), "from two")
        assert [s["text"] for s in one.sent] == ["from one"]
        assert [s["text"] for s in two.sent] == ["from two"]
        two.inject_message("wxid_li", "to two", room_id=ROOM)
        [msg] = await sink_two.wait_for(Incoming)
        assert msg.account == "two" and sink_one.of(Incoming) == []
    finally:
        await t_one.stop()
        await t_two.stop()


async def test_reconnects_when_the_puppet_stops() -> None:
    puppets = [make_puppet(), make_puppet()]
    made = iter(puppets)
    sink = Recorder()
    transport = wt.WechatyTransport("acc", puppet_factory=lambda: next(made), qr_printer=None,
                                    retry_base=0.01, health_interval=3600)
    await transport.start(sink)
    try:
        await puppets[0].stop()  # the event stream ends, as when a gateway goes away
        await sink.wait_for(LoggedIn, 2)
        for _ in range(100):
            if transport.connected:
                break
            await asyncio.sleep(0.01)
        assert transport.status.reconnects == 1 and transport.connected
        await transport.send_text(Address("group", ROOM), "back")
        assert [s["text"] for s in puppets[1].sent] == ["back"]
    finally:
        await transport.stop()


async def test_start_gives_up_after_bounded_retries() -> None:
    class Broken(FixedFakePuppet):
        async def start(self) -> None:
            raise ConnectionRefusedError("refused")

    attempts = []

    def factory() -> FixedFakePuppet:
        attempts.append(1)
        return Broken()

    transport = wt.WechatyTransport("acc", puppet_factory=factory, qr_printer=None,
                                    connect_retries=3, retry_base=0.01)
    with pytest.raises(wt.WechatyStartError) as info:
        await transport.start(Recorder())
    assert len(attempts) == 3 and "无法连接微信网关" in str(info.value)


async def test_login_timeout_is_an_error() -> None:
    class Silent(FixedFakePuppet):
        async def start(self) -> None:
            await asyncio.sleep(3600)

    transport = wt.WechatyTransport("acc", puppet_factory=Silent, qr_printer=None, login_timeout=0.2)
    with pytest.raises(wt.WechatyStartError) as info:
        await transport.start(Recorder())
    assert "没有登录微信" in str(info.value)


def test_helpers() -> None:
    assert strip_mention("@支部助手\u2005 帮助", ["支部助手"]) == ("帮助", True)
    assert strip_mention("@支部助手", ["支部助手"]) == ("", True)
    assert strip_mention("@支部 (a) 帮助", ["支部 (a)"]) == ("帮助", True)  # regex-escaped
    assert wt.to_datetime(1_700_000_000_000) == wt.to_datetime(1_700_000_000)
    assert wt.parse_endpoint("grpc://127.0.0.1:8788") == ("127.0.0.1", 8788)
    with pytest.raises(ValueError):
        wt.parse_endpoint("localhost")
    assert wt.looks_like_web_ids("@abc") and not wt.looks_like_web_ids("wxid_abc")
    assert wt.message_kind(sdk.MessageType.MESSAGE_TYPE_URL) == MessageKind.LINK
    assert wt.message_kind(999) == MessageKind.OTHER


def test_bad_endpoint_is_a_clear_error() -> None:
    with pytest.raises(wt.WechatyStartError, match="微信网关地址无效"):
        wt.WechatyTransport("acc", "no-port-here", "t")


def test_build_transports_from_settings() -> None:
    settings = Settings.model_validate({"wechaty": {
        "endpoint": "127.0.0.1:8788", "token": "a", "bot_name": "小助手", "connect_retries": 2,
        "accounts": [{"name": "east", "endpoint": "10.0.0.2:8788", "token": "b"}],
    }})
    transports = wt.build_wechaty_transports(settings)
    assert [(t.account, t.endpoint) for t in transports] == [("default", "127.0.0.1:8788"), ("east", "10.0.0.2:8788")]
    assert transports[0].bot_name == "小助手" and transports[0].connect_retries == 2
    with pytest.raises(wt.WechatyStartError, match="未配置微信网关"):
        wt.build_wechaty_transports(Settings())
    assert wt.build_wechaty_transports(Settings(), required=False) == []


def test_compat_shims() -> None:
    import urllib3

    import wechaty_puppet  # noqa: F401  (importable after the shims)
    from wechaty_puppet.schemas.puppet import PuppetOptions

    assert PuppetOptions.__hash__ is not None
    assert urllib3.get_host("https://example.com:8443/x") == ("https", "example.com", 8443)
    import telnetlib

    assert hasattr(telnetlib.Telnet, "open")
    import os

    assert os.environ.get("CACHE_DIR")  # the SDK's cache is not written into the working directory


def test_gateway_fixture_skips_locally_but_fails_in_ci(monkeypatch, tmp_path) -> None:
    import conftest_gateway

    monkeypatch.setattr(conftest_gateway, "GATEWAY_DIR", tmp_path)  # no node_modules here
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        conftest_gateway.require_gateway()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        conftest_gateway.require_gateway()
