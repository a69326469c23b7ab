"""The demo's chat page and dashboard point to each other; the chat page says who the sample
people are and what to try first."""
from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.transports.simulator import SimulatorTransport
from bot.web.testing import WebKit


async def test_chat_page_links_the_dashboard_and_introduces_the_sample_people():
    app = web.Application()
    app.add_routes(SimulatorTransport().routes())
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get("/")).text()
    assert 'id="dashboard-link"' in page and 'href="/dashboard/"' in page
    assert "示例人物" in page and "李书记是支部书记" in page and "先试试" in page


async def test_the_demo_login_sees_a_link_back_to_the_chat_page(h):
    async with WebKit(h) as w:
        await w.add_user("demo", "district_staff", admin=True)
        await w.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await w.login("demo")
        demo_home = await (await w.get("/dashboard/")).text()
        await w.get("/dashboard/logout")
    async with WebKit(h) as w:
        await w.login("li")
        other_home = await (await w.get("/dashboard/")).text()
    assert 'id="demo-chat-link"' in demo_home
    assert 'id="demo-chat-link"' not in other_home


async def test_the_demo_login_and_the_chat_page_have_the_history_progress_line(h):
    app = web.Application()
    app.add_routes(SimulatorTransport().routes())
    async with TestClient(TestServer(app)) as client:
        page = await (await client.get("/")).text()
    async with WebKit(h) as w:
        await w.add_user("demo", "district_staff", admin=True)
        await w.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await w.login("demo")
        demo_home = await (await w.get("/dashboard/")).text()
        script = await w.get("/dashboard/static/demo_progress.js")
        script_text = await script.text()
        await w.get("/dashboard/logout")
    async with WebKit(h) as w:
        await w.login("li")
        other_home = await (await w.get("/dashboard/")).text()
    assert 'id="demo-progress"' in page and "demo_progress.js" in page
    assert 'id="demo-progress"' in demo_home and "demo_progress.js" in demo_home
    assert 'id="demo-progress"' not in other_home
    assert script.status == 200 and "/demo/progress" in script_text


def test_demo_command_takes_empty_for_a_blank_start():
    from bot.cli import build_parser

    assert build_parser().parse_args(["demo", "--empty"]).empty is True
    assert build_parser().parse_args(["demo"]).empty is False
