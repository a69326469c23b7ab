"""The local web chat: pick who you are, chat in a group or privately, replies arrive live."""
from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import BotApp
from bot.config import SAMPLE_ORG, Settings
from bot.runner import build_web
from bot.texts import core as TC
from bot.transports.simulator import SimulatorTransport


@pytest.fixture
async def client(tmp_path):
    settings = Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{tmp_path / 'sim.db'}",
                                        "org_file": SAMPLE_ORG,
                                        "outbox": {"min_interval_seconds": 0, "jitter_seconds": 0}})
    app = BotApp(settings, transports=[SimulatorTransport()])
    await app.open()
    await app.start()
    client = TestClient(TestServer(build_web(app)))
    await client.start_server()
    yield client
    await client.close()
    await app.stop()


def same_origin(client) -> dict[str, str]:
    """The Origin a browser sends for the page this server served."""
    return {"Origin": str(client.make_url("/")).rstrip("/")}


async def next_message(ws, chat: str) -> dict:
    while True:
        data = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)
        if data.get("type") == "message" and data["chat"] == chat and data["bot"]:
            return data


async def test_page_is_served(client):
    response = await client.get("/")
    assert response.status == 200 and "本地网页聊天" in await response.text()


async def test_state_lists_sample_groups_and_people(client):
    data = await (await client.get("/sim/state")).json()
    assert "阳光花园业主1群" in {g["topic"] for g in data["groups"]}
    assert "李书记" in {p["name"] for p in data["people"]}


async def test_the_mention_of_the_bot_is_removed_before_routing(client):
    async with client.ws_connect("/sim/ws", headers=same_origin(client)) as ws:
        await ws.send_json({"type": "send", "chat": "group:room-yg-1", "sender_id": "wxid_zhangsan",
                            "sender_name": "张三", "text": "@支部助手 帮助"})
        reply = await next_message(ws, "group:room-yg-1")
    assert TC.HELP_HEADER in reply["text"]


async def test_group_message_gets_a_live_reply(client):
    async with client.ws_connect("/sim/ws", headers=same_origin(client)) as ws:
        await ws.send_json({"type": "send", "chat": "group:room-yg-1", "sender_id": "wxid_zhangsan",
                            "sender_name": "张三", "text": "帮助"})
        reply = await next_message(ws, "group:room-yg-1")
    assert TC.HELP_HEADER in reply["text"]


async def test_private_message_from_a_new_resident_gets_a_reply(client):
    async with client.ws_connect("/sim/ws", headers=same_origin(client)) as ws:
        await ws.send_json({"type": "send", "chat": "person:bot", "sender_id": "sim:小明",
                            "sender_name": "小明", "text": "隐私"})
        reply = await next_message(ws, "person:sim:小明")
    assert "隐私说明" in reply["text"]


async def test_malformed_browser_message_gets_an_error_not_a_crash(client):
    async with client.ws_connect("/sim/ws", headers=same_origin(client)) as ws:
        await ws.send_str("{not json")
        data = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
    assert data["type"] == "error"
