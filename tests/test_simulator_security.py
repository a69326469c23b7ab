"""The local web chat outside the demo: a dashboard administrator's login, pages of this server only,
and a browser message shown only once the bot stored it."""
from __future__ import annotations

import asyncio
import json
import re

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BotApp
from bot.config import SAMPLE_ORG, Settings
from bot.runner import build_web
from bot.transports.simulator import SimulatorTransport
from bot.web import accounts, security

PASSWORD = "correct-horse-42"


async def serve(tmp_path, transport: SimulatorTransport):
    settings = Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}",
                                        "org_file": SAMPLE_ORG,
                                        "outbox": {"min_interval_seconds": 0, "jitter_seconds": 0}})
    app = BotApp(settings, transports=[transport])
    await app.open()
    await app.start()
    client = TestClient(TestServer(build_web(app)))
    await client.start_server()
    return app, client


@pytest.fixture
async def guarded(tmp_path):
    """``zhibu run --web-chat``: the web chat behind a dashboard login."""
    app, client = await serve(tmp_path, SimulatorTransport(require_login=True))
    yield app, client
    await client.close()
    await app.stop()


@pytest.fixture
async def demo(tmp_path):
    app, client = await serve(tmp_path, SimulatorTransport())
    yield client
    await client.close()
    await app.stop()


def origin(client: TestClient) -> dict[str, str]:
    return {"Origin": str(client.make_url("/")).rstrip("/")}


async def log_in(app: BotApp, client: TestClient, *, admin: bool) -> None:
    security.use_fast_hashing()
    async with app.sessions() as session:
        await accounts.create_user(session, app.org, app.clock.now(), accounts.NewUser(
            username="op", password=PASSWORD, role="district_staff", is_admin=admin), created_by="test")
        await session.commit()
    page = await (await client.get("/dashboard/login")).text()
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    response = await client.post("/dashboard/login", data={"username": "op", "password": PASSWORD, "_csrf": csrf},
                                 allow_redirects=False)
    assert response.status == 303


async def test_state_without_a_login_does_not_show_the_roster(guarded):
    _, client = guarded
    response = await client.get("/sim/state")
    body = await response.text()
    assert response.status == 401
    assert "李书记" not in body and "wxid_" not in body


async def test_state_with_an_administrators_login_shows_the_roster(guarded):
    app, client = guarded
    await log_in(app, client, admin=True)
    data = await (await client.get("/sim/state")).json()
    assert "李书记" in {p["name"] for p in data["people"]}


async def test_state_with_a_login_that_is_not_an_administrator_is_refused(guarded):
    app, client = guarded
    await log_in(app, client, admin=False)
    assert (await client.get("/sim/state")).status == 401


async def test_websocket_without_a_login_is_refused(guarded):
    _, client = guarded
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/sim/ws", headers=origin(client))
    assert refused.value.status == 401


async def test_websocket_from_another_sites_page_is_refused(demo):
    with pytest.raises(WSServerHandshakeError) as refused:
        await demo.ws_connect("/sim/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403


class UnstorableSink:
    """A bot whose database refuses the message."""

    sessions = None

    async def on_message(self, incoming) -> None:  # noqa: ANN001
        raise OSError("database is gone")


async def test_a_message_the_bot_could_not_store_is_not_shown():
    transport = SimulatorTransport()
    await transport.start(UnstorableSink())
    client = TestClient(TestServer(_app_of(transport)))
    await client.start_server()
    try:
        async with client.ws_connect("/sim/ws", headers=origin(client)) as ws:
            await ws.send_json({"type": "send", "chat": "group:room-yg-1", "sender_id": "wxid_zhangsan",
                                "sender_name": "张三", "text": "4号楼门口积水了"})
            first = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
    finally:
        await client.close()
    assert first["type"] == "error"
    assert transport.history.get("group:room-yg-1", []) == []


def _app_of(transport: SimulatorTransport):
    from aiohttp import web

    app = web.Application()
    app.add_routes(transport.routes())
    return app


async def test_the_demo_state_is_not_given_to_a_page_under_another_domain_name(demo):
    # DNS rebinding: evil.example re-pointed at 127.0.0.1 makes the browser send Host: evil.example
    response = await demo.get("/sim/state", headers={"Host": "evil.example:8080"})
    assert response.status == 401
    assert "李书记" not in await response.text()
