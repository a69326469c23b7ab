"""The local web chat: a browser page that stands in for WeChat groups (no account needed).

Anyone on the page picks who they are (a sample person, or a new resident by name) and chats
in a group or privately with the bot; replies arrive live over a websocket.

The page can speak as anyone, and its state holds the roster and private chats, so: the
websocket only accepts pages of this server (Origin), and outside the demo (``require_login``)
the state and the websocket need a dashboard administrator's login. A browser message is
shown only after the dispatcher stored it, so nothing on screen can be lost by a crash.
"""
from __future__ import annotations

import asyncio
import ipaddress
import itertools
import json
import logging
from collections import defaultdict, deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from sqlalchemy import select

from bot.texts import simulator as T
from bot.transports.base import Address, EventSink, Incoming, MemberInfo, RoomInfo
from bot.transports.mentions import strip_mention
from bot.web.auth import principal_from_session

log = logging.getLogger(__name__)
PAGE = Path(__file__).with_name("simulator_page.html")
HISTORY = 200
MAX_TEXT = 100_000


def _addressed_directly(request: web.Request) -> bool:
    """The demo page is asked for by IP address or ``localhost``, never by a domain name: a site
    whose name is re-pointed at 127.0.0.1 (DNS rebinding) must not read the demo's chats."""
    host = request.url.host or ""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class NotStored(Exception):
    """The bot could not store a browser message: it is not shown as sent."""


def chat_key(address: Address) -> str:
    return f"{address.kind}:{address.platform_id}"


class SimulatorTransport:
    # The web chat's sends end in this process (its pages): the outbox may batch them.
    delivers_in_process = True

    def __init__(self, account: str = "sim", bot_name: str = "支部助手", *, require_login: bool = False) -> None:
        self.account = account
        self.bot_name = bot_name
        self.require_login = require_login
        self.sink: EventSink | None = None
        self.clients: set[web.WebSocketResponse] = set()
        self.history: dict[str, deque] = defaultdict(lambda: deque(maxlen=HISTORY))
        self._ids = itertools.count(1)
        # Held while a browser message is stored and echoed, so a reply never shows before it.
        self._chat_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # ------------------------------------------------------------------ Transport
    async def start(self, sink: EventSink) -> None:
        self.sink = sink

    async def stop(self) -> None:
        for ws in list(self.clients):
            await ws.close()
        self.sink = None

    async def send_text(self, to: Address, text: str, mention_ids: Sequence[str] = ()) -> str | None:
        message_id = f"sim-out-{next(self._ids)}"
        key = chat_key(to)
        async with self._chat_locks[key]:
            await self._publish(key, {"from": self.bot_name, "from_id": "bot", "text": text,
                                      "mentions": list(mention_ids), "bot": True})
        return message_id

    async def room_list(self) -> list[RoomInfo]:
        return [RoomInfo(g["id"], g["topic"]) for g in (await self.directory())["groups"]]

    async def room_members(self, room_id: str) -> list[MemberInfo]:
        return []

    async def set_alias(self, contact_id: str, alias: str) -> None:
        return None

    # ------------------------------------------------------------------ web
    def routes(self) -> list[web.RouteDef]:
        return [web.get("/", self.page), web.get("/sim/state", self.state), web.get("/sim/ws", self.websocket)]

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE.read_text(encoding="utf-8"), content_type="text/html")

    async def directory(self) -> dict[str, Any]:
        """Groups of this account and people with a chat identity here, from the database."""
        from bot.models import ChatGroup, Compound, Identity, Person

        sessions = getattr(self.sink, "sessions", None)
        if sessions is None:
            return {"groups": [], "people": []}
        async with sessions() as session:
            groups = (await session.execute(
                select(ChatGroup.platform_id, ChatGroup.topic, Compound.name)
                .outerjoin(Compound, Compound.id == ChatGroup.compound_id)
                .where(ChatGroup.account == self.account, ChatGroup.active.is_(True))
                .order_by(ChatGroup.id))).all()
            people = (await session.execute(
                select(Identity.platform_id, Person).join(Person, Person.id == Identity.person_id)
                .where(Identity.account == self.account, Person.on_roster.is_(True))
                .order_by(Person.id))).all()
        from bot.roles import role_label

        return {
            "groups": [{"id": pid, "topic": topic, "compound": compound or "（未绑定）"} for pid, topic, compound in groups],
            "people": [{"id": pid, "name": p.name,
                        "roles": "、".join(sorted({role_label(r.name) for r in p.roles})) or "居民"}
                       for pid, p in people],
        }

    async def _allowed(self, request: web.Request) -> bool:
        """Demo: anyone who reaches the (loopback) page by address. Otherwise: a dashboard administrator."""
        if not self.require_login:
            return _addressed_directly(request)
        try:
            user = await principal_from_session(request)
        except KeyError:  # the dashboard is not mounted on this server
            return False
        return user is not None and user.is_admin

    @staticmethod
    def _same_origin(request: web.Request) -> bool:
        """Browsers always send Origin on a websocket: another site's page must not speak here."""
        origin = request.headers.get("Origin")
        return bool(origin) and origin != "null" and urlsplit(origin).netloc == request.host

    async def state(self, request: web.Request) -> web.Response:
        if not await self._allowed(request):
            return web.json_response({"error": "login_required", "text": T.LOGIN_REQUIRED,
                                      "login": "/dashboard/login"}, status=401)
        data = await self.directory()
        data["history"] = {key: list(items) for key, items in self.history.items()}
        data["bot_name"] = self.bot_name
        return web.json_response(data)

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not self._same_origin(request):
            raise web.HTTPForbidden(text=T.BAD_ORIGIN)
        if not await self._allowed(request):
            raise web.HTTPUnauthorized(text=T.LOGIN_REQUIRED)
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=4 * MAX_TEXT)
        await ws.prepare(request)
        self.clients.add(ws)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    await self._from_browser(json.loads(msg.data))
                except (ValueError, KeyError, TypeError) as exc:
                    await ws.send_json({"type": "error", "text": T.UNREADABLE.format(error=exc)})
                except NotStored:
                    await ws.send_json({"type": "error", "text": T.NOT_STORED})
        finally:
            self.clients.discard(ws)
        return ws

    async def _from_browser(self, data: dict[str, Any]) -> None:
        kind, _, target = str(data["chat"]).partition(":")
        sender_id = str(data["sender_id"])[:128]
        sender_name = str(data.get("sender_name") or sender_id)[:64]
        text = str(data.get("text", ""))[:MAX_TEXT]
        if kind not in ("group", "person") or not target or not sender_id:
            raise ValueError("chat 或 sender_id 缺失")
        # In a private chat the conversation is keyed by the person, like WeChat's contact.
        key = f"group:{target}" if kind == "group" else f"person:{sender_id}"
        topic = None
        if kind == "group":
            topic = next((g["topic"] for g in (await self.directory())["groups"] if g["id"] == target), target)
        # Like WeChat's transport: the bot's @mention is noted and removed from the text.
        text, mentioned = strip_mention(text, [self.bot_name])
        incoming = Incoming(
            account=self.account, message_id=f"sim-in-{datetime.now().timestamp()}-{next(self._ids)}",
            sender_id=sender_id, sender_name=sender_name, text=text, sent_at=datetime.now(timezone.utc),
            chat_id=target if kind == "group" else None, chat_topic=topic,
            mentions_bot=mentioned,
        )
        if self.sink is None:
            raise NotStored
        async with self._chat_locks[key]:
            try:
                # Stores the message, then acts on it; a handler's failure is recorded with the
                # message (it is stored), only a failure to store raises here.
                await self.sink.on_message(incoming)
            except Exception as exc:
                log.exception("simulator message %s was not stored", incoming.message_id)
                raise NotStored from exc
            await self._publish(key, {"from": sender_name, "from_id": sender_id, "text": text, "bot": False})

    async def _publish(self, key: str, item: dict[str, Any]) -> None:
        item = {**item, "chat": key, "at": datetime.now(timezone.utc).isoformat()}
        self.history[key].append(item)
        for ws in list(self.clients):
            try:
                await ws.send_json({"type": "message", **item})
            except (ConnectionResetError, RuntimeError):
                self.clients.discard(ws)
