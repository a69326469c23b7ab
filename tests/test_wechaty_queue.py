"""Nothing residents say is lost while the bot is away: the gateway holds events until the
bot acknowledges them, and the bot is back within seconds of the gateway (real Node gateway)."""
from __future__ import annotations

import asyncio
import logging

import pytest

from bot.transports.base import Address, Incoming, LoggedIn
from bot.transports.wechaty import WechatyTransport
from conftest_gateway import GATEWAY_TOKEN, STANDARD_WORLD, Gateway, Recorder, gateway_factory  # noqa: F401

pytestmark = pytest.mark.gateway


def make_transport(gw: Gateway, **kwargs) -> WechatyTransport:
    options = dict(qr_printer=None, retry_base=0.1, retry_max=0.5, connect_retries=3, health_interval=2.0,
                   login_timeout=10.0, probe_interval=0.2)
    options.update(kwargs)
    return WechatyTransport("default", gw.endpoint, GATEWAY_TOKEN, **options)


class Stuck(Recorder):
    """A bot that received a message and died before storing it (never returns)."""

    def __init__(self) -> None:
        super().__init__()
        self.got = asyncio.Event()

    async def on_message(self, incoming: Incoming) -> None:
        self.got.set()
        await asyncio.Event().wait()


def ids(sink: Recorder) -> list[str]:
    return [m.message_id for m in sink.of(Incoming)]


async def test_messages_sent_while_no_bot_is_connected_arrive_when_it_connects(gateway_factory) -> None:
    gw = gateway_factory(STANDARD_WORLD)
    first = make_transport(gw)
    await first.start(Recorder())
    await first.stop()
    said = [gw.say("li", "楼道灯坏了", room="r1"), gw.say("wang", "我的身份"), gw.say("zhao", "你好")]
    sink = Recorder()
    second = make_transport(gw)
    await second.start(sink)
    try:
        await sink.wait_for(Incoming, 3, timeout=10)
        assert ids(sink) == said
        assert isinstance(sink.events[0], LoggedIn)  # the login comes first
    finally:
        await second.stop()


async def test_an_event_the_bot_did_not_acknowledge_is_replayed_at_its_next_connect(gateway_factory) -> None:
    gw = gateway_factory(STANDARD_WORLD)
    stuck = Stuck()
    first = make_transport(gw)
    await first.start(stuck)
    mid = gw.say("li", "电梯困人了", room="r1")
    await asyncio.wait_for(stuck.got.wait(), 10)
    await first.stop()  # killed before it stored the message: no acknowledgement
    sink = Recorder()
    second = make_transport(gw)
    await second.start(sink)
    try:
        await sink.wait_for(Incoming, timeout=10)
        assert ids(sink) == [mid]
        await gw.wait_queue(lambda pending: pending == [])  # acknowledged this time
    finally:
        await second.stop()


async def test_an_acknowledged_event_is_not_replayed(gateway_factory) -> None:
    gw = gateway_factory(STANDARD_WORLD)
    sink = Recorder()
    first = make_transport(gw)
    await first.start(sink)
    handled = gw.say("li", "已经收到的", room="r1")
    await sink.wait_for(Incoming, timeout=10)
    await gw.wait_queue(lambda pending: pending == [])
    await first.stop()
    later = Recorder()
    second = make_transport(gw)
    await second.start(later)
    try:
        fresh = gw.say("li", "新的一条", room="r1")
        await later.wait_for(Incoming, timeout=10)
        await later.settle()
        assert ids(later) == [fresh] and handled not in ids(later)
    finally:
        await second.stop()


async def test_a_killed_gateway_is_reconnected_within_seconds_and_nothing_said_meanwhile_is_lost(
        gateway_factory) -> None:
    gw = gateway_factory(STANDARD_WORLD)
    sink = Recorder()
    # An hour's backoff: only the port probe can bring the bot back at all (the waits below
    # only guard against a hang; the behaviour, not the machine's speed, is asserted).
    transport = make_transport(gw, retry_base=3600.0, retry_max=3600.0, probe_interval=0.2)
    await transport.start(sink)
    try:
        gw.stop(hard=True)
        while transport.status.connected:
            await asyncio.sleep(0.05)
        gw.start()
        said = [gw.say("li", f"停电了 {i}", room="r1") for i in range(3)]

        async def reconnected() -> None:
            while not (transport.connected and transport.status.reconnects >= 1):
                await asyncio.sleep(0.05)

        await asyncio.wait_for(reconnected(), timeout=120)
        await sink.wait_for(Incoming, 3, timeout=60)
        assert set(ids(sink)) == set(said)
    finally:
        await transport.stop()


async def test_the_token_never_appears_in_the_logs_of_a_failed_reconnect(gateway_factory, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    gw = gateway_factory(STANDARD_WORLD, token="zhibu-secret-gateway-token-1")
    transport = WechatyTransport("default", gw.endpoint, gw.token, qr_printer=None, retry_base=0.1,
                                 retry_max=0.2, health_interval=2.0, login_timeout=10.0, probe_interval=0.1)
    await transport.start(Recorder())
    try:
        gw.stop(hard=True)
        gw.token = "a-different-token"
        gw.start()
        while transport.reconnect_failures < 2:
            await asyncio.sleep(0.05)
    finally:
        await transport.stop()
    assert "Invalid Wechaty TOKEN" in caplog.text  # the refusal itself is logged
    assert "zhibu-secret-gateway-token-1" not in caplog.text


async def test_the_gateway_holds_at_most_its_bound_and_what_it_dropped_stays_dropped(gateway_factory) -> None:
    gw = gateway_factory(STANDARD_WORLD, options={"queue-max-events": 2})
    said = [gw.say("li", f"第{i}条", room="r1") for i in range(3)]  # no bot connected yet
    sink = Recorder()
    transport = make_transport(gw)
    await transport.start(sink)
    await sink.wait_for(Incoming, 2, timeout=10)
    await gw.wait_queue(lambda pending: pending == [])
    await transport.stop()
    assert ids(sink) == said[1:]  # the newest two
    gw.restart(hard=True)
    later = Recorder()
    transport = make_transport(gw)
    await transport.start(later)
    try:
        fresh = gw.say("li", "新的一条", room="r1")
        await later.wait_for(Incoming, timeout=10)
        await later.settle()
        assert ids(later) == [fresh]  # the dropped one does not come back after a restart
    finally:
        await transport.stop()
