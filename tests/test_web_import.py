"""Roster import from the dashboard and the API: all or nothing, row-level errors, progress, scope."""
from __future__ import annotations

import asyncio
import io

import pytest
from aiohttp import FormData
from openpyxl import Workbook
from sqlalchemy import select

from bot.models import Event, Person
from bot.web.testing import WebKit

GOOD = ("街道,社区,小区,姓名,电话,楼号,单元,房号,角色\n"
        "兰山街道,兰新社区,阳光花园,王五,13900000001,3,2,501,党员\n"
        "兰山街道,兰新社区,阳光花园,赵六,13900000002,5,1,101,楼长、党员\n")
BAD = ("街道,社区,小区,姓名,电话,楼号,单元,房号,角色\n"
       "兰山街道,兰新社区,阳光花园,王五,12345,3,2,501,党员\n"
       "兰山街道,兰新社区,阳光花园,赵六,13900000002,5,1,101,国王\n")


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"])
        await kit.add_user("han", "district_staff", admin=True)
        yield kit


def _form(name: str, data: bytes, csrf: str | None = None) -> FormData:
    form = FormData()
    if csrf:
        form.add_field("_csrf", csrf)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def _names(h) -> set[str]:
    async with h.session() as session:
        return set((await session.execute(select(Person.name))).scalars())


async def _upload_with_progress(w, name: str, data: bytes) -> dict:
    """What the page's script does: upload, then read the job once it has ended."""
    csrf = await w.csrf("/dashboard/people/import")
    resp = await w.c.post("/dashboard/people/import", data=_form(name, data),
                          headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert resp.status == 202
    job_id = (await resp.json())["id"]
    # Wait on the import's task itself, not on a number of polls (a loaded machine is slow).
    await asyncio.gather(*w.state.tasks)
    job = await (await w.get(f"/dashboard/people/import/{job_id}.json")).json()
    assert job["status"] != "running"
    job["page"] = await (await w.get(f"/dashboard/people/import/{job_id}")).text()
    return job


async def test_csv_import_adds_people_with_roles_and_reports_counts(w, h):
    await w.login("li")
    job = await _upload_with_progress(w, "名册.csv", GOOD.encode("utf-8"))
    assert job["status"] == "done" and job["percent"] == 100
    assert job["result"]["people"] == 2 and job["result"]["roles"] == 3
    assert "导入完成" in job["page"]
    assert {"王五", "赵六"} <= await _names(h)
    async with h.session() as session:
        event = (await session.execute(select(Event).where(Event.subject_kind == "roster"))).scalar_one()
    assert event.actor_web_user == "li" and event.note == "名册.csv"


async def test_import_with_bad_rows_writes_nothing_and_lists_each_row(w, h):
    await w.login("li")
    job = await _upload_with_progress(w, "名册.csv", BAD.encode("utf-8"))
    assert job["status"] == "failed"
    rows = {(p["row"], p["message"]) for p in job["problems"]}
    assert any(row == 2 and "电话号码" in msg for row, msg in rows)
    assert any(row == 3 and "国王" in msg for row, msg in rows)
    assert "王五" not in await _names(h)
    page = job["page"]
    assert "未写入任何数据" in page and "import-problems" in page and "名册.csv" in page
    assert "/tmp/" not in page


async def test_xlsx_import_works_without_javascript(w, h):
    book = Workbook()
    sheet = book.active
    for line in GOOD.strip().splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    await w.login("li")
    csrf = await w.csrf("/dashboard/people/import")
    resp = await w.c.post("/dashboard/people/import", data=_form("roster.xlsx", buffer.getvalue(), csrf))
    assert resp.status == 200  # followed the redirect to the result page
    assert "导入完成" in await resp.text()
    assert "赵六" in await _names(h)


async def test_secretary_cannot_import_into_another_compound(w, h):
    other = GOOD.replace("阳光花园", "兰亭水岸")
    await w.login("li")
    job = await _upload_with_progress(w, "x.csv", other.encode("utf-8"))
    assert job["status"] == "failed"
    assert any("不在您的管理范围" in p["message"] for p in job["problems"])
    assert "王五" not in await _names(h)


async def test_secretary_cannot_grant_district_roles_by_import(w, h):
    evil = GOOD.replace("楼长、党员", "区级工作人员")
    await w.login("li")
    job = await _upload_with_progress(w, "x.csv", evil.encode("utf-8"))
    assert job["status"] == "failed"
    assert any(p["row"] == 3 for p in job["problems"])


async def test_wrong_file_type_and_missing_file_are_explained(w):
    await w.login("li")
    csrf = await w.csrf("/dashboard/people/import")
    resp = await w.c.post("/dashboard/people/import", data=_form("roster.pdf", b"%PDF", csrf))
    assert resp.status == 422 and "只支持" in await resp.text()
    resp = await w.c.post("/dashboard/people/import", data={"_csrf": csrf})
    assert resp.status == 422 and "请选择" in await resp.text()


async def test_import_job_of_another_user_is_not_visible(w):
    await w.login("li")
    job = await _upload_with_progress(w, "名册.csv", GOOD.encode("utf-8"))
    await w.post_form("/dashboard/logout", {})
    await w.login("han")
    assert (await w.get(f"/dashboard/people/import/{job['id']}.json")).status == 404


async def test_api_import_returns_422_with_rows_or_the_result(w, h):
    token = await w.token("han")
    resp = await w.api("POST", "/api/v1/roster/import", token=token, data=_form("bad.csv", BAD.encode()))
    assert resp.status == 422
    body = await resp.json()
    assert body["error"]["code"] == "invalid" and body["problems"][0]["row"] == 2
    resp = await w.api("POST", "/api/v1/roster/import", token=token, data=_form("good.csv", GOOD.encode()))
    assert resp.status == 200 and (await resp.json())["result"]["people"] == 2
    resp = await w.api("POST", "/api/v1/roster/import", token=token, json={"file": "x"})
    assert resp.status == 422 and (await resp.json())["error"]["field"] == "file"


async def test_dashboard_import_refuses_a_file_naming_an_account_this_bot_does_not_run(w, h):
    """The dashboard follows `zhibu import org`'s account rule: groups put on an account nobody
    runs would never be answered, so such a file is refused and nothing is written."""
    await w.login("han")
    yaml_text = ("district: 示例区（演示）\naccount: east\nstreets:\n  - name: 兰山街道\n    communities:\n"
                 "      - name: 兰新社区\n        compounds:\n          - name: 新建小区\n"
                 "            groups:\n              - {name: 新建小区1群, chat_id: \"room-new-1\"}\n")
    job = await _upload_with_progress(w, "名册.yaml", yaml_text.encode("utf-8"))
    assert job["status"] == "failed"
    assert any("east" in p["message"] for p in job["problems"])
    async with h.session() as session:
        from bot.models import Compound
        assert "新建小区" not in set((await session.execute(select(Compound.name))).scalars())
