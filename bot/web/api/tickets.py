"""API: tickets — the board, one ticket with its timeline, every action; 12345 hotline orders."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from bot.audit import record_event
from bot.services import hotline as H
from bot.texts import web as T
from bot.web.api import api, path_int
from bot.web.api.core import Paged
from bot.web.errors import json_response
from bot.web.state import bot, db, deps, principal
from bot.web.views import tickets as V


class TicketOut(BaseModel):
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
    created_at: str
    resolve_due: str | None
    resolved_at: str | None
    closed_at: str | None
    overdue: bool
    supervised: bool
    reopen_count: int
    satisfaction: str | None
    hotline_order_no: str | None


class TicketList(Paged):
    items: list[TicketOut]


class TimelineOut(BaseModel):
    at: str
    kind: str
    title: str
    who: str
    note: str | None
    state: str | None


class TicketDetailOut(TicketOut):
    text: str
    resolution: str | None
    reporters: list[dict]
    timeline: list[TimelineOut]
    agenda: list[dict]


class ActionResult(BaseModel):
    message: str
    ticket: TicketDetailOut


class HotlineResult(BaseModel):
    created: int
    updated: int
    unmatched: int


@api.route("GET", "/tickets", summary="工单列表（督办、超期在前）", tag="工单", query=V.TicketQuery,
           response=TicketList)
async def list_tickets(request: web.Request, query: V.TicketQuery) -> web.Response:
    async with db(request) as session:
        table = await V.tickets_table(deps(request, session), principal(request), query)
    return json_response(table.as_json())


async def _detail(request: web.Request, ticket_id: int) -> dict[str, Any]:
    async with db(request) as session:
        ticket = await V.visible_ticket(session, principal(request), ticket_id)
        return V.detail_json(await V.ticket_detail(deps(request, session), ticket))


@api.route("GET", "/tickets/{ticket_id}", summary="一张工单：内容、反映的居民、经过", tag="工单",
           response=TicketDetailOut)
async def get_ticket(request: web.Request) -> web.Response:
    return json_response(await _detail(request, path_int(request, "ticket_id")))


def _action_endpoint(name: str, model: type[BaseModel], action, summary: str) -> None:  # noqa: ANN001
    async def handler(request: web.Request, body: BaseModel) -> web.Response:
        user = principal(request)
        ticket_id = path_int(request, "ticket_id")
        async with db(request) as session:
            ticket = await V.visible_ticket(session, user, ticket_id)
            message = await action(deps(request, session), user.actor(), ticket, body)
            await session.commit()
        bot(request).outbox.notify()
        return json_response({"message": message, "ticket": await _detail(request, ticket_id)})

    handler.__name__ = f"ticket_{name.replace('-', '_')}"
    api.route("POST", f"/tickets/{{ticket_id}}/{name}", summary=summary, tag="工单", body=model,
              response=ActionResult)(handler)


for _name, (_model, _action, _summary) in V.ACTIONS.items():
    _action_endpoint(_name, _model, _action, _summary)


@api.route("POST", "/hotline/orders", summary="推送12345热线工单（按工单号新增或更新）", tag="12345热线",
           body=V.HotlineBatch, response=HotlineResult,
           description="供12345平台推送：每条含工单号、受理时间，以及小区编号或小区名/地址（用于匹配小区）。")
async def push_hotline(request: web.Request, body: V.HotlineBatch) -> web.Response:
    user, app = principal(request), bot(request)
    async with db(request) as session:
        rows = await V.hotline_rows(deps(request, session), user, body)
        result = await H.import_hotline_orders(session, rows, app.clock.now())
        record_event(session, "hotline", 0, "imported", app.clock.now(), actor_web_user=user.username,
                     note=T.HOTLINE_IMPORTED.format(created=result.created, updated=result.updated,
                                                    unmatched=result.unmatched))
        await session.commit()
    return json_response({"created": result.created, "updated": result.updated, "unmatched": result.unmatched})
