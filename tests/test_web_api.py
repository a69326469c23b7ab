"""The JSON API: token auth (401), scopes (403), validation (422 with the field), error bodies,
pagination and the OpenAPI document."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import ChatGroup, Person
from bot.web.app import openapi_document
from bot.web.testing import WebKit


@pytest.fixture
async def w(h):
    async with WebKit(h) as kit:
        await kit.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await kit.add_user("han", "district_staff", admin=True)
        kit.li = await kit.token("li")
        kit.han = await kit.token("han")
        yield kit


def _is_error(body: dict, code: str, field: str | None = None) -> bool:
    err = body.get("error") or {}
    return err.get("code") == code and err.get("message") and (field is None or err.get("field") == field)


async def test_every_endpoint_needs_a_token(w):
    spec = openapi_document()
    for path, ops in spec["paths"].items():
        for method in ops:
            concrete = path.replace("{", "").replace("}", "").replace("_id", "").replace("name", "x")
            concrete = "/".join("1" if part in ("ticket", "notice", "wish", "person", "group", "user") and i > 3
                                else part for i, part in enumerate(concrete.split("/")))
            resp = await w.api(method.upper(), concrete, json={})
            assert resp.status == 401, (method, path)
            assert _is_error(await resp.json(), "unauthenticated")
    resp = await w.api("GET", "/api/v1/me", token="zb_not-a-real-token")
    assert resp.status == 401


async def test_me_describes_the_scope(w):
    body = await (await w.api("GET", "/api/v1/me", token=w.li)).json()
    assert body["role"] == "secretary" and body["district_wide"] is False
    assert [c["name"] for c in body["compounds"]] == ["阳光花园"]


async def test_compounds_are_limited_to_the_scope(w):
    mine = await (await w.api("GET", "/api/v1/compounds", token=w.li)).json()
    every = await (await w.api("GET", "/api/v1/compounds", token=w.han)).json()
    assert [c["name"] for c in mine["items"]] == ["阳光花园"]
    assert len(every["items"]) == 3


async def test_people_list_is_paginated(w):
    first = await (await w.api("GET", "/api/v1/people?per_page=3&page=1", token=w.li)).json()
    second = await (await w.api("GET", "/api/v1/people?per_page=3&page=2", token=w.li)).json()
    assert first["page"] == 1 and first["per_page"] == 3 and len(first["items"]) == 3
    assert first["total"] == second["total"] > 3
    assert not {p["id"] for p in first["items"]} & {p["id"] for p in second["items"]}


@pytest.mark.parametrize("query,field", [("per_page=500", "per_page"), ("page=0", "page"), ("page=abc", "page"),
                                         ("role=king", "role"), ("compound_id=x", "compound_id")])
async def test_bad_query_parameters_are_422_with_the_field(w, query, field):
    resp = await w.api("GET", f"/api/v1/people?{query}", token=w.li)
    assert resp.status == 422
    assert _is_error(await resp.json(), "invalid", field)


async def test_reading_a_person_of_another_compound_by_id_is_403(w, h):
    async with h.session() as session:
        sun = (await session.execute(select(Person.id).where(Person.name == "孙书记"))).scalar_one()
    resp = await w.api("GET", f"/api/v1/people/{sun}", token=w.li)
    assert resp.status == 403
    assert _is_error(await resp.json(), "forbidden")
    assert (await w.api("GET", f"/api/v1/people/{sun}", token=w.han)).status == 200
    assert (await w.api("GET", "/api/v1/people/99999", token=w.han)).status == 404
    resp = await w.api("GET", "/api/v1/people/abc", token=w.han)
    assert resp.status == 422 and _is_error(await resp.json(), "invalid", "person_id")


async def test_listing_another_compound_explicitly_is_403(w):
    resp = await w.api("GET", "/api/v1/people?compound_id=2", token=w.li)
    assert resp.status == 403


async def test_bad_json_body_is_400_and_wrong_types_422(w, h):
    async with h.session() as session:
        group = (await session.execute(select(ChatGroup.id).where(ChatGroup.topic == "阳光花园业主1群"))).scalar_one()
    resp = await w.api("PUT", f"/api/v1/groups/{group}/binding", token=w.han, data="{not json",
                       headers={"Content-Type": "application/json"})
    assert resp.status == 400 and _is_error(await resp.json(), "bad_json")
    resp = await w.api("PUT", f"/api/v1/groups/{group}/binding", token=w.han, json={"compound_id": "abc"})
    assert resp.status == 422 and _is_error(await resp.json(), "invalid", "compound_id")
    resp = await w.api("PUT", f"/api/v1/groups/{group}/binding", token=w.han, json={"compound": 1})
    assert resp.status == 422
    resp = await w.api("PUT", f"/api/v1/groups/{group}/binding", token=w.han, json=[1, 2])
    assert resp.status == 400


async def test_group_binding_through_the_api_respects_scope(w, h):
    async with h.session() as session:
        group = (await session.execute(select(ChatGroup.id).where(ChatGroup.topic == "阳光花园业主2群"))).scalar_one()
    assert (await w.api("PUT", f"/api/v1/groups/{group}/binding", token=w.li, json={"compound_id": 2})).status == 403
    resp = await w.api("PUT", f"/api/v1/groups/{group}/binding", token=w.han, json={"compound_id": 2})
    assert resp.status == 200 and (await resp.json())["compound"] == "兰亭水岸"


async def test_unknown_path_and_wrong_method_have_the_error_body(w):
    resp = await w.api("GET", "/api/v1/nothing-here", token=w.li)
    assert resp.status == 404 and _is_error(await resp.json(), "not_found")
    resp = await w.api("DELETE", "/api/v1/me", token=w.li)
    assert resp.status == 405 and _is_error(await resp.json(), "method_not_allowed")


async def test_session_cookie_writes_need_the_csrf_header(w):
    await w.login("han")
    resp = await w.c.put("/api/v1/groups/1/binding", json={"compound_id": 1})
    assert resp.status == 403 and _is_error(await resp.json(), "csrf")


async def test_users_api_is_for_admins(w):
    assert (await w.api("GET", "/api/v1/users", token=w.li)).status == 403
    resp = await w.api("POST", "/api/v1/users", token=w.han, json={
        "username": "ma", "password": "initial-pass-5", "role": "secretary", "compound_ids": [3]})
    assert resp.status == 201
    body = await resp.json()
    assert body["scope"] == "沂龙湾润园"
    resp = await w.api("POST", "/api/v1/users", token=w.han, json={
        "username": "ma", "password": "initial-pass-5", "role": "secretary", "compound_ids": [3]})
    assert resp.status == 422 and _is_error(await resp.json(), "invalid", "username")
    resp = await w.api("POST", "/api/v1/users", token=w.han, json={
        "username": "ma2", "password": "short", "role": "secretary", "compound_ids": [3]})
    assert resp.status == 422 and _is_error(await resp.json(), "invalid", "password")
    users = await (await w.api("GET", "/api/v1/users", token=w.han)).json()
    ma = next(u for u in users["items"] if u["username"] == "ma")
    resp = await w.api("PATCH", f"/api/v1/users/{ma['id']}", token=w.han, json={"active": False})
    assert resp.status == 200 and (await resp.json())["active"] is False


async def test_audit_api_lists_actions_with_web_user_names(w):
    await w.api("POST", "/api/v1/users", token=w.han, json={
        "username": "ma", "password": "initial-pass-5", "role": "secretary", "compound_ids": [3]})
    body = await (await w.api("GET", "/api/v1/audit?web_only=true", token=w.han)).json()
    assert any(e["actor_web_user"] == "han" and e["action"] == "created" for e in body["items"])


async def test_openapi_document_describes_every_endpoint(w):
    resp = await w.api("GET", "/api/docs/openapi.json")
    spec = await resp.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/people" in spec["paths"] and "get" in spec["paths"]["/api/v1/people"]
    params = {p["name"] for p in spec["paths"]["/api/v1/people"]["get"]["parameters"]}
    assert {"page", "per_page", "compound_id", "role"} <= params
    assert "ErrorBody" in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and "401" in op["responses"], (method, path)
            for response in op["responses"].values():
                for media in response.get("content", {}).values():
                    ref = media["schema"].get("$ref")
                    if ref:
                        assert ref.split("/")[-1] in spec["components"]["schemas"]
    assert spec == openapi_document()


async def test_api_docs_page_is_readable_html(w):
    resp = await w.api("GET", "/api/docs")
    assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
    text = await resp.text()
    assert "/api/v1/people" in text and "Authorization: Bearer" in text
