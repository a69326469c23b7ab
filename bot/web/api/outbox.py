"""API: messages not delivered yet (waiting or failed), with the reason."""
from __future__ import annotations

from aiohttp import web

from bot.web.api import api
from bot.web.api.core import Paged
from bot.web.schemas import ApiModel
from bot.web.state import bot, db, principal
from bot.web.views import outbox as V


class OutboxOut(ApiModel):
    id: int
    status: str
    status_label: str
    group_id: int | None
    person_id: int | None
    recipient: str
    compound_id: int | None
    compound: str
    attempts: int
    error: str
    created_at: str
    not_before: str | None
    preview: str


class OutboxList(Paged):
    items: list[OutboxOut]


@api.route("GET", "/outbox", summary="未送达的消息（等待中、失败）及原因", tag="消息", query=V.OutboxQuery,
           response=OutboxList)
async def list_outbox(request: web.Request, query: V.OutboxQuery) -> dict:
    async with db(request) as session:
        table = await V.outbox_table(session, bot(request).org, principal(request), query)
    return table.as_json()
