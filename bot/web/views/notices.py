"""Notices in the dashboard and API: a form → the notices service (never a second implementation).

The composer builds the same ``Target`` the chat command builds, then calls
``create_notice`` / ``confirm_notice`` / ``cancel_notice``; a broadcast to more than one group
is a draft until confirmed, exactly as in chat.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from bot import timefmt
from bot.clock import Clock
from bot.models.notices import Notice
from bot.services import Actor, Deps, ServiceError
from bot.services import collections as C
from bot.services import notice_delivery as ND
from bot.services import notice_targets as NT
from bot.services import notices as N
from bot.texts import notices as TN
from bot.web.errors import forbidden, not_found
from bot.web.principal import Principal
from bot.web.tables import Column, Table
from nlp.buildings import building_label, building_of

NOTICE_COLUMNS = [
    Column("id", "编号", "number"), Column("status_label", "状态"), Column("scope_label", "范围"),
    Column("preview", "内容"), Column("author", "发布人"), Column("created_at", "创建", "datetime"),
    Column("send_at", "定时", "datetime"), Column("sent_at", "发送", "datetime"),
    Column("delivered", "送达", "number"), Column("failed", "失败", "number"), Column("pending", "待发", "number"),
    Column("acks", "收到人数", "number"), Column("answers", "回复数", "number"),
]
DELIVERY_COLUMNS = [
    Column("label", "群/人"), Column("compound", "小区"), Column("status_label", "状态"),
    Column("error", "失败原因"), Column("sent_at", "送达时间", "datetime"), Column("acks", "收到人数", "number"),
]


class NoticeForm(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    text: str = Field(default="", max_length=N.MAX_CHARS + 200)
    scope: Literal["compound", "building", "community", "district"] = "compound"
    compound_id: int | None = None
    building: str | None = Field(None, max_length=8)
    community_id: int | None = None
    send_at: datetime | None = Field(None, description="定时发送（北京时间，如 2026-12-01T09:00）；不填为立即发送")
    collection_title: str | None = Field(None, max_length=32, description="收集（统计/接龙）的标题")
    collection_fields: str | None = Field(None, max_length=200, description="收集的字段，空格分隔，如“楼号 单元 人数”")
    collection_deadline: datetime | None = None

    @field_validator("building")
    @classmethod
    def _building(cls, value: str | None) -> str | None:
        if value is None:
            return None
        number = building_of(value if not value.isdigit() else f"{value}号楼")
        if number is None:
            raise ValueError("楼号应为数字，如 3")
        return number


class NoticeCreated(BaseModel):
    id: int
    status: str
    needs_confirm: bool
    recipients: int
    targets: str


def aware(clock: Clock, moment: datetime | None) -> datetime | None:
    """A form's local time (no zone) is district time; an API time may carry its own zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.tz)
    return moment.astimezone(clock.now().tzinfo)


def check_scope(user: Principal, form: NoticeForm) -> None:
    """403 for a compound or community outside the user's scope (the service words the rest)."""
    if form.scope in ("compound", "building") and form.compound_id is not None and not user.sees(form.compound_id):
        raise forbidden()
    if form.scope == "community" and form.community_id is not None and not (
            user.is_district or form.community_id in user.community_ids):
        raise forbidden()


async def target_for(deps: Deps, actor: Actor, form: NoticeForm) -> NT.Target:
    if form.scope == "district":
        return NT.district_target(deps, actor)
    if form.scope == "community":
        if form.community_id is None:
            raise ServiceError(TN.NOT_COMMUNITY)
        return NT.community_target(deps, actor, [form.community_id])
    if form.compound_id is None or form.compound_id not in deps.org.compounds:
        raise ServiceError(TN.NO_COMPOUND)
    if form.scope == "building":
        if not form.building:
            raise ServiceError(TN.BUILDING_NEEDS_ONE_COMPOUND)
        # The chat command's own words, so the building is checked by the same rule.
        target, _ = await NT.parse_scope(deps, actor, f"{form.building}号楼", form.compound_id)
        return target
    return NT.compound_target(deps, actor, form.compound_id)


def collection_spec(deps: Deps, form: NoticeForm) -> C.CollectionSpec | None:
    if not form.collection_title and not form.collection_fields:
        return None
    spec = C.parse_spec(f"{form.collection_title or ''}：{form.collection_fields or ''}", deps.clock.local())
    deadline = aware(deps.clock, form.collection_deadline)
    if deadline is not None and deadline <= deps.clock.now():
        raise ServiceError(TN.COLLECTION_DEADLINE_PAST.format(when=timefmt.stored(deps.clock, deadline)))
    return dataclasses.replace(spec, deadline=deadline, description=form.text)


async def compose(deps: Deps, user: Principal, form: NoticeForm) -> N.NoticePlan:
    check_scope(user, form)
    actor = user.actor()
    target = await target_for(deps, actor, form)
    spec = collection_spec(deps, form)
    text = C.notice_text(spec) if spec is not None else form.text
    return await N.create_notice(deps, actor, text, target, send_at=aware(deps.clock, form.send_at),
                                 collection=spec)


async def preview(deps: Deps, user: Principal, form: NoticeForm) -> dict:
    """How many groups (or people) the chosen target reaches now; nothing is written."""
    check_scope(user, form)
    target = await target_for(deps, user.actor(), form)
    recipients = await NT.resolve_recipients(deps, target.as_json())
    unit = TN.UNIT_PERSON if recipients and recipients[0].group_id is None else TN.UNIT_GROUP
    names = "、".join(r.label for r in recipients[:5]) + (TN.PREVIEW_MORE if len(recipients) > 5 else "")
    summary = f"将发送到 {len(recipients)} 个{unit}" + (f"：{names}" if names else "（没有可发送的群）")
    return {"label": target.label, "count": len(recipients), "unit": unit, "summary": summary,
            "targets": [r.label for r in recipients]}


async def visible_notice(deps: Deps, user: Principal, notice_id: int) -> Notice:
    """The notice, or 404/403 when it does not exist or is outside the user's scope."""
    notice = await deps.session.get(Notice, notice_id)
    if notice is None:
        raise not_found()
    if not can_open(user, notice):
        raise forbidden()
    return notice


def can_open(user: Principal, notice: Notice) -> bool:
    """Its author, or staff over every compound it reaches (the service's rule for managing)."""
    if user.is_district or notice.author_web_user == user.username or (
            user.person_id is not None and notice.author_person_id == user.person_id):
        return True
    compounds = (notice.target or {}).get("compound_ids") or []
    return notice.scope != "district" and bool(compounds) and all(user.sees(c) for c in compounds)


def notice_row(deps: Deps, line: N.NoticeLine) -> dict:
    n = line.notice
    return {
        "id": n.id, "kind": n.kind, "status": n.status, "status_label": TN.STATE_LABELS.get(n.status, n.status),
        "scope": n.scope, "scope_label": n.scope_label, "text": n.text,
        "preview": n.text if len(n.text) <= 40 else n.text[:40] + "…",
        "author": n.author_name or n.author_web_user or "", "author_web_user": n.author_web_user,
        "compound_id": n.compound_id, "community_id": n.community_id,
        "created_at": n.created_at, "send_at": n.send_at, "sent_at": n.sent_at, "cancelled_at": n.cancelled_at,
        "delivered": line.counts.sent, "failed": line.counts.failed, "pending": line.counts.pending,
        "cancelled": line.counts.cancelled, "total": line.counts.total, "acks": line.acks, "answers": line.answers,
    }


class NoticeQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["draft", "scheduled", "sent", "cancelled", "expired", "missed"] | None = None
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(50, ge=1, le=200)


async def notices_table(deps: Deps, user: Principal, query: NoticeQuery, *, export: bool = False) -> Table:
    lines = await N.list_notices(deps, user.actor(), limit=2000)
    rows = [notice_row(deps, line) for line in lines if can_open(user, line.notice)]
    if query.status:
        rows = [r for r in rows if r["status"] == query.status]
    total = len(rows)
    if not export:
        start = (query.page - 1) * query.per_page
        rows = rows[start:start + query.per_page]
    return Table("notices", NOTICE_COLUMNS, rows, total, query.page, query.per_page)


def deliveries_table(deps: Deps, detail: N.NoticeDetail) -> Table:
    rows = [{
        "id": d.id, "label": d.label, "group_id": d.group_id, "person_id": d.person_id,
        "compound_id": d.compound_id, "compound": deps.org.name_of(d.compound_id), "status": d.status,
        "status_label": TN.DELIVERY_LABELS.get(d.status, d.status), "error": d.error, "sent_at": d.sent_at,
        "acks": detail.acks_by_delivery.get(d.id, 0),
    } for d in detail.deliveries]
    return Table("deliveries", DELIVERY_COLUMNS, rows, len(rows), 1, max(1, len(rows)))


SILENT_COLUMNS = [
    Column("compound", "小区"), Column("building", TN.EXPORT_SILENT_HEADERS[0]),
    Column("unit", TN.EXPORT_SILENT_HEADERS[1]), Column("room", TN.EXPORT_SILENT_HEADERS[2]),
    Column("name", TN.EXPORT_SILENT_HEADERS[3]),
]


def silent_table(deps: Deps, silent: ND.Silent) -> Table:
    """Roster people who have not replied, by building (names and rooms only, no phones)."""
    rows = [{"person_id": p.id, "compound": deps.org.name_of(p.compound_id), "building": building or None,
             "unit": p.unit, "room": p.room_no, "name": p.name}
            for building, people in silent.by_building.items() for p in people]
    return Table("silent", SILENT_COLUMNS, rows, len(rows), 1, max(1, len(rows)))


def silent_groups(silent: ND.Silent) -> list[tuple[str, list[str]]]:
    """[("3号楼", ["李四 1单元201", …]), …] for the page."""
    out = []
    for building, people in silent.by_building.items():
        label = building_label(building) if building else TN.SILENT_NO_BUILDING
        out.append((label, [f"{p.name} {ND.person_place(p)}".strip() for p in people]))
    return out


async def collection_of(deps: Deps, notice: Notice):  # noqa: ANN201
    from bot.models.notices import Collection

    return (await deps.session.execute(select(Collection).where(Collection.notice_id == notice.id))).scalar_one_or_none()
