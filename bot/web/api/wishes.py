"""API: micro-wishes, stale claims and members' service records."""
from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.services import wishes as W
from bot.web.api import api, path_int
from bot.web.api.core import Paged
from bot.web.errors import forbidden
from bot.web.schemas import ApiModel
from bot.web.state import bot, db, deps, principal
from bot.web.tables import json_row
from bot.web.views import wishes as V


class WishOut(ApiModel):
    id: int
    number: str
    compound_id: int
    compound: str
    building: str | None
    summary: str
    category: str | None
    state: str
    state_label: str
    claimers: list[str]
    claimer_count: int
    max_claimers: int
    wisher_name: str
    deadline: str | None
    created_at: str
    done_at: str | None = Field(description="认领的党员报告完成的时间")
    confirmed_at: str | None = Field(description="确认已实现的时间")


class WishList(Paged):
    items: list[WishOut]


class WishPrivate(ApiModel):
    """Shown only to who may see it (the branch, the claimer); null for everyone else."""
    details: str | None
    address: str | None
    phone: str | None


class WishEventOut(ApiModel):
    at: str
    what: str
    who: str
    note: str | None


class WishDetailOut(WishOut):
    private: WishPrivate | None
    timeline: list[WishEventOut]


class StaleClaimOut(ApiModel):
    wish_id: int
    number: str
    compound_id: int
    compound: str
    summary: str
    claimer: str
    person_id: int = Field(description="认领的党员（/people/{person_id}）")
    claimed_at: str
    last_progress_at: str
    days: int
    reminded_at: str | None


class StaleList(Paged):
    items: list[StaleClaimOut]


class ServiceRecordOut(ApiModel):
    person_id: int = Field(description="党员（/people/{person_id}）")
    name: str
    points_period: int = Field(description="本月积分")
    points_total: int
    wishes_fulfilled: int
    wishes_active: int
    posts: list[str] = Field(description="现任的志愿岗位")
    duty_reports: int
    first_at: str | None
    last_at: str | None
    consent_named: bool = Field(description="同意公开表彰")


class RecordList(Paged):
    items: list[ServiceRecordOut]


class WishBody(V.WishForm):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=200)


@api.route("GET", "/wishes", summary="微心愿列表", tag="微心愿", query=V.WishQuery, response=WishList)
async def list_wishes(request: web.Request, query: V.WishQuery) -> dict:
    async with db(request) as session:
        table = await V.wishes_table(session, bot(request).org, principal(request), query)
    return table.as_json()


@api.route("GET", "/wishes/stale-claims", summary="认领后久未更新的心愿", tag="微心愿", query=V.RecordQuery,
           response=StaleList)
async def stale_claims(request: web.Request, query: V.RecordQuery) -> dict:
    app = bot(request)
    async with db(request) as session:
        table = await V.stale_table(session, app.org, principal(request), app.clock.now(), query.compound_id)
    return table.as_json()


async def _detail(request: web.Request, wish_id: int) -> dict:
    user, app = principal(request), bot(request)
    async with db(request) as session:
        wish = await V.visible_wish(session, user, wish_id)
        row = await V.wish_detail(session, app.org, user.actor(), wish)
    row["timeline"] = [json_row(e) for e in row["timeline"]]
    return json_row(row)


@api.route("GET", "/wishes/{wish_id}", summary="一个心愿（含不公开信息与经过）", tag="微心愿", response=WishDetailOut)
async def get_wish(request: web.Request) -> dict:
    return await _detail(request, path_int(request, "wish_id"))


@api.route("POST", "/wishes", summary="代发心愿（为不用微信的居民）", tag="微心愿", body=WishBody,
           response=WishDetailOut, status=201)
async def post_wish(request: web.Request, body: WishBody) -> dict:
    user, app = principal(request), bot(request)
    if not user.sees(body.compound_id):
        raise forbidden()
    async with db(request) as session:
        wish = await W.post_wish(deps(request, session), user.actor(), body.compound_id,
                                 V.draft_of(body, app.clock), on_behalf=True)
        await session.commit()
        wish_id = wish.id
    app.outbox.notify()
    return await _detail(request, wish_id)


async def _act(request: web.Request, run) -> dict:  # noqa: ANN001
    user = principal(request)
    wish_id = path_int(request, "wish_id")
    async with db(request) as session:
        await V.visible_wish(session, user, wish_id)
        await run(deps(request, session), user.actor(), wish_id)
        await session.commit()
    bot(request).outbox.notify()
    return await _detail(request, wish_id)


@api.route("POST", "/wishes/{wish_id}/confirm", summary="确认心愿已实现（积分记给帮忙的党员）", tag="微心愿",
           response=WishDetailOut)
async def confirm_wish(request: web.Request) -> dict:
    return await _act(request, lambda d, a, i: W.confirm(d, a, i))


@api.route("POST", "/wishes/{wish_id}/cancel", summary="撤回心愿", tag="微心愿", body=ReasonBody,
           response=WishDetailOut)
async def cancel_wish(request: web.Request, body: ReasonBody) -> dict:
    return await _act(request, lambda d, a, i: W.cancel(d, a, i, body.reason))


@api.route("GET", "/members/service-records", summary="党员服务记录（本月与累计积分）", tag="微心愿",
           query=V.RecordQuery, response=RecordList)
async def service_records(request: web.Request, query: V.RecordQuery) -> dict:
    async with db(request) as session:
        table = await V.records_table(deps(request, session), principal(request), query)
    return table.as_json()
