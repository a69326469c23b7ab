"""The transport port: neutral events in, text out.

Everything outside ``bot/transports`` sees these types only, never a platform SDK.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol, Sequence, runtime_checkable


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"
    LINK = "link"
    EMOTICON = "emoticon"
    MINI_PROGRAM = "mini_program"
    SYSTEM = "system"
    OTHER = "other"
    RECALL = "recall"  # the sender withdrew (撤回) an earlier message: ``recalled_message_id``


@dataclass(frozen=True, slots=True)
class MediaRef:
    """An image/video/file attached to a message: what is known before downloading it.

    The bytes are fetched through the transport that delivered the message
    (``fetch_media``, an optional capability: Wechaty's FileBox, the fake transport's store).
    """

    name: str = ""
    mime: str = ""
    size: int | None = None  # bytes, when the platform says so (checked before downloading)


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message as the platform delivered it, platform details stripped.

    ``chat_id`` is the group (room) id for group messages and ``None`` for a private chat.
    ``sender_name`` is a display name: shown to people, never used to grant anything.
    """

    account: str
    message_id: str
    sender_id: str
    sender_name: str
    text: str
    sent_at: datetime
    chat_id: str | None = None
    chat_topic: str | None = None
    kind: MessageKind = MessageKind.TEXT
    mentions_bot: bool = False
    mention_ids: tuple[str, ...] = ()
    is_self: bool = False
    sender_alias: str | None = None
    # WeChat's 引用 (quote): the quoted message's platform id when the platform gives it, and
    # its text (shown to the sender as "「name：text」"); either may be missing.
    quoted_message_id: str | None = None
    quoted_text: str | None = None
    media: MediaRef | None = None  # kind IMAGE/VIDEO/FILE
    recalled_message_id: str | None = None  # kind RECALL: the platform id of the withdrawn message

    @property
    def is_group(self) -> bool:
        return self.chat_id is not None


@dataclass(frozen=True, slots=True)
class Address:
    """Where a text goes: a group (room) or a person (contact), by platform id."""

    kind: Literal["group", "person"]
    platform_id: str


@dataclass(frozen=True, slots=True)
class MemberInfo:
    platform_id: str
    name: str
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class RoomInfo:
    platform_id: str
    topic: str
    member_count: int = 0
    member_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoggedIn:
    account: str
    self_id: str
    name: str
    rooms: tuple[RoomInfo, ...] = ()
    ids_stable: bool = True  # False on web-protocol puppets whose ids change at each login


@dataclass(frozen=True, slots=True)
class RoomJoined:
    """Someone (possibly the bot itself) joined a room."""

    account: str
    room: RoomInfo
    members: tuple[MemberInfo, ...]
    bot_joined: bool
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoomLeft:
    """Someone left a room; ``bot_left`` when the bot was removed."""

    account: str
    room_id: str
    members: tuple[MemberInfo, ...]
    bot_left: bool
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoomTopicChanged:
    account: str
    room_id: str
    old_topic: str
    new_topic: str
    at: datetime | None = None


class StartupError(Exception):
    """A transport cannot start (gateway unreachable, token refused, …): the message is for the operator."""


class TransportError(Exception):
    """A send failed; the outbox retries it with backoff."""


class NotAFriend(TransportError):
    """A remark (alias) was asked for an id that is not a friend of the account (nothing was sent)."""


class RateLimited(TransportError):
    """The platform says we send too fast: the whole account pauses, not just this message."""

    def __init__(self, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChatGone(TransportError):
    """The group or contact is no longer reachable (bot removed, contact deleted): do not retry.

    Raised only when the platform confirms it (the room is missing after a fresh lookup, the
    contact is deleted), never because a mentioned person could not be loaded.
    """


class NotConnected(TransportError):
    """The transport has no live connection right now; nothing was attempted.

    The outbox keeps the row waiting without spending an attempt and sends it after the
    reconnect (a gateway outage must never turn into failed deliveries).
    """


@runtime_checkable
class EventSink(Protocol):
    """What a transport reports to (the bot application implements it)."""

    async def on_message(self, incoming: Incoming) -> None: ...
    async def on_login(self, event: LoggedIn) -> None: ...
    async def on_room_joined(self, event: RoomJoined) -> None: ...
    async def on_room_left(self, event: RoomLeft) -> None: ...
    async def on_room_topic(self, event: RoomTopicChanged) -> None: ...


@runtime_checkable
class Transport(Protocol):
    """A chat platform connection serving one bot account."""

    account: str

    async def start(self, sink: EventSink) -> None:
        """Connect, log in and begin delivering events to ``sink``; returns once serving."""

    async def stop(self) -> None: ...

    async def send_text(self, to: Address, text: str, mention_ids: Sequence[str] = ()) -> str | None:
        """Send a text; return the platform message id when known.

        Raises RateLimited, ChatGone or TransportError.
        """

    async def room_list(self) -> list[RoomInfo]: ...

    async def room_members(self, room_id: str) -> list[MemberInfo]: ...

    async def set_alias(self, contact_id: str, alias: str) -> None:
        """Set the contact's remark (a stable marker that survives id changes); may be a no-op."""

    # Optional capability (not part of the protocol check, so transports without media still
    # conform): ``async def fetch_media(self, incoming: Incoming, max_bytes: int) -> bytes``
    # returns the attachment of ``incoming`` and raises MediaUnavailable when it cannot.


class MediaUnavailable(Exception):
    """An attachment could not be fetched (expired, too large, the platform refused)."""


@dataclass
class TransportStatus:
    connected: bool = False
    logged_in_as: str | None = None
    last_error: str | None = None
    reconnects: int = 0
    extra: dict[str, str] = field(default_factory=dict)
