"""Messages the bot has not delivered: waiting (any status still on its way) and failed, with why.

Reads ``OutboxMessage`` rows directly and shows their status as stored, so a status added by
the outbox later still appears (under its own name) instead of vanishing from the list.
A group's message belongs to the group's compound, a private one to the person's compound.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChatGroup, OutboxMessage, Person
from bot.orgdir import OrgDirectory
from bot.privacy import masked_preview
from bot.web.principal import Principal
from bot.web.tables import Column, PageQuery, Table
from bot.web.views.org import compound_filter

DONE = ("sent", "cancelled")    # delivered or withdrawn: nothing left to watch
FAILED = ("failed", "expired", "uncertain")  # will not be (re)sent by itself: someone should look
STATUS_LABELS = {"pending": "等待发送", "sending": "正在发送", "failed": "发送失败", "uncertain": "不确定是否送达",
                 "expired": "过期未发", "waiting_connection": "等待连接", "in_flight": "正在发送"}
OUTBOX_COLUMNS = [
    Column("id", "编号", "number"), Column("status_label", "状态"), Column("recipient", "发给"),
    Column("compound", "小区"), Column("attempts", "尝试次数", "number"), Column("error", "原因"),
    Column("created_at", "生成时间", "datetime"), Column("not_before", "下次尝试", "datetime"),
    Column("preview", "内容"),
]


class OutboxQuery(PageQuery):
    state: Literal["all", "waiting", "failed"] = Field("all", description="all：未送达的全部；waiting：等待中；failed：失败")
    compound_id: int | None = None


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


async def outbox_table(session: AsyncSession, org: OrgDirectory, user: Principal, query: OutboxQuery,
                       *, export: bool = False) -> Table:
    compound = func.coalesce(ChatGroup.compound_id, Person.compound_id)
    stmt = (select(OutboxMessage, ChatGroup.topic, Person.name, compound.label("compound_id"))
            .outerjoin(ChatGroup, ChatGroup.id == OutboxMessage.group_id)
            .outerjoin(Person, Person.id == OutboxMessage.person_id)
            .where(OutboxMessage.status.not_in(DONE)))
    if query.state == "failed":
        stmt = stmt.where(OutboxMessage.status.in_(FAILED))
    elif query.state == "waiting":
        stmt = stmt.where(OutboxMessage.status.not_in(FAILED))
    where = compound_filter(user, compound, query.compound_id)
    if where is not None:
        stmt = stmt.where(where)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    stmt = stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if not export:
        stmt = stmt.offset(query.offset).limit(query.per_page)
    rows = []
    for msg, topic, name, compound_id in (await session.execute(stmt)).all():
        recipient = topic if msg.group_id is not None else name
        rows.append({
            "id": msg.id, "status": msg.status, "status_label": status_label(msg.status),
            "group_id": msg.group_id, "person_id": msg.person_id,
            "recipient": recipient or ("群" if msg.group_id is not None else "?"),
            "compound_id": compound_id, "compound": org.name_of(compound_id) if compound_id else "",
            "attempts": msg.attempts, "error": msg.error or "", "created_at": msg.created_at,
            "not_before": msg.not_before, "preview": masked_preview(msg.text),
        })
    return Table("outbox", OUTBOX_COLUMNS, rows, total, query.page, query.per_page)
