"""API: tickets — the board, one ticket with its timeline, every action; 12345 hotline orders."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from bot.audit import record_event
from bot.services import hotline as H
from bot.texts import web as T
from bot.web.api import api, path_int
from bot.web.api.core import Paged
from bot.web.schemas import ApiModel
from bot.web.state import bot, db, deps, principal
from bot.web.tables import json_row
from bot.web.views import tickets as V


class TicketOut(ApiModel):
    id: int
    code: str
    number: int
    compound_id: int
    compound: str
    state: str
    state_label: str
    category: str
    category_label: str
    urgent: bool
    location: str
    summary: str
    reporters_count: int
    assignee_label: str | None
    channel: str = Field(description="从哪里反映：group 群里、private 私聊等")
    created_at: str
    first_response_due: str | None = Field(description="首次响应期限")
    first_response_at: str | None = Field(description="首次响应（派单等）的时间")
    resolve_due: str | None
    resolved_at: str | None
    closed_at: str | None
    overdue: bool
    supervised: bool
    reopen_count: int
    satisfaction: str | None
    satisfaction_label: str = Field(description="满意度的中文；未评价为空")
    hotline_order_no: str | None


class TicketList(Paged):
    items: list[TicketOut]


class TimelineOut(ApiModel):
    at: str
    kind: str
    title: str
    who: str
    note: str | None
    state: str | None


class ReporterOut(ApiModel):
    name: str
    group: str = Field(description="在哪个群反映；私聊为“私聊”")
    text: str
    reported_at: str
    rating: str | None
    rating_label: str
    rating_comment: str | None
    confirm_asked_at: str | None


class AgendaOut(ApiModel):
    topic: str = Field(description="定议题")
    scope: list[str] = Field(description="定范围：参加方")
    owner: str = Field(description="定责任：负责人；未定为空")
    state: str = Field(description="open 待议 | discussed 已议 | dropped 撤下")
    starts_at: str
    place: str | None


class MediaOut(ApiModel):
    id: int
    kind: str
    kind_label: str
    mime: str | None
    size: int | None
    at: str
    url: str = Field(description="后台页面中的文件地址（需登录后台）")


class TicketDetailOut(TicketOut):
    text: str
    resolution: str | None
    reporters: list[ReporterOut]
    timeline: list[TimelineOut]
    agenda: list[AgendaOut]
    reporter_address: str | None = Field(description="反映人的住址（原话未写地点时）")
    media: list[MediaOut]


class ActionResult(ApiModel):
    message: str
    ticket: TicketDetailOut


class HotlineResult(ApiModel):
    created: int
    updated: int
    unmatched: int


# Roster ids the API does not send: the handler is named in assignee_label, the residents who
# reported by name (the dashboard shows no id for either).
TICKET_HIDDEN = ("assignee_person_id",)
REPORTER_HIDDEN = ("person_id",)


@api.route("GET", "/tickets", summary="工单列表（督办、超期在前）", tag="工单", query=V.TicketQuery,
           response=TicketList)
async def list_tickets(request: web.Request, query: V.TicketQuery) -> dict:
    async with db(request) as session:
        table = await V.tickets_table(deps(request, session), principal(request), query)
    return table.as_json(*TICKET_HIDDEN)


async def _detail(request: web.Request, ticket_id: int) -> dict[str, Any]:
    async with db(request) as session:
        ticket = await V.visible_ticket(session, principal(request), ticket_id)
        detail = await V.ticket_detail(deps(request, session), ticket)
    return {
        **json_row(detail["row"], *TICKET_HIDDEN), "text": detail["text"], "resolution": detail["resolution"],
        "reporters": [json_row(r, *REPORTER_HIDDEN) for r in detail["reports"]],
        "timeline": [json_row(asdict(i)) for i in detail["timeline"]],
        "agenda": [json_row(a) for a in detail["agenda"]],
        "reporter_address": detail["reporter_address"],
        "media": [json_row(m) for m in detail["media"]],
    }


@api.route("GET", "/tickets/{ticket_id}", summary="一张工单：内容、反映的居民、经过", tag="工单",
           response=TicketDetailOut)
async def get_ticket(request: web.Request) -> dict:
    return await _detail(request, path_int(request, "ticket_id"))


def _action_endpoint(name: str, model: type[BaseModel], action, summary: str) -> None:  # noqa: ANN001
    async def handler(request: web.Request, body: BaseModel) -> dict:
        user = principal(request)
        ticket_id = path_int(request, "ticket_id")
        async with db(request) as session:
            ticket = await V.visible_ticket(session, user, ticket_id)
            message = await action(deps(request, session), user.actor(), ticket, body)
            await session.commit()
        bot(request).outbox.notify()
        return {"message": message, "ticket": await _detail(request, ticket_id)}

    handler.__name__ = f"ticket_{name.replace('-', '_')}"
    api.route("POST", f"/tickets/{{ticket_id}}/{name}", summary=summary, tag="工单", body=model,
              response=ActionResult)(handler)


for _name, (_model, _action, _summary) in V.ACTIONS.items():
    _action_endpoint(_name, _model, _action, _summary)


@api.route("POST", "/hotline/orders", summary="推送12345热线工单（按工单号新增或更新）", tag="12345热线",
           body=V.HotlineBatch, response=HotlineResult,
           description="供12345平台推送：每条含工单号、受理时间，以及小区编号或小区名/地址（用于匹配小区）。")
async def push_hotline(request: web.Request, body: V.HotlineBatch) -> dict:
    user, app = principal(request), bot(request)
    async with db(request) as session:
        rows = await V.hotline_rows(deps(request, session), user, body)
        result = await H.import_hotline_orders(session, rows, app.clock.now())
        record_event(session, "hotline", 0, "imported", app.clock.now(), actor_web_user=user.username,
                     note=T.HOTLINE_IMPORTED.format(created=result.created, updated=result.updated,
                                                    unmatched=result.unmatched))
        await session.commit()
    return {"created": result.created, "updated": result.updated, "unmatched": result.unmatched}
