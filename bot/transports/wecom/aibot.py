"""The WeCom intelligent bot (智能机器人) in API callback mode, behind the Transport port.

WeCom calls our HTTPS callback when staff @-mention the bot in an internal group or write to
it privately. Each callback carries a ``response_url``: one active reply, valid for an hour.

* Inbound: the callback is verified and decrypted, deduplicated on ``msgid`` (WeCom repeats a
  callback it thinks went unanswered) and handed to the sink as an ``Incoming``. The HTTP
  answer waits until the dispatcher has stored (and usually handled) the message, at most
  ``ANSWER_WITHIN`` seconds, so WeCom does not resend a message we already hold.
* Outbound: a text to a chat goes through the oldest still-valid unused ``response_url`` of
  that chat. Without one, a private text goes through the self-built app's ``message/send``
  (when ``agent_id``/``agent_secret`` are configured); a group text cannot be sent (the
  intelligent bot has no other way into a group: use a group robot webhook for alerts).

User ids are namespaced (``wecom:<userid>``): the dispatcher links equal platform ids across
accounts to one person, and a WeCom userid must never be taken for a WeChat id.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence

from aiohttp import web

from bot.texts import wecom as T
from bot.transports.base import (
    Address, EventSink, Incoming, LoggedIn, MemberInfo, MessageKind, RateLimited, RoomInfo, TransportError,
)
from bot.transports.wecom.api import ERR_FREQUENCY, AccessToken, WecomApiError, WecomHttp
from bot.transports.wecom.crypto import CryptoError, WecomCrypto
from bot.transports.wecom.settings import WecomBot

log = logging.getLogger("bot.transports.wecom")

USER_PREFIX = "wecom:"
REPLY_URL_TTL = timedelta(hours=1)
ANSWER_WITHIN = 3.0   # WeCom waits ~5 s for the HTTP answer before it repeats the callback
SEEN_MAX = 10_000     # message ids remembered for deduplication

_KINDS = {"text": MessageKind.TEXT, "image": MessageKind.IMAGE, "voice": MessageKind.VOICE,
          "file": MessageKind.FILE, "video": MessageKind.VIDEO, "mixed": MessageKind.TEXT}


def user_platform_id(userid: str) -> str:
    return USER_PREFIX + userid


def userid_of(platform_id: str) -> str:
    return platform_id[len(USER_PREFIX):] if platform_id.startswith(USER_PREFIX) else platform_id


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _ReplyUrl:
    url: str
    expires: datetime


class AgentSender:
    """Private texts through a self-built app (``message/send``) when no reply URL is left."""

    def __init__(self, http: WecomHttp, api_base: str, corp_id: str, agent_id: int, secret: str) -> None:
        self._token = AccessToken(http, api_base, corp_id, secret)
        self._url = f"{api_base.rstrip('/')}/cgi-bin/message/send"
        self.agent_id = agent_id

    def __repr__(self) -> str:
        return f"AgentSender(agent_id={self.agent_id})"

    async def send(self, userid: str, text: str) -> str | None:
        data = await self._token.call("POST", self._url, body={
            "touser": userid, "msgtype": "text", "agentid": self.agent_id, "text": {"content": text}})
        return str(data.get("msgid") or "") or None


class WecomBotTransport:
    """One intelligent bot; account ``wecom:<name>``."""

    def __init__(self, config: WecomBot, *, http: WecomHttp, agent: AgentSender | None = None,
                 now: Callable[[], datetime] = _utcnow) -> None:
        self.config = config
        self.account = f"wecom:{config.name}"
        self.self_id = f"wecom-bot:{config.name}"
        self.crypto = WecomCrypto(config.token.get_secret_value(), config.encoding_aes_key.get_secret_value(),
                                  config.receive_id)
        self.http = http
        self.agent = agent
        self.now = now
        self._sink: EventSink | None = None
        self._reply_urls: dict[tuple[str, str], deque[_ReplyUrl]] = defaultdict(deque)
        self._seen: OrderedDict[str, asyncio.Task] = OrderedDict()
        self._mention = re.compile(rf"@{re.escape(config.bot_name)}[\u2005\u0020]?")

    def __repr__(self) -> str:
        return f"WecomBotTransport(account={self.account!r})"

    # ------------------------------------------------------------------ lifecycle
    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        await self.http.open()
        await sink.on_login(LoggedIn(account=self.account, self_id=self.self_id, name=self.config.bot_name))

    async def stop(self) -> None:
        pending = [task for task in self._seen.values() if not task.done()]
        if pending:  # messages already accepted are handed over before the sink goes
            await asyncio.gather(*pending, return_exceptions=True)
        self._sink = None
        await self.http.close()

    def routes(self) -> list[web.RouteDef]:
        path = self.config.callback_path
        return [web.get(path, self.handle_verify), web.post(path, self.handle_callback)]

    # ------------------------------------------------------------------ inbound
    async def handle_verify(self, request: web.Request) -> web.Response:
        """URL verification when the callback is configured: echo the decrypted ``echostr``."""
        q = request.query
        try:
            plain = self.crypto.decrypt_verified(q.get("msg_signature", ""), q.get("timestamp", ""),
                                                 q.get("nonce", ""), q.get("echostr", ""))
        except CryptoError as exc:
            log.warning("wecom[%s]: URL verification refused: %s", self.account, exc)
            return web.Response(status=403, text="forbidden")
        return web.Response(text=plain)

    async def handle_callback(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            body = await request.json()
            encrypted = str(body["encrypt"])
            payload = json.loads(self.crypto.decrypt_verified(
                q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", ""), encrypted))
            if not isinstance(payload, dict):
                raise ValueError("payload is not an object")
        except CryptoError as exc:
            log.warning("wecom[%s]: callback refused: %s", self.account, exc)
            return web.Response(status=403, text="forbidden")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("wecom[%s]: malformed callback: %s", self.account, type(exc).__name__)
            return web.Response(status=400, text="bad request")
        task = self._accept(payload)
        if task is not None:
            # Answer once the message is stored (usually handled too), or after ANSWER_WITHIN.
            await asyncio.wait([task], timeout=ANSWER_WITHIN)
        return web.Response(text="")

    def _accept(self, payload: dict[str, Any]) -> asyncio.Task | None:
        """Remember the reply URL and hand the message to the sink, once per ``msgid``."""
        msgid = str(payload.get("msgid") or "")
        if not msgid or payload.get("msgtype") == "event" or self._sink is None:
            return None  # events (enter chat, feedback) carry nothing to act on
        if msgid in self._seen:
            log.info("wecom[%s]: repeated callback %s ignored", self.account, msgid)
            return self._seen[msgid]
        incoming = self._incoming(payload, msgid)
        url = payload.get("response_url")
        if url:
            key = ("group", incoming.chat_id) if incoming.chat_id else ("person", incoming.sender_id)
            self._reply_urls[key].append(_ReplyUrl(str(url), self.now() + REPLY_URL_TTL))
        task = asyncio.create_task(self._deliver(incoming), name=f"wecom-in-{msgid}")
        self._seen[msgid] = task
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        return task

    async def _deliver(self, incoming: Incoming) -> None:
        try:
            assert self._sink is not None
            await self._sink.on_message(incoming)
        except Exception:  # noqa: BLE001  (one bad message costs only itself)
            log.exception("wecom[%s]: message %s could not be handled", self.account, incoming.message_id)

    def _incoming(self, payload: dict[str, Any], msgid: str) -> Incoming:
        sender = payload.get("from") or {}
        userid = str(sender.get("userid") or "")
        msgtype = str(payload.get("msgtype") or "")
        if msgtype == "text":
            text = str((payload.get("text") or {}).get("content") or "")
        elif msgtype == "mixed":  # text and images together: keep the text parts
            items = (payload.get("mixed") or {}).get("msg_item") or []
            text = "".join(str((i.get("text") or {}).get("content") or "") for i in items
                           if i.get("msgtype") == "text")
        else:
            text = ""
        group = payload.get("chattype") == "group"
        mentioned = group and bool(self._mention.search(text))
        text = self._mention.sub("", text).strip()
        return Incoming(
            account=self.account, message_id=msgid, sender_id=user_platform_id(userid),
            sender_name=userid, text=text, sent_at=self.now(),
            chat_id=str(payload.get("chatid")) if group and payload.get("chatid") else None,
            kind=_KINDS.get(msgtype, MessageKind.OTHER),
            # WeCom calls back for a group message only when the bot is @-mentioned.
            mentions_bot=group or mentioned,
        )

    # ------------------------------------------------------------------ outbound
    def _reply_url(self, to: Address) -> str | None:
        key = ("group", to.platform_id) if to.kind == "group" else ("person", to.platform_id)
        urls = self._reply_urls.get(key)
        now = self.now()
        while urls:
            candidate = urls.popleft()  # one call per URL, whatever its outcome
            if candidate.expires > now:
                return candidate.url
        return None

    async def send_text(self, to: Address, text: str, mention_ids: Sequence[str] = ()) -> str | None:
        url = self._reply_url(to)
        if url is not None:
            # Mentions are dropped: the answer goes to the chat that just @-mentioned the bot.
            try:
                await self.http.call("POST", url, body={"msgtype": "markdown", "markdown": {"content": text}})
            except WecomApiError as exc:
                if exc.errcode == ERR_FREQUENCY:
                    raise RateLimited(str(exc)) from exc
                raise
            return None
        if to.kind == "group":
            raise TransportError(T.NO_GROUP_REPLY)
        if self.agent is None:
            raise TransportError(T.NO_PRIVATE_CHANNEL)
        try:
            return await self.agent.send(userid_of(to.platform_id), text)
        except WecomApiError as exc:
            if exc.errcode == ERR_FREQUENCY:
                raise RateLimited(str(exc)) from exc
            raise

    async def room_list(self) -> list[RoomInfo]:
        return []  # the intelligent bot cannot list the groups it is in

    async def room_members(self, room_id: str) -> list[MemberInfo]:
        return []

    async def set_alias(self, contact_id: str, alias: str) -> None:
        return None  # WeCom user ids are stable: no marker needed
