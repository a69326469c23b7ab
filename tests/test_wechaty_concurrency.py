"""The Wechaty transport's event handling (in-process, over the fixed FakePuppet): messages of
different conversations are handled at the same time, and every message reaches the sink in the
order the gateway sent it, however long fetching it took (the dispatcher keeps a conversation in
order from the moment ``on_message`` is entered, so the transport must not reorder before that).
"""
from __future__ import annotations

import asyncio

from bot.transports import wechaty as wt
from bot.transports.base import Incoming
from conftest_gateway import Recorder
from wechaty_fake import FixedFakePuppet
from test_wechaty_transport import BOT, ROOM, make_puppet

GUARD = 60  # seconds; only against a hang, nothing here is timed


class HoldingSink(Recorder):
    """Remembers the order messages entered ``on_message`` (synchronously, as the dispatcher
    takes a message's turn) and holds the messages of ``held_chat`` until released."""

    def __init__(self, held_chat: str | None = None) -> None:
        super().__init__()
        self.entered: list[str] = []
        self.held_chat = held_chat
        self.release = asyncio.Event()
        self.holding = 0

    async def on_message(self, incoming: Incoming) -> None:
        self.entered.append(incoming.message_id)
        if self.held_chat is not None and incoming.chat_id == self.held_chat:
            self.holding += 1
            await self.release.wait()
        await super().on_message(incoming)


class SlowFirstPuppet(FixedFakePuppet):
    """The first message's payload comes back only after the second's was fetched."""

    def __init__(self) -> None:
        super().__init__(self_name="支部助手", self_id=BOT)
        self.slow_id: str | None = None
        self.fast_fetched = asyncio.Event()

    async def message_payload(self, message_id: str):  # type: ignore[override]
        if message_id == self.slow_id:
            await self.fast_fetched.wait()
        elif self.slow_id is not None:
            self.fast_fetched.set()
        return await super().message_payload(message_id)


async def started(puppet: FixedFakePuppet, sink: Recorder, **options) -> wt.WechatyTransport:
    transport = wt.WechatyTransport("acc", puppet_factory=lambda: puppet, qr_printer=None,
                                    health_interval=3600, **options)
    await transport.start(sink)
    return transport


async def wait_until(check) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), GUARD)


async def test_a_conversation_the_bot_is_busy_with_does_not_hold_up_another() -> None:
    puppet = make_puppet()
    sink = HoldingSink(held_chat=ROOM)
    transport = await started(puppet, sink)
    try:
        puppet.inject_message("wxid_wang", "3号楼门口积水了", room_id=ROOM)
        await wait_until(lambda: sink.holding == 1)
        private = puppet.inject_message("wxid_li", "我的身份")
        [got] = await sink.wait_for(Incoming, timeout=GUARD)  # while the room's message is still held
        assert got.message_id == private and sink.holding == 1
        sink.release.set()
        await sink.wait_for(Incoming, 2, timeout=GUARD)
    finally:
        sink.release.set()
        await transport.stop()


async def test_messages_reach_the_sink_in_the_gateways_order_though_fetched_out_of_order() -> None:
    puppet = SlowFirstPuppet()
    for contact_id, name in (("wxid_wang", "王书记"), ("wxid_li", "李阿姨")):
        puppet.add_contact(contact_id, name)
    puppet.add_room(ROOM, "幸福小区1号楼", ["wxid_wang", "wxid_li"])
    sink = HoldingSink()
    transport = await started(puppet, sink)
    try:
        puppet.slow_id = "m-first"
        puppet.inject_message("wxid_li", "楼道灯坏了", room_id=ROOM, message_id="m-first")
        puppet.inject_message("wxid_li", "什么时候修？", room_id=ROOM, message_id="m-second")
        await sink.wait_for(Incoming, 2, timeout=GUARD)
        assert puppet.fast_fetched.is_set()  # the second really was fetched first
        assert sink.entered == ["m-first", "m-second"]
    finally:
        await transport.stop()


async def test_no_more_than_event_concurrency_messages_are_handled_at_once() -> None:
    puppet = make_puppet()
    sink = HoldingSink(held_chat=ROOM)
    transport = await started(puppet, sink, event_concurrency=2)
    try:
        for i in range(4):
            puppet.inject_message("wxid_wang", f"第{i}条", room_id=ROOM)
        await wait_until(lambda: sink.holding == 2)
        session = transport._session  # noqa: SLF001
        assert session is not None
        # The worker took the third event and waits for a free place; the fourth is queued.
        await wait_until(lambda: session.events.qsize() == 1)
        assert sink.holding == 2
        sink.release.set()
        await sink.wait_for(Incoming, 4, timeout=GUARD)
        assert sink.holding == 4
    finally:
        sink.release.set()
        await transport.stop()
