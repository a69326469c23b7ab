"""The Wechaty SDK, loaded and adapted: the only module that imports ``wechaty``, its
``wechaty_puppet*`` packages, ``grpclib`` and ``betterproto`` (``compat`` patches them first).

What is adapted, and why, is told in ``transport``'s docstring: ``ZhibuPuppetService`` (no
``stop`` before ``start``, tolerant of the newer gateway's events, the alias on the field the
1.x gateway reads) and ``_SessionWechaty`` (user classes with pools of their own, no plugin
server). The rest of the package takes the SDK's names from here.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from bot.transports.wechaty import compat
from bot.transports.wechaty.errors import _NotGateway, _Unreachable
from bot.transports.wechaty.redaction import tame_sdk_loggers

compat.apply()

_loggers_before = set(logging.root.manager.loggerDict)

import betterproto  # noqa: E402
from grpclib.const import Status  # noqa: E402
from grpclib.exceptions import GRPCError  # noqa: E402
from wechaty import Wechaty, WechatyOptions  # noqa: E402
from wechaty.user import Contact, ContactSelf, Favorite, Friendship, Image, Message  # noqa: E402
from wechaty.user import MiniProgram, Room, RoomInvitation, Tag, UrlLink  # noqa: E402
from wechaty_puppet import (  # noqa: E402
    EventDongPayload,
    EventErrorPayload,
    EventFriendshipPayload,
    EventHeartbeatPayload,
    EventLoginPayload,
    EventLogoutPayload,
    EventMessagePayload,
    EventReadyPayload,
    EventRoomInvitePayload,
    EventRoomJoinPayload,
    EventRoomLeavePayload,
    EventRoomTopicPayload,
    EventScanPayload,
    MessagePayload,
    MessageType,
    Puppet,
    PuppetOptions,
    RoomPayload,
    ScanStatus,
)
from wechaty_puppet.file_box.type import FileBoxType  # noqa: E402
from wechaty_puppet_service import PuppetService  # noqa: E402
from pyee import AsyncIOEventEmitter  # noqa: E402  (pyee.asyncio's, via compat)
from wechaty_grpc.wechaty.puppet import EventType  # noqa: E402

tame_sdk_loggers(set(logging.root.manager.loggerDict) - _loggers_before)

__all__ = [
    "Contact", "EventErrorPayload", "EventFriendshipPayload", "EventLoginPayload", "EventRoomInvitePayload",
    "EventRoomJoinPayload", "EventRoomLeavePayload", "EventRoomTopicPayload", "EventScanPayload",
    "FileBoxType", "GRPCError", "MessagePayload", "MessageType", "Puppet", "PuppetOptions", "Room",
    "RoomPayload", "ScanStatus", "Status", "WechatyOptions", "ZhibuPuppetService", "_SessionWechaty",
]

log = logging.getLogger("bot.transports.wechaty")


@dataclass(eq=False, repr=False)
class _ContactAliasRequest(betterproto.Message):
    """ContactAlias request understood by both gateway generations: 0.x reads the wrapped
    alias (field 2), 1.x reads ``optional string alias = 3`` (the 0.20 SDK sends only 2,
    which a 1.x gateway takes for a *get*)."""

    id: str = betterproto.string_field(1)
    alias_wrapped: Optional[str] = betterproto.message_field(2, wraps=betterproto.TYPE_STRING)
    alias: str = betterproto.string_field(3)


@dataclass(eq=False, repr=False)
class _ContactAliasResponse(betterproto.Message):
    alias_wrapped: Optional[str] = betterproto.message_field(1, wraps=betterproto.TYPE_STRING)
    alias: str = betterproto.string_field(2)


def _payload_json(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class ZhibuPuppetService(PuppetService):
    """``PuppetService`` for a long-running bot talking to a 0.x or 1.x gateway."""

    def __init__(self, options: PuppetOptions, name: str = "puppet_service",
                 handshake_timeout: float = 5.0) -> None:
        # Not PuppetService.__init__: it re-reads the endpoint and token from the environment
        # and warns at every connect ("two endpoints from options and environment", with the
        # token in the text). The transport always passes both explicitly.
        Puppet.__init__(self, options, name)
        self.channel = None
        self._puppet_stub = None
        self._event_stream = AsyncIOEventEmitter()
        self.login_user_id = None
        self.handshake_timeout = handshake_timeout
        # Sequence number of the gateway event being emitted (None from gateways without a
        # durable queue): listeners read it synchronously to acknowledge the event later.
        self.event_seq: Optional[int] = None

    async def start(self) -> None:
        """Connect, check that a Wechaty gateway answers, ask it to start its puppet, then
        read events until the stream ends.

        The stock client first calls the gateway's ``stop``, which logs a real account out
        (and may need a new QR scan) each time the bot reconnects: skipped here. A gateway
        whose puppet is already logged in replays ``login`` to a new event stream.
        """
        self._init_puppet()
        await self._handshake()
        await self.puppet_stub.start()
        await self._listen_for_event()

    async def _handshake(self) -> None:
        """One cheap call (``version``): a wrong token is refused here, and an endpoint that
        accepts TCP but is no gateway (a web server, another service) is told apart from a
        gateway still waiting for its login."""
        try:
            await asyncio.wait_for(self.puppet_stub.version(), timeout=self.handshake_timeout)
        except GRPCError as exc:
            if exc.status == Status.UNIMPLEMENTED:
                raise _NotGateway(f"gRPC {exc.status.name}: {exc.message or ''}".strip()) from None
            raise
        except asyncio.TimeoutError:
            raise _NotGateway(f"no gRPC answer within {self.handshake_timeout:.0f}s") from None
        except (ConnectionError, OSError) as exc:
            raise _Unreachable(f"{type(exc).__name__}: {exc}") from None
        except Exception as exc:  # noqa: BLE001  (h2 / grpclib protocol errors: not gRPC at all)
            raise _NotGateway(f"{type(exc).__name__}: {exc}") from None

    async def ack(self, seqs: Sequence[int]) -> None:
        """Tell the gateway these events are stored: it drops them from its durable queue.
        Sent through ``ding`` (the same authenticated channel); other gateways ignore it."""
        await self.puppet_stub.ding(data="zhibu-ack:" + ",".join(str(s) for s in seqs))

    async def stop(self) -> None:
        """Close the connection only: the gateway keeps the account logged in for the next start."""
        self._event_stream.remove_all_listeners()
        self._puppet_stub = None
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    async def contact_alias(self, contact_id: str, alias: Optional[str] = None) -> str:
        request = _ContactAliasRequest(id=contact_id)
        if alias is not None:
            request.alias_wrapped = alias
            request.alias = alias
        response = await self.puppet_stub._unary_unary(  # noqa: SLF001
            "/wechaty.Puppet/ContactAlias", request, _ContactAliasResponse
        )
        return response.alias or response.alias_wrapped or ""

    async def _listen_for_event(self) -> None:
        """Like the SDK's, but one odd payload (the 1.x gateway sends ``{"gerror": …}`` errors,
        ``dirty`` events, …) is logged and skipped instead of ending the connection."""
        async for response in self.puppet_stub.event():
            if response is None:
                continue
            try:
                self._dispatch_event(int(response.type), _payload_json(response.payload))
            except Exception:  # noqa: BLE001
                log.warning("skipped an unreadable gateway event (type %s): %r",
                            response.type, response.payload[:200], exc_info=True)

    def _dispatch_event(self, kind: int, data: dict[str, Any]) -> None:
        seq = data.get("zhibuSeq")
        self.event_seq = seq if isinstance(seq, int) else None
        try:
            self._emit_event(kind, data)
        finally:
            self.event_seq = None

    def _emit_event(self, kind: int, data: dict[str, Any]) -> None:
        emit = self._event_stream.emit
        if kind == EventType.EVENT_TYPE_MESSAGE:
            emit("message", EventMessagePayload(message_id=data["messageId"]))
        elif kind == EventType.EVENT_TYPE_LOGIN:
            self.login_user_id = data.get("contactId")
            emit("login", EventLoginPayload(contact_id=data["contactId"]))
        elif kind == EventType.EVENT_TYPE_LOGOUT:
            self.login_user_id = None
            emit("logout", EventLogoutPayload(contact_id=data.get("contactId", ""),
                                              data=str(data.get("data", ""))))
        elif kind == EventType.EVENT_TYPE_SCAN:
            emit("scan", EventScanPayload(status=ScanStatus(int(data.get("status", 0))),
                                          qrcode=data.get("qrcode"), data=data.get("data")))
        elif kind == EventType.EVENT_TYPE_ROOM_JOIN:
            emit("room-join", EventRoomJoinPayload(
                invited_ids=list(data.get("inviteeIdList") or []), inviter_id=data.get("inviterId", ""),
                room_id=data.get("roomId", ""), timestamp=data.get("timestamp") or 0))
        elif kind == EventType.EVENT_TYPE_ROOM_LEAVE:
            emit("room-leave", EventRoomLeavePayload(
                removed_ids=list(data.get("removeeIdList") or []), remover_id=data.get("removerId", ""),
                room_id=data.get("roomId", ""), timestamp=data.get("timestamp") or 0))
        elif kind == EventType.EVENT_TYPE_ROOM_TOPIC:
            emit("room-topic", EventRoomTopicPayload(
                changer_id=data.get("changerId", ""), new_topic=data.get("newTopic", ""),
                old_topic=data.get("oldTopic", ""), room_id=data.get("roomId", ""),
                timestamp=data.get("timestamp") or 0))
        elif kind == EventType.EVENT_TYPE_ROOM_INVITE:
            emit("room-invite", EventRoomInvitePayload(room_invitation_id=data.get("roomInvitationId", "")))
        elif kind == EventType.EVENT_TYPE_FRIENDSHIP:
            emit("friendship", EventFriendshipPayload(friendship_id=data.get("friendshipId", "")))
        elif kind == EventType.EVENT_TYPE_ERROR:
            detail = data.get("gerror") or data.get("data") or json.dumps(data, ensure_ascii=False)
            emit("error", EventErrorPayload(data=str(detail)))
        elif kind == EventType.EVENT_TYPE_HEARTBEAT:
            emit("heartbeat", EventHeartbeatPayload(data=str(data.get("data", ""))))
        elif kind == EventType.EVENT_TYPE_DONG:
            emit("dong", EventDongPayload(data=str(data.get("data", ""))))
        elif kind == EventType.EVENT_TYPE_READY:
            emit("ready", EventReadyPayload(data=str(data.get("data", ""))))
        # dirty, reset, unspecified: nothing to do for this client


class _NoPlugins:
    """Stands in for the SDK's plugin manager (a Quart server on 0.0.0.0:5000 and a scheduler)."""

    async def start(self) -> None:
        return None

    async def emit_events(self, *_: Any, **__: Any) -> None:
        return None


class _SessionWechaty(Wechaty):
    """A ``Wechaty`` whose user classes (Room, Contact, …) have pools of their own."""

    def __init__(self, options: WechatyOptions) -> None:
        super().__init__(options)
        self._plugin_manager = _NoPlugins()  # type: ignore[assignment]

    async def init_puppet(self) -> None:
        self._puppet = self._load_puppet(self._options)

        def bind(base: type) -> type:
            namespace = dict(_puppet=self._puppet, _wechaty=self, abstract=False)
            if hasattr(base, "_pool"):
                namespace["_pool"] = {}
            return type(base.__name__, (base,), namespace)

        self.ContactSelf = bind(ContactSelf)
        self.Contact = bind(Contact)
        self.Favorite = bind(Favorite)
        self.Friendship = bind(Friendship)
        self.Image = bind(Image)
        self.Message = bind(Message)
        self.MiniProgram = bind(MiniProgram)
        self.UrlLink = bind(UrlLink)
        self.Room = bind(Room)
        self.RoomInvitation = bind(RoomInvitation)
        self.Tag = bind(Tag)
