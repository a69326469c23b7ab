"""Web hardening on a real PostgreSQL server: its 32-bit ids, the outbox scope query, throttling."""
from __future__ import annotations

import pytest

from bot.testing import BotHarness
from bot.web.testing import PASSWORD, WebKit

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pw(pg_url):
    async with BotHarness(database_url=pg_url) as h, WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await kit.add_user("sun", "secretary", compounds=["兰亭水岸"])
        yield kit


async def test_postgres_an_id_past_the_integer_column_range_is_not_found(pw):
    await pw.login("li")
    page = await pw.get("/dashboard/tickets/2147483648")
    assert page.status == 404
    resp = await pw.api("GET", "/api/v1/tickets/2147483648", token=await pw.token("li"))
    assert resp.status == 404


async def test_postgres_outbox_lists_the_users_compound_only(pw):
    from sqlalchemy import select

    from bot.models import ChatGroup

    h = pw.h
    h.transport.gone.update({"room-yg-1", "room-lt-1"})
    async with h.session() as s:
        for topic in ("阳光花园业主1群", "兰亭水岸邻里群"):
            gid = (await s.execute(select(ChatGroup.id).where(ChatGroup.topic == topic))).scalar_one()
            h.bot.outbox.enqueue(s, f"{topic}的消息", group_id=gid)
        await s.commit()
    await h.drain()
    body = await (await pw.api("GET", "/api/v1/outbox", token=await pw.token("sun"))).json()
    assert [i["recipient"] for i in body["items"]] == ["兰亭水岸邻里群"]


async def test_postgres_failed_logins_elsewhere_do_not_lock_the_user(pg_url):
    settings = {"web": {"trusted_proxies": ["127.0.0.1"]}}
    async with BotHarness(database_url=pg_url, settings=settings) as h, WebKit(h) as w:
        await w.add_user("li", "secretary", compounds=["阳光花园"])
        for _ in range(8):
            await w.c.post("/dashboard/login", data={"username": "li", "password": "wrong-password",
                                                     "_csrf": await w.csrf()},
                           headers={"X-Forwarded-For": "203.0.113.5"}, allow_redirects=False)
        ok = await w.c.post("/dashboard/login", data={"username": "li", "password": PASSWORD,
                                                      "_csrf": await w.csrf()},
                            headers={"X-Forwarded-For": "198.51.100.7"}, allow_redirects=False)
        assert ok.status == 303
