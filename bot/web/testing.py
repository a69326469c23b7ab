"""A test kit for the dashboard and API, on top of ``bot.testing.BotHarness``.

    async with BotHarness() as h, WebKit(h) as w:
        await w.add_user("li", "secretary", compounds=["阳光花园"])
        await w.login("li")
        page = await w.get("/dashboard/tickets")
        await w.post_form("/dashboard/tickets/1/assign", {"kind": "property"})
        token = await w.token("li")
        resp = await w.api("GET", "/api/v1/tickets", token=token)
"""
from __future__ import annotations

import re
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.testing import BotHarness
from bot.web import accounts, security
from bot.web.app import build_web_app
from bot.web.state import WEB, WebState

PASSWORD = "correct-horse-42"
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


class WebKit:
    def __init__(self, h: BotHarness) -> None:
        self.h = h
        self.client: TestClient | None = None
        security.use_fast_hashing()

    async def __aenter__(self) -> WebKit:
        self.client = TestClient(TestServer(build_web_app(self.h.bot)))
        await self.client.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.client is not None:
            await self.client.close()

    @property
    def c(self) -> TestClient:
        assert self.client is not None
        return self.client

    @property
    def state(self) -> WebState:
        """The web app's state (its settings, password worker, import jobs)."""
        return self.c.server.app[WEB]

    @property
    def base_url(self) -> str:
        return str(self.c.make_url("/")).rstrip("/")

    async def add_user(self, username: str, role: str, *, compounds: tuple | list = (),
                       communities: tuple | list = (), password: str = PASSWORD, admin: bool = False,
                       person: str | int | None = None, display_name: str | None = None) -> int:
        app = self.h.bot
        async with app.sessions() as session:
            user = await accounts.create_user(session, app.org, app.clock.now(), accounts.NewUser(
                username=username, password=password, role=role, display_name=display_name,
                compounds=tuple(compounds), communities=tuple(communities), person=person, is_admin=admin,
            ), created_by="test")
            await session.commit()
            return user.id

    async def token(self, username: str, name: str = "test") -> str:
        app = self.h.bot
        async with app.sessions() as session:
            user = await accounts.get_user(session, username)
            assert user is not None
            _, raw = await accounts.create_api_token(session, user, name, app.clock.now(), "test")
            await session.commit()
        return raw

    async def csrf(self, path: str = "/dashboard/login") -> str:
        resp = await self.c.get(path)
        match = _CSRF.search(await resp.text())
        assert match, f"no CSRF field on {path}"
        return match.group(1)

    async def login(self, username: str, password: str = PASSWORD) -> ClientResponse:
        token = await self.csrf("/dashboard/login")
        return await self.c.post("/dashboard/login", data={"username": username, "password": password,
                                                            "_csrf": token}, allow_redirects=False)

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.c.get(path, **kwargs)

    async def post_form(self, path: str, data: dict | list | None = None, *, csrf_from: str = "/dashboard/",
                        **kwargs: Any) -> ClientResponse:
        token = await self.csrf(csrf_from)
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        return await self.c.post(path, data=items + [("_csrf", token)], allow_redirects=False, **kwargs)

    async def api(self, method: str, path: str, *, token: str | None = None, json: Any = None,
                  **kwargs: Any) -> ClientResponse:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.c.request(method, path, json=json, headers=headers, **kwargs)
