"""API: notices — list, preview, create (draft or send/schedule), confirm, cancel, delivery records."""
from __future__ import annotations

from aiohttp import web
from pydantic import ConfigDict, Field

from bot.services import notice_delivery as ND
from bot.services import notices as N
from bot.web.api import api, path_int
from bot.web.api.core import Paged
from bot.web.schemas import ApiModel
from bot.web.state import bot, db, deps, principal
from bot.web.tables import json_row
from bot.web.views import notices as V


class NoticeBody(V.NoticeForm):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=N.MAX_CHARS, description="通知正文（收集时为说明）")
    confirm: bool = Field(False, description="发到多个群时直接确认（调用方已展示过预览）；否则返回草稿，需再调用 confirm")


class PreviewOut(ApiModel):
    label: str
    count: int
    unit: str
    summary: str
    targets: list[str]


class NoticeOut(ApiModel):
    id: int
    kind: str
    status: str
    status_label: str
    scope: str
    scope_label: str
    text: str
    author: str
    author_web_user: str | None = Field(description="在后台发布时的账号")
    compound_id: int | None = Field(description="发到一个小区（或其中一栋楼）时的小区")
    community_id: int | None = Field(description="发到一个社区时的社区")
    created_at: str
    send_at: str | None
    sent_at: str | None
    cancelled_at: str | None
    delivered: int
    failed: int
    pending: int
    cancelled: int = Field(description="撤回而未发出的条数")
    total: int
    acks: int
    answers: int | None


class NoticeList(Paged):
    items: list[NoticeOut]


class DeliveryOut(ApiModel):
    id: int
    label: str
    group_id: int | None
    person_id: int | None
    compound_id: int | None
    compound: str
    status: str
    status_label: str
    error: str | None
    sent_at: str | None
    acks: int


class NoticeDetailOut(NoticeOut):
    rendered: str
    deliveries: list[DeliveryOut]


NOTICE_HIDDEN = ("preview",)  # the list page's first 40 characters of text


@api.route("GET", "/notices", summary="通知列表（待发在前）", tag="通知", query=V.NoticeQuery, response=NoticeList)
async def list_notices(request: web.Request, query: V.NoticeQuery) -> dict:
    async with db(request) as session:
        table = await V.notices_table(deps(request, session), principal(request), query)
        await session.commit()
    return table.as_json(*NOTICE_HIDDEN)


@api.route("POST", "/notices/preview", summary="预览发送范围（群数），不发送", tag="通知", body=NoticeBody,
           response=PreviewOut)
async def preview_notice(request: web.Request, body: NoticeBody) -> dict:
    async with db(request) as session:
        return await V.preview(deps(request, session), principal(request), body)


async def _detail(request: web.Request, notice_id: int) -> dict:
    user = principal(request)
    async with db(request) as session:
        d = deps(request, session)
        notice = await V.visible_notice(d, user, notice_id)
        info = await N.notice_detail(d, user.actor(), notice.id)
        collection = await V.collection_of(d, notice)
        line = N.NoticeLine(notice, info.counts, info.acks, None)
        out = json_row(V.notice_row(d, line), *NOTICE_HIDDEN)
        out["rendered"] = ND.render(d, notice, collection)
        out["deliveries"] = [json_row(r) for r in V.deliveries_table(d, info).rows]
        await session.commit()
    return out


@api.route("POST", "/notices", summary="发布通知：一个群直接发送/定时，多个群先成草稿", tag="通知", body=NoticeBody,
           response=NoticeDetailOut, status=201,
           description="scope=compound|building|community|district；send_at 为空则立即发送。"
                       "发到多个群时返回 status=draft，需调用 /notices/{id}/confirm（或请求时 confirm=true）。")
async def create_notice(request: web.Request, body: NoticeBody) -> dict:
    user = principal(request)
    actor = user.actor()
    async with db(request) as session:
        d = deps(request, session)
        plan = await V.compose(d, user, body)
        if plan.needs_confirm and body.confirm:
            await N.confirm_notice(d, actor, plan.notice.id)
        await session.commit()
        notice_id = plan.notice.id
    bot(request).outbox.notify()
    return await _detail(request, notice_id)


@api.route("GET", "/notices/{notice_id}", summary="通知详情与每个群的发送情况", tag="通知", response=NoticeDetailOut)
async def get_notice(request: web.Request) -> dict:
    return await _detail(request, path_int(request, "notice_id"))


@api.route("POST", "/notices/{notice_id}/confirm", summary="确认草稿：发送或定时", tag="通知", response=NoticeDetailOut)
async def confirm_notice(request: web.Request) -> dict:
    user = principal(request)
    notice_id = path_int(request, "notice_id")
    async with db(request) as session:
        d = deps(request, session)
        await V.visible_notice(d, user, notice_id)
        await N.confirm_notice(d, user.actor(), notice_id)
        await session.commit()
    bot(request).outbox.notify()
    return await _detail(request, notice_id)


@api.route("POST", "/notices/{notice_id}/cancel", summary="撤回：待确认/定时的不再发送，发送中的停止", tag="通知",
           response=NoticeDetailOut)
async def cancel_notice(request: web.Request) -> dict:
    user = principal(request)
    notice_id = path_int(request, "notice_id")
    async with db(request) as session:
        d = deps(request, session)
        await V.visible_notice(d, user, notice_id)
        await N.cancel_notice(d, user.actor(), notice_id)
        await session.commit()
    return await _detail(request, notice_id)


