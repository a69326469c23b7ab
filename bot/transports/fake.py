"""An in-process transport for tests and the test kit: records every send."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Sequence

from bot.transports.base import (
    Address, ChatGone, EventSink, Incoming, MediaUnavailable, MemberInfo, NotConnected, RateLimited, RoomInfo,
    TransportError,
)


@dataclass(frozen=True)
class SentText:
    to: Address
    text: str
    mention_ids: tuple[str, ...]
    at: datetime
    message_id: str = ""  # the platform id returned by send_text (what a quote refers to)


@dataclass
class FakeTransport:
    """Delivers nothing anywhere; tests read ``sent`` and can script failures."""

    account: str = "sim"
    # Sends end in this process's memory: the outbox may hand it claimed rows in batches.
    delivers_in_process: bool = True
    now: Callable[[], datetime] | None = None
    sent: list[SentText] = field(default_factory=list)
    # Scripted failures: platform id → exception to raise on the next sends to it.
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    rooms: dict[str, RoomInfo] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    sink: EventSink | None = None
    # False simulates a gateway outage: every send raises NotConnected until ``reconnect()``.
    connected: bool = True
    # Attachments by platform message id (the test kit puts a photo's bytes here).
    media: dict[str, bytes] = field(default_factory=dict)
    _counter: int = 0

    async def start(self, sink: EventSink) -> None:
        self.sink = sink

    async def stop(self) -> None:
        self.sink = None

    async def send_text(self, to: Address, text: str, mention_ids: Sequence[str] = ()) -> str | None:
        if not self.connected:
            raise NotConnected("gateway disconnected")
        if to.platform_id in self.gone:
            raise ChatGone(f"{to.platform_id} gone")
        queued = self.failures.get(to.platform_id)
        if queued:
            raise queued.pop(0)
        self._counter += 1
        message_id = f"out-{self._counter}"
        self.sent.append(SentText(to, text, tuple(mention_ids), self.now() if self.now else datetime.now(),
                                  message_id))
        return message_id

    def disconnect(self) -> None:
        """Simulate a lost gateway connection (nothing is attempted until ``reconnect``)."""
        self.connected = False

    def reconnect(self) -> None:
        self.connected = True

    def fail_next(self, platform_id: str, error: Exception | None = None, times: int = 1) -> None:
        self.failures.setdefault(platform_id, []).extend(
            [error or TransportError("network error")] * times)

    def rate_limit_next(self, platform_id: str, retry_after: float | None = None) -> None:
        self.failures.setdefault(platform_id, []).append(RateLimited("发送消息过于频繁", retry_after))

    async def fetch_media(self, incoming: Incoming, max_bytes: int) -> bytes:
        data = self.media.get(incoming.message_id)
        if data is None:
            raise MediaUnavailable(f"no media for {incoming.message_id}")
        if len(data) > max_bytes:
            raise MediaUnavailable(f"{len(data)} bytes > {max_bytes}")
        return data

    async def room_list(self) -> list[RoomInfo]:
        return list(self.rooms.values())

    async def room_members(self, room_id: str) -> list[MemberInfo]:
        return []

    async def set_alias(self, contact_id: str, alias: str) -> None:
        self.aliases[contact_id] = alias
