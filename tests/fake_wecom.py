"""A local fake of the WeCom server endpoints the bot uses (aiohttp, loopback, random port),
and a WeCom-enabled test harness that posts real encrypted callbacks to the bot's endpoint."""
from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import BotApp
from bot.testing import BotHarness
from bot.transports.wecom.crypto import WecomCrypto
from bot.transports.wecom.setup import bind_groups, build_wecom_transports, callback_routes

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
HOOK_KEY = "hook-key-0001-secret"


@dataclass
class FakeWecom:
    """Records every call; scripted errcodes per webhook key; group-send results set by tests."""

    calls: list[tuple[str, dict, dict]] = field(default_factory=list)   # (path, query, body)
    hook_errors: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    send_results: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # msgid → chat → (status, time)
    used_reply_urls: set[str] = field(default_factory=set)
    base: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    def calls_to(self, path: str) -> list[dict]:
        return [body for p, _q, body in self.calls if p == path]

    def reply_url(self) -> str:
        return f"{self.base}/response/{next(self._ids)}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001  (the port the OS chose)
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body = await request.json() if request.can_read_body else {}
        query = dict(request.query)
        self.calls.append((path, query, body))
        return web.json_response(self._answer(path, query, body))

    def _answer(self, path: str, query: dict, body: dict) -> dict:
        if path == "/cgi-bin/gettoken":
            return {"errcode": 0, "access_token": "token-1", "expires_in": 7200}
        if path.startswith("/response/"):
            if path in self.used_reply_urls:
                return {"errcode": 40001, "errmsg": "response_url used"}
            self.used_reply_urls.add(path)
            return {"errcode": 0, "errmsg": "ok"}
        if path == "/cgi-bin/webhook/send":
            errors = self.hook_errors[query.get("key", "")]
            if errors:
                return {"errcode": errors.pop(0), "errmsg": "scripted"}
            return {"errcode": 0, "errmsg": "ok"}
        if path == "/cgi-bin/message/send":
            return {"errcode": 0, "errmsg": "ok", "msgid": f"app-{next(self._ids)}"}
        if path == "/cgi-bin/externalcontact/add_msg_template":
            msgid = f"msgGS{next(self._ids)}"
            self.send_results[msgid] = {c: (0, 0) for c in body.get("chat_id_list", [])}
            return {"errcode": 0, "errmsg": "ok", "fail_list": [], "msgid": msgid}
        if path == "/cgi-bin/externalcontact/get_groupmsg_send_result":
            results = self.send_results.get(body["msgid"], {})
            return {"errcode": 0, "errmsg": "ok", "next_cursor": "", "send_list": [
                {"chat_id": c, "userid": body["userid"], "status": s, **({"send_time": t} if t else {})}
                for c, (s, t) in results.items()]}
        if path == "/cgi-bin/externalcontact/remind_groupmsg_send":
            return {"errcode": 0, "errmsg": "ok"}
        return {"errcode": 404, "errmsg": f"no such fake endpoint {path}"}


@pytest.fixture
async def fake():  # noqa: ANN201
    """A started FakeWecom, stopped after the test (test modules import this fixture)."""
    server = FakeWecom()
    await server.start()
    yield server
    await server.stop()


class WecomHarness(BotHarness):
    """BotHarness plus the WeCom transports of ``settings["wecom"]``, their callback endpoint on a
    loopback port, and helpers that post encrypted callbacks the way WeCom does."""

    def __init__(self, fake: FakeWecom, wecom: dict[str, Any], **kwargs: Any) -> None:
        settings = {**kwargs.pop("settings", {}), "wecom": {"api_base": fake.base, **wecom}}
        super().__init__(settings=settings, **kwargs)
        self.fake = fake
        self.crypto = WecomCrypto(TOKEN, AES_KEY, "")
        self.callback_url = ""
        self._web: web.AppRunner | None = None
        self._msgids = itertools.count(1)

    async def _boot(self) -> None:
        self.wecom = build_wecom_transports(self.settings, now=self.clock.now)
        self.app = BotApp(self.settings, transports=[self.transport, *self.wecom], clock=self.clock, rng=self.rng)
        await self.app.open()
        await self.transport.start(self.app)
        try:
            for transport in self.wecom:
                await transport.start(self.app)
            await bind_groups(self.app)
        except BaseException:
            await self.app.stop()  # __aexit__ will not run for a failed __aenter__
            raise
        web_app = web.Application()
        web_app.add_routes(callback_routes(self.wecom))
        self._web = web.AppRunner(web_app, access_log=None)
        await self._web.setup()
        site = web.TCPSite(self._web, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
        self.callback_url = f"http://127.0.0.1:{port}{self.settings.wecom.bot.callback_path}" \
            if self.settings.wecom.bot else ""

    async def __aexit__(self, *exc: object) -> None:
        if self._web is not None:
            await self._web.cleanup()
        await super().__aexit__(*exc)

    def transport_of(self, account: str):  # noqa: ANN201
        return self.bot.transports[account]

    def signed(self, encrypted: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), str(next(self._msgids))
        return {"msg_signature": self.crypto.sign(timestamp, nonce, encrypted), "timestamp": timestamp,
                "nonce": nonce}

    async def callback(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        """POST one encrypted callback as WeCom does; returns the (read) response."""
        encrypted = self.crypto.encrypt(json.dumps(payload, ensure_ascii=False))
        async with aiohttp.ClientSession() as client:
            async with client.post(self.callback_url, params=self.signed(encrypted),
                                   json={"encrypt": encrypted}) as response:
                await response.read()
        await self.drain()
        return response

    def message(self, userid: str, text: str, *, chatid: str | None = None, msgid: str | None = None) -> dict:
        payload = {"msgid": msgid or f"wecom-msg-{next(self._msgids)}", "aibotid": "aibot-1",
                   "chattype": "group" if chatid else "single", "from": {"userid": userid},
                   "response_url": self.fake.reply_url(), "msgtype": "text", "text": {"content": text}}
        if chatid:
            payload["chatid"] = chatid
        return payload
