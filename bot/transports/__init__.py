"""Chat platform adapters. Only this package knows which platform is behind a message."""
from bot.transports.base import (
    Address,
    ChatGone,
    EventSink,
    Incoming,
    LoggedIn,
    MemberInfo,
    MessageKind,
    RateLimited,
    RoomInfo,
    RoomJoined,
    RoomLeft,
    RoomTopicChanged,
    Transport,
    TransportError,
)

__all__ = [
    "Address", "ChatGone", "EventSink", "Incoming", "LoggedIn", "MemberInfo", "MessageKind",
    "RateLimited", "RoomInfo", "RoomJoined", "RoomLeft", "RoomTopicChanged", "Transport",
    "TransportError",
]
