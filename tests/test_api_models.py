"""Every JSON API response is exactly what its declared model says: the test walks the route
registry (a new route is covered, or fails for want of a recipe), calls each route on a populated
app and validates the body against the route's model with extra fields forbidden — nested ones too."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import FormData
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from bot.models import ChatGroup, Person, PropertyProject
from bot.models.tickets import Ticket
from bot.models.wishes import Wish
from bot.services import Deps
from bot.services import rankings as R
from bot.transports.base import TransportError
from bot.web.api import Endpoint, api
from bot.web.app import openapi_document
from bot.web.errors import ErrorBody
from bot.web.testing import WebKit
from bot.web.views.stats import TABLES

PREFIX = "/api/v1"
REPORTS = ["4号楼门口下水道堵了，积水很深走不了路", "5号楼电梯坏了，困人了", "7号楼楼道灯不亮好几天了",
           "2号楼楼下垃圾堆了好几天没人清理，很臭"]
ROSTER = ("街道,社区,小区,姓名,电话,楼号,单元,房号,角色\n"
          "兰山街道,兰新社区,阳光花园,王五,13900000001,3,2,501,党员\n")
BAD_ROSTER = ROSTER.replace("13900000001", "12345")


def _csv(text: str) -> FormData:
    form = FormData()
    form.add_field("file", text.encode("utf-8"), filename="名册.csv", content_type="text/csv")
    return form


@dataclass
class Call:
    """One request to a route: who calls, with what, which populated ids fill the path, and
    which id of the answer to keep for later routes."""
    who: str = "han"
    json: Any = None               # string values may name populated ids: "id:{t3}"
    form: str | None = None
    query: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    status: int | None = None      # default: the route's declared status
    keep: str | None = None        # remember body["id"] under this name


# Routes that change something need a recipe; a GET route is called with the populated ids.
RECIPES: dict[tuple[str, str], list[Call]] = {
    ("PUT", "/groups/{group_id}/binding"): [Call(json={"compound_id": 1})],
    ("POST", "/roster/import"): [Call(form=ROSTER), Call(form=BAD_ROSTER, status=422)],
    ("POST", "/users"): [Call(json={"username": "wang", "password": "pw-123456", "role": "secretary",
                                    "compound_ids": [1]}, keep="user_id")],
    ("PATCH", "/users/{user_id}"): [Call(json={"active": False})],
    ("POST", "/notices/preview"): [Call(who="li", json={"scope": "compound", "compound_id": 1, "text": "x"})],
    ("POST", "/notices"): [Call(who="li", json={"scope": "compound", "compound_id": 1, "text": "定时",
                                                "send_at": "2026-12-09T08:00:00+08:00", "confirm": True},
                                keep="scheduled_id")],
    ("POST", "/notices/{notice_id}/confirm"): [Call(who="li")],
    ("POST", "/notices/{notice_id}/cancel"): [Call(who="li", ids={"notice_id": "scheduled_id"})],
    ("POST", "/tickets/{ticket_id}/assign"): [Call(who="li", json={"kind": "property"})],
    ("POST", "/tickets/{ticket_id}/transfer"): [Call(who="li", json={"kind": "person", "name": "张三"})],
    ("POST", "/tickets/{ticket_id}/note"): [Call(who="li", json={"note": "已联系物业"})],
    ("POST", "/tickets/{ticket_id}/agenda"): [Call(who="li", json={"scope": "物业、业委会"})],
    ("POST", "/tickets/{ticket_id}/resolve"): [Call(who="li", json={"note": "已疏通"})],
    ("POST", "/tickets/{ticket_id}/reopen"): [Call(who="li", json={"comment": "又堵了"})],
    ("POST", "/tickets/{ticket_id}/merge"): [Call(who="li", json={"into": "id:{t3}"}, ids={"ticket_id": "t2"})],
    ("POST", "/tickets/{ticket_id}/not-issue"): [Call(who="li", json={"reason": "误报"}, ids={"ticket_id": "t4"})],
    ("POST", "/tickets/{ticket_id}/recategorize"): [Call(who="li", json={"category": "sanitation", "urgent": True},
                                                        ids={"ticket_id": "t3"})],
    ("POST", "/tickets/{ticket_id}/supervise"): [Call(who="han", json={"reason": "请本周内解决"},
                                                     ids={"ticket_id": "t3"})],
    ("POST", "/tickets/{ticket_id}/hotline"): [Call(who="li", json={"order_no": "HL20261201001"},
                                                   ids={"ticket_id": "t3"})],
    ("POST", "/hotline/orders"): [Call(json={"orders": [
        {"order_no": "HL20261201002", "received_at": "2026-12-01T08:00", "compound_id": 1, "content": "灯不亮"},
        {"order_no": "HL20261201003", "received_at": "2026-12-01T09:00", "address": "不知道哪里"}]})],
    ("POST", "/wishes"): [Call(who="li", json={"compound_id": 1, "summary": "修水龙头",
                                               "wisher_name": "独居老人刘奶奶"}, keep="new_wish")],
    ("POST", "/wishes/{wish_id}/confirm"): [Call(who="li")],
    ("POST", "/wishes/{wish_id}/cancel"): [Call(who="li", json={"reason": "不需要了"}, ids={"wish_id": "new_wish"})],
}
# Path values that are not ids of rows: every value is called (so is every id in a populated list).
NAMED = {"name": list(TABLES)}


def strict_problems(model: type[BaseModel]) -> list[str]:
    """Objects in the model's schema (nested ones too) that would let an undeclared field through."""
    schema = model.model_json_schema()
    objects = [(model.__name__, schema), *schema.get("$defs", {}).items()]
    return [name for name, obj in objects
            if obj.get("type") == "object" and obj.get("additionalProperties") is not False]


def assert_fits(model: type[BaseModel] | None, body: Any, where: str) -> None:
    """The body is what the model declares: no undeclared field, none missing, the right types,
    and it reads back unchanged."""
    assert model is not None, f"{where}: no response model declared"
    assert not strict_problems(model), f"{where}: {model.__name__} lets extra fields through: {strict_problems(model)}"
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        raise AssertionError(f"{where}: the body does not fit {model.__name__}:\n{exc}") from exc
    assert parsed.model_dump(mode="json") == body, f"{where}: the body changes when read through {model.__name__}"


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        await kit.add_user("han", "district_staff", admin=True, person="区办小韩")
        kit.tokens = {"li": await kit.token("li"), "han": await kit.token("han")}
        yield kit


async def _populate(w, h) -> dict[str, Any]:  # noqa: ANN001
    """Tickets, wishes (one fulfilled, one claimed long ago), a draft notice, a rating run with a
    property form and a list entry, a property ranking, a 12345 order and a failed send."""
    ids: dict[str, Any] = {}
    for n, text in enumerate(REPORTS, 1):
        await h.say("阳光花园业主1群", f"居民{n}", text)
    async with h.session() as session:
        tickets = list((await session.execute(select(Ticket.id).order_by(Ticket.id))).scalars())
        assert len(tickets) == len(REPORTS), [str(s) for s in h.sent]
        ids.update({f"t{n}": t for n, t in enumerate(tickets, 1)}, ticket_id=tickets[0])
        ids["person_id"] = (await session.execute(select(Person.id).where(Person.name == "李书记"))).scalar_one()
        ids["group_id"] = (await session.execute(
            select(ChatGroup.id).where(ChatGroup.topic == "阳光花园业主2群"))).scalar_one()
    await h.dm("王奶奶", "微心愿 帮忙修一下轮椅的刹车")
    await h.dm("王奶奶", "微心愿 帮忙换个灯泡")
    async with h.session() as session:
        wishes = list((await session.execute(select(Wish.id).order_by(Wish.id))).scalars())
    ids["wish_id"] = wishes[0]
    await h.dm("张党员", f"认领 W{wishes[0]}")
    await h.dm("张党员", f"完成 W{wishes[0]} 已修好")
    await h.dm("张党员", f"认领 W{wishes[1]}")
    h.clock.advance(timedelta(days=4))
    resp = await w.api("POST", f"{PREFIX}/notices", token=w.tokens["li"],
                       json={"scope": "compound", "compound_id": 1, "text": "停水通知"})
    assert resp.status == 201
    ids["notice_id"] = (await resp.json())["id"]
    cid = h.bot.org.by_name["阳光花园"].id
    await w.login("li")
    assert (await w.post_form(f"/dashboard/rating/compounds/{cid}/property", {
        "management": "10", "facilities": "10", "order": "10", "cleaning": "10", "greening": "5",
        "residents": "5"})).status == 303
    await w.login("han")
    assert (await w.post_form(f"/dashboard/rating/compounds/{cid}/entries", {
        "kind": "positive", "title": "获评“红色物业”示范小区"})).status == 303
    assert (await w.post_form("/dashboard/rating/run", {"period": "2026-Q4"})).status == 303
    resp = await w.api("POST", f"{PREFIX}/hotline/orders", token=w.tokens["han"], json={"orders": [
        {"order_no": "HL20261130001", "received_at": "2026-12-01T08:00", "compound_id": 1}]})
    assert resp.status == 200
    async with h.session() as session:
        project = (await session.execute(select(PropertyProject.id).order_by(PropertyProject.id))).scalars().first()
        await R.compute_ranking(Deps(session, h.clock, h.bot.outbox, h.bot.org, h.bot.settings), "2026-11",
                                counts={project: 9})
        h.transport.fail_next("room-yg-2", TransportError("网关超时"), times=3)
        h.bot.outbox.enqueue(session, "议事日提醒", group_id=ids["group_id"])
        await session.commit()
    await h.drain()
    ids["compound_id"] = sorted(h.bot.org.compounds)  # one with a property form, others without
    return ids


def _calls(ep: Endpoint) -> list[Call]:
    recipe = RECIPES.get((ep.method, ep.path))
    assert recipe is not None or ep.method == "GET", f"{ep.method} {ep.path}: add a recipe to RECIPES"
    return recipe or [Call()]


def _paths(ep: Endpoint, call: Call, ids: dict[str, Any]) -> list[str]:
    paths = [ep.path]
    for part in ep.path.split("/"):
        if part.startswith("{"):
            name = part[1:-1]
            value = NAMED.get(name) or ids[call.ids.get(name, name)]
            values = value if isinstance(value, list) else [value]
            paths = [p.replace(part, str(v)) for p in paths for v in values]
    return paths


async def test_every_route_answers_exactly_its_declared_model(w, h):
    ids = await _populate(w, h)
    assert api.endpoints
    for ep in api.endpoints:
        for call in _calls(ep):
            for path in _paths(ep, call, ids):
                json = call.json
                if isinstance(json, dict):
                    json = {k: v.format(**ids) if isinstance(v, str) else v for k, v in json.items()}
                data = _csv(call.form) if call.form is not None else None
                resp = await w.api(ep.method, PREFIX + path + call.query, token=w.tokens[call.who], json=json,
                                   data=data)
                where = f"{ep.method} {path}"
                body = await resp.json()
                assert resp.status == (call.status or ep.status), (where, resp.status, body)
                assert_fits(ep.model_for(resp.status), body, where)
                if "items" in body:
                    assert body["items"], f"{where}: populate the app so the list shows a row"
                if call.keep:
                    ids[call.keep] = body["id"]


async def test_an_error_body_fits_its_model(w):
    resp = await w.api("GET", f"{PREFIX}/people?per_page=500", token=w.tokens["li"])
    assert resp.status == 422
    assert_fits(ErrorBody, await resp.json(), "GET /people?per_page=500")
    resp = await w.api("GET", f"{PREFIX}/tickets/99999", token=w.tokens["li"])
    assert resp.status == 404
    assert_fits(ErrorBody, await resp.json(), "GET /tickets/99999")


def test_the_check_fails_on_an_undeclared_or_missing_field():
    from bot.web.api.tickets import HotlineResult

    assert_fits(HotlineResult, {"created": 1, "updated": 0, "unmatched": 0}, "ok")
    with pytest.raises(AssertionError, match="does not fit"):
        assert_fits(HotlineResult, {"created": 1, "updated": 0, "unmatched": 0, "person_id": 7}, "extra")
    with pytest.raises(AssertionError, match="does not fit"):
        assert_fits(HotlineResult, {"created": 1, "updated": 0}, "missing")

    class Loose(BaseModel):
        created: int

    with pytest.raises(AssertionError, match="lets extra fields through"):
        assert_fits(Loose, {"created": 1}, "loose")
    with pytest.raises(AssertionError, match="no response model"):
        assert_fits(None, {}, "undeclared")


def test_every_response_model_is_in_the_openapi_document():
    schemas = openapi_document()["components"]["schemas"]
    for ep in api.endpoints:
        for model in (ep.response, *ep.others.values()):
            assert model is not None and model.__name__ in schemas, (ep.method, ep.path)
            assert schemas[model.__name__].get("additionalProperties") is False, model.__name__


def test_an_answer_that_does_not_fit_its_model_is_never_sent():
    """The wrapper builds every answer through the model: an undeclared field is a bug (a 500),
    not a leak; an answer that fits goes out as the model serialises it."""
    from bot.web.api import Endpoint, Reply, ResponseModelError, respond
    from bot.web.api.tickets import HotlineResult

    async def handler(request):  # noqa: ANN001, ANN202
        raise NotImplementedError

    ep = Endpoint("GET", "/x", handler, "x", "x", response=HotlineResult)
    resp = respond(ep, {"created": 1, "updated": 0, "unmatched": 2})
    assert resp.status == 200 and resp.text == '{"created": 1, "updated": 0, "unmatched": 2}'
    with pytest.raises(ResponseModelError, match="person_id"):
        respond(ep, {"created": 1, "updated": 0, "unmatched": 2, "person_id": 7})
    with pytest.raises(ResponseModelError, match="no response model declared for status 422"):
        respond(ep, Reply({"created": 1, "updated": 0, "unmatched": 2}, 422))
    with pytest.raises(ResponseModelError, match="no response model"):
        respond(Endpoint("GET", "/y", handler, "y", "y"), {"anything": 1})
