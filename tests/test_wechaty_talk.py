"""WeChat's own message forms through the real gateway (PuppetServer over puppet-mock): a quote
arrives split into reply and quoted text, a recall names the withdrawn message, an image
arrives as an image with a media handle.

puppet-mock cannot hand out an image's bytes (its messageImage returns a QR-code FileBox and
the control channel cannot attach a file), so the download itself is covered only as far as
``fetch_media`` refusing a box without a file."""
from __future__ import annotations

import pytest

from bot.transports.base import Incoming, MediaUnavailable, MessageKind
from conftest_gateway import Gateway, Recorder, gateway, gateway_factory  # noqa: F401  (fixtures)
from test_wechaty_gateway import make_transport

pytestmark = pytest.mark.gateway

RULE = "- - - - - - - - - - - - - - -"
# puppet-mock's (TypeScript) message types.
TS_IMAGE, TS_RECALLED = 6, 13


@pytest.fixture
async def bot(gateway: Gateway):
    sink = Recorder()
    transport = make_transport(gateway)
    await transport.start(sink)
    try:
        yield transport, sink
    finally:
        await transport.stop()


async def test_quote_arrives_as_reply_and_quoted_text(gateway: Gateway, bot) -> None:
    _transport, sink = bot
    gateway.say("li", f"「支部助手：收到，已转支部处理：工单 #0001（物业服务）。」\n{RULE}\n还没修好", room="r1")
    [msg] = await sink.wait_for(Incoming, timeout=5)
    assert msg.text == "还没修好" and msg.quoted_text.startswith("收到，已转支部处理：工单 #0001")


async def test_recall_names_the_withdrawn_message(gateway: Gateway, bot) -> None:
    _transport, sink = bot
    first = gateway.say("li", "楼道灯坏了", room="r1")
    await sink.wait_for(Incoming, timeout=5)
    gateway.say("li", first, room="r1", type=TS_RECALLED)
    msgs = await sink.wait_for(Incoming, count=2, timeout=5)
    recall = msgs[-1]
    assert recall.kind == MessageKind.RECALL and recall.recalled_message_id == first


async def test_image_arrives_with_a_media_handle_and_a_box_without_file_is_refused(gateway: Gateway, bot) -> None:
    transport, sink = bot
    gateway.say("li", "", room="r1", type=TS_IMAGE)
    [msg] = await sink.wait_for(Incoming, timeout=5)
    assert msg.kind == MessageKind.IMAGE and msg.media is not None
    with pytest.raises(MediaUnavailable):
        await transport.fetch_media(msg, 1_000_000)
