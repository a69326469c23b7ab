"""People and groups pages: the roster with roles, scopes, group binding, exports."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.models import ChatGroup, Event
from bot.web.testing import WebKit


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await kit.add_user("sun", "secretary", compounds=["兰亭水岸"])
        await kit.add_user("chen", "community_staff", communities=["兰新社区"])
        await kit.add_user("han", "district_staff", admin=True)
        yield kit


async def _person_id(h, name):
    from bot.models import Person

    async with h.session() as session:
        return (await session.execute(select(Person.id).where(Person.name == name))).scalars().first()


async def test_secretary_roster_shows_own_compound_with_roles(w):
    await w.login("li")
    text = await (await w.get("/dashboard/people")).text()
    assert "张党员" in text and "党员（阳光花园）" in text
    assert "孙书记" not in text  # 兰亭水岸


async def test_community_staff_sees_every_compound_of_the_community(w):
    await w.login("chen")
    text = await (await w.get("/dashboard/people")).text()
    assert "张党员" in text and "孙书记" in text
    assert "马书记" not in text  # 沂龙湾润园 is in another community


async def test_district_staff_sees_everyone(w):
    await w.login("han")
    text = await (await w.get("/dashboard/people?per_page=100")).text()
    assert "马书记" in text and "区办小韩" in text


async def test_roster_filters_by_role(w):
    await w.login("li")
    text = await (await w.get("/dashboard/people?role=party_member")).text()
    assert "张党员" in text and "王网格" not in text


async def test_bad_filter_is_a_clear_422_not_a_crash(w):
    await w.login("li")
    resp = await w.get("/dashboard/people?role=king&page=x")
    assert resp.status == 422
    assert "字段" in await resp.text()


async def test_person_page_of_another_compound_is_forbidden(w, h):
    await w.login("li")
    sun = await _person_id(h, "孙书记")
    assert (await w.get(f"/dashboard/people/{sun}")).status == 403
    mine = await _person_id(h, "张党员")
    assert (await w.get(f"/dashboard/people/{mine}")).status == 200
    assert (await w.get("/dashboard/people/999999")).status == 404


async def test_roster_export_as_csv_and_xlsx_has_the_visible_rows(w):
    await w.login("li")
    resp = await w.get("/dashboard/people?format=csv")
    assert resp.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert rows[0][:2] == ["编号", "姓名"]
    names = {r[1] for r in rows[1:]}
    assert "张党员" in names and "孙书记" not in names
    resp = await w.get("/dashboard/people?format=xlsx")
    sheet = load_workbook(io.BytesIO(await resp.read())).worksheets[0]
    assert "张党员" in {row[1] for row in sheet.iter_rows(values_only=True)}


async def test_groups_page_shows_binding(w):
    await w.login("li")
    text = await (await w.get("/dashboard/groups")).text()
    assert "阳光花园业主1群" in text and "兰亭水岸邻里群" not in text


async def test_district_staff_binds_a_new_group_and_it_is_audited(w, h):
    await h.bot_joins("新建楼栋群")
    async with h.session() as session:
        group = (await session.execute(select(ChatGroup).where(ChatGroup.topic == "新建楼栋群"))).scalar_one()
    await w.login("han")
    assert "新建楼栋群" in await (await w.get("/dashboard/groups?bound=no")).text()
    resp = await w.post_form(f"/dashboard/groups/{group.id}/bind", {"compound_id": "2"})
    assert resp.status == 303
    async with h.session() as session:
        group = await session.get(ChatGroup, group.id)
        event = (await session.execute(select(Event).where(Event.subject_kind == "group",
                                                           Event.action == "bound"))).scalars().all()[-1]
    assert group.compound_id == 2
    assert event.actor_web_user == "han"


async def test_secretary_cannot_bind_a_group_to_another_compound(w, h):
    async with h.session() as session:
        group = (await session.execute(select(ChatGroup).where(ChatGroup.topic == "阳光花园业主1群"))).scalar_one()
    await w.login("li")
    resp = await w.post_form(f"/dashboard/groups/{group.id}/bind", {"compound_id": "2"})
    assert resp.status == 403
    async with h.session() as session:
        assert (await session.get(ChatGroup, group.id)).compound_id == 1
