"""Who has not replied, on the dashboard's notice page and in its export."""
from __future__ import annotations

import pytest

from bot.web.testing import WebKit


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await kit.add_user("sun", "secretary", compounds=["兰亭水岸"])
        yield kit


async def sent_notice(w, h) -> str:  # noqa: ANN001
    await w.login("li")
    resp = await w.post_form("/dashboard/notices", {"scope": "compound", "compound_id": "1", "text": "明天停水"},
                             csrf_from="/dashboard/notices/new")
    location = resp.headers["Location"]
    await w.post_form(location + "/confirm", {}, csrf_from=location)
    await h.drain()
    await h.say("阳光花园业主1群", "张三", "收到👍")
    return location


async def test_notice_page_lists_non_responders_by_building(w, h):
    location = await sent_notice(w, h)
    page = await (await w.get(location)).text()
    section = page[page.index('id="silent"'):]
    assert "未回复（4 人）" in section
    assert "3号楼（2人）" in section and "李四" in section and "王奶奶" in section
    assert "张三" not in section


async def test_non_responders_export_has_building_unit_room_and_name(w, h):
    location = await sent_notice(w, h)
    csv_text = (await (await w.get(location + "/silent?format=csv")).read()).decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0].split(",") == ["小区", "楼号", "单元", "房号", "姓名"]
    assert "阳光花园,3,1,201,李四" in lines and not any("张三" in line for line in lines)


async def test_non_responders_of_another_compound_are_not_shown(w, h):
    location = await sent_notice(w, h)
    await w.login("sun")
    resp = await w.get(location + "/silent?format=csv")
    assert resp.status in (403, 404)
