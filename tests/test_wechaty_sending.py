"""Sending through the Wechaty transport in-process (FakePuppet): mentions are best effort,
a chat is gone only when the platform confirms it, remarks only for the account's friends."""
from __future__ import annotations

import pytest

from bot.transports.base import Address, ChatGone, NotAFriend, NotConnected, TransportError
from bot.transports import wechaty as wt
from conftest_gateway import Recorder
from wechaty_fake import FixedFakePuppet

BOT = "wxid_bot"
ROOM = "r1@chatroom"


@pytest.fixture
async def world():
    puppet = FixedFakePuppet(self_name="支部助手", self_id=BOT)
    puppet.add_contact("wxid_wang", "王书记")
    puppet.add_contact("wxid_li", "李阿姨")
    puppet.add_contact("wxid_zhao", "赵师傅")
    puppet.add_contact("wxid_stranger", "群友", friend=False)
    puppet.add_room(ROOM, "幸福小区1号楼", ["wxid_wang", "wxid_li"])
    transport = wt.WechatyTransport("acc", puppet_factory=lambda: puppet, qr_printer=None, health_interval=3600)
    await transport.start(Recorder())
    try:
        yield puppet, transport
    finally:
        await transport.stop()


async def test_a_mention_that_cannot_be_loaded_is_dropped_and_the_text_still_sent(world) -> None:
    puppet, transport = world
    puppet.get_fake_room(ROOM).member_ids.append("wxid_left_already")  # listed, but no contact behind it
    await transport.send_text(Address("group", ROOM), "请评价", ["wxid_li", "wxid_left_already"])
    [sent] = puppet.sent
    assert sent["mention_ids"] == ["wxid_li"] and sent["text"].endswith("请评价")


async def test_a_person_with_two_ids_is_mentioned_by_the_one_in_the_room(world) -> None:
    puppet, transport = world
    await transport.send_text(Address("group", ROOM), "已受理", ["wxid_zhao", "wxid_wang"])
    [sent] = puppet.sent
    assert sent["mention_ids"] == ["wxid_wang"]


async def test_a_not_found_send_to_a_room_the_bot_is_still_in_is_retried_not_gone(world) -> None:
    puppet, transport = world
    puppet.fail_next.append(RuntimeError("no payload found for contact wxid_ghost"))
    with pytest.raises(TransportError) as info:
        await transport.send_text(Address("group", ROOM), "x")
    assert not isinstance(info.value, ChatGone)


async def test_a_room_the_bot_was_removed_from_is_gone_after_a_fresh_lookup(world) -> None:
    puppet, transport = world
    puppet.get_fake_room(ROOM).member_ids.remove(BOT)  # removed while no event reached us
    with pytest.raises(ChatGone):
        await transport.send_text(Address("group", ROOM), "x")


async def test_a_send_without_a_connection_is_not_connected() -> None:
    transport = wt.WechatyTransport("acc", "127.0.0.1:1", "t")
    with pytest.raises(NotConnected):
        await transport.send_text(Address("group", ROOM), "x")


@pytest.mark.parametrize("contact_id", ["wxid_unknown", "wxid_stranger"])
async def test_no_remark_is_written_for_an_id_that_is_not_a_friend(world, monkeypatch, contact_id) -> None:
    puppet, transport = world
    calls = []
    original = puppet.contact_alias

    async def spy(cid, alias=None):  # noqa: ANN001
        calls.append((cid, alias))
        return await original(cid, alias)

    monkeypatch.setattr(puppet, "contact_alias", spy)
    with pytest.raises(NotAFriend):  # a TransportError: the caller records no marker
        await transport.set_alias(contact_id, "某人#zb3")
    await transport.set_alias("wxid_li", "李阿姨#zb9")
    assert calls == [("wxid_li", "李阿姨#zb9")]  # the gateway was never asked about the other id
