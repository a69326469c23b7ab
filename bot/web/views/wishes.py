"""Micro-wishes and members' service records for the dashboard and API.

Reading through scoped queries and the wishes/members services' query functions; every change
(post on behalf, confirm, withdraw) is a call of ``bot.services.wishes``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models.wishes import ClaimState, Wish, WishClaim, WishState
from bot.months import month_bounds, month_key
from bot.orgdir import OrgDirectory
from bot.services import Actor, Deps
from bot.services import member_points as MP
from bot.services import wish_queries as WQ
from bot.services import wishes as W
from bot.services.names import person_names
from bot.texts import wishes as TW
from bot.web.errors import forbidden, not_found
from bot.web.principal import Principal
from bot.web.tables import Column, PageQuery, Table
from bot.web.views.org import compound_filter

WISH_COLUMNS = [
    Column("number", "编号"), Column("compound", "小区"), Column("building", "楼"), Column("summary", "心愿"),
    Column("category", "类别"), Column("state_label", "状态"), Column("claimers", "认领人"),
    Column("wisher_name", "心愿人"), Column("deadline", "期限", "datetime"), Column("created_at", "发布", "datetime"),
]
STALE_COLUMNS = [
    Column("number", "心愿"), Column("compound", "小区"), Column("summary", "内容"), Column("claimer", "认领人"),
    Column("claimed_at", "认领时间", "datetime"), Column("last_progress_at", "最近进展", "datetime"),
    Column("days", "未更新天数", "number"), Column("reminded_at", "已提醒", "datetime"),
]
RECORD_COLUMNS = [
    Column("name", "党员"), Column("points_period", "本月积分", "number"), Column("points_total", "累计积分", "number"),
    Column("wishes_fulfilled", "实现心愿", "number"), Column("wishes_active", "进行中", "number"),
    Column("posts", "岗位"), Column("duty_reports", "履职次数", "number"), Column("last_at", "最近服务", "datetime"),
]


class WishQuery(PageQuery):
    state: Literal["active", "open", "claimed", "done", "confirmed", "cancelled", "expired", "all"] = "active"
    compound_id: int | None = None
    q: str | None = Field(None, max_length=40)


class RecordQuery(PageQuery):
    compound_id: int | None = None


class WishForm(BaseModel):
    """A wish posted by the branch for someone (代发), as the dashboard form and API send it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    compound_id: int
    summary: str = Field(min_length=1, max_length=W.SUMMARY_MAX)
    wisher_name: str = Field(min_length=1, max_length=64)
    details: str | None = Field(None, max_length=W.DETAILS_MAX)
    address: str | None = Field(None, max_length=128)
    phone: str | None = Field(None, max_length=64)
    building: str | None = Field(None, max_length=16)
    category: str | None = Field(None, max_length=16)
    deadline: datetime | None = None
    max_claimers: int = Field(1, ge=1, le=W.MAX_TEAM)


def _claimers(names: dict[int, str], claims: list[WishClaim]) -> list[str]:
    return [names.get(c.person_id, "?") for c in claims]


async def wishes_table(session: AsyncSession, org: OrgDirectory, user: Principal, query: WishQuery, *,
                       export: bool = False) -> Table:
    stmt = select(Wish)
    where = compound_filter(user, Wish.compound_id, query.compound_id)
    if where is not None:
        stmt = stmt.where(where)
    if query.state == "active":
        stmt = stmt.where(Wish.state.in_([WishState.OPEN, WishState.CLAIMED, WishState.DONE]))
    elif query.state != "all":
        stmt = stmt.where(Wish.state == query.state)
    if query.q:
        like = f"%{query.q}%"
        stmt = stmt.where(or_(Wish.summary.like(like), Wish.wisher_name.like(like)))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    stmt = stmt.order_by(Wish.state == WishState.DONE, Wish.deadline.is_(None), Wish.deadline, Wish.id.desc())
    if not export:
        stmt = stmt.offset(query.offset).limit(query.per_page)
    wishes = list((await session.execute(stmt)).scalars())
    claims = list((await session.execute(select(WishClaim).where(
        WishClaim.wish_id.in_([w.id for w in wishes]),
        WishClaim.state.in_([ClaimState.ACTIVE, ClaimState.DONE])).order_by(WishClaim.id))).scalars())
    names = await person_names(session, {c.person_id for c in claims})
    by_wish: dict[int, list[WishClaim]] = {}
    for c in claims:
        by_wish.setdefault(c.wish_id, []).append(c)
    rows = [wish_row(w, org, _claimers(names, by_wish.get(w.id, []))) for w in wishes]
    return Table("wishes", WISH_COLUMNS, rows, total, query.page, query.per_page)


def wish_row(w: Wish, org: OrgDirectory, claimers: list[str]) -> dict:
    return {
        "id": w.id, "number": w.number, "compound_id": w.compound_id, "compound": org.name_of(w.compound_id),
        "building": w.building, "summary": w.summary, "category": w.category, "state": w.state,
        "state_label": TW.STATE_LABELS.get(w.state, w.state), "claimers": claimers,
        "claimer_count": w.claimer_count, "max_claimers": w.max_claimers, "wisher_name": w.wisher_name,
        "deadline": w.deadline, "created_at": w.created_at, "done_at": w.done_at, "confirmed_at": w.confirmed_at,
    }


async def visible_wish(session: AsyncSession, user: Principal, wish_id: int) -> Wish:
    wish = await session.get(Wish, wish_id)
    if wish is None:
        raise not_found()
    if not user.sees(wish.compound_id):
        raise forbidden()
    return wish


async def wish_detail(session: AsyncSession, org: OrgDirectory, actor: Actor, wish: Wish) -> dict:
    claims = await WQ.claims_of(session, wish.id, (ClaimState.ACTIVE, ClaimState.DONE))
    names = await person_names(session, {c.person_id for c in claims})
    row = wish_row(wish, org, _claimers(names, claims))
    private = await WQ.can_see_private(session, actor, wish)
    row["private"] = {"details": wish.details, "address": wish.address, "phone": wish.contact_phone} if private else None
    row["timeline"] = [{"at": at, "what": what, "who": who, "note": note}
                       for at, what, who, note in await WQ.timeline(session, wish.id)]
    return row


async def stale_table(session: AsyncSession, org: OrgDirectory, user: Principal, now: datetime,
                      compound_id: int | None = None) -> Table:
    ids = None if user.is_district and compound_id is None else (
        [compound_id] if compound_id is not None else sorted(user.compound_ids or []))
    if compound_id is not None and not user.sees(compound_id):
        raise forbidden()
    stale = await WQ.stale_claims(session, now, timedelta(days=W.REMIND_DAYS), ids)
    rows = [{"wish_id": s.wish_id, "number": f"W{s.wish_id}", "compound_id": s.compound_id,
             "compound": org.name_of(s.compound_id), "summary": s.summary, "claimer": s.claimer,
             "person_id": s.person_id, "claimed_at": s.claimed_at, "last_progress_at": s.last_progress_at,
             "days": (now - s.last_progress_at).days, "reminded_at": s.reminded_at} for s in stale]
    return Table("stale_claims", STALE_COLUMNS, rows, len(rows), 1, max(1, len(rows)))


async def records_table(deps: Deps, user: Principal, query: RecordQuery, *, export: bool = False) -> Table:
    compound_id = query.compound_id
    if compound_id is None:
        visible = user.visible(sorted(deps.org.compounds))
        compound_id = visible[0] if visible else None
    if compound_id is None:
        return Table("service_records", RECORD_COLUMNS, [], 0, query.page, query.per_page)
    if not user.sees(compound_id):
        raise forbidden()
    local = deps.clock.local()
    since, until = month_bounds(month_key(local), deps.clock.tz)
    records = await MP.service_records(deps.session, compound_id, deps.clock.now(), since=since, until=until)
    rows = [{"person_id": r.person_id, "name": r.name, "points_period": r.points_period,
             "points_total": r.points_total, "wishes_fulfilled": r.wishes_fulfilled,
             "wishes_active": r.wishes_active, "posts": list(r.posts), "duty_reports": r.duty_reports,
             "first_at": r.first_at, "last_at": r.last_at, "consent_named": r.consent_named} for r in records]
    total = len(rows)
    if not export:
        rows = rows[query.offset:query.offset + query.per_page]
    table = Table("service_records", RECORD_COLUMNS, rows, total, query.page, query.per_page)
    table.extra["compound_id"] = compound_id
    return table


def draft_of(form: WishForm, clock) -> W.WishDraft:  # noqa: ANN001
    from bot.web.views.notices import aware

    return W.WishDraft(summary=form.summary, details=form.details, address=form.address, phone=form.phone,
                       building=form.building, category=form.category, deadline=aware(clock, form.deadline),
                       max_claimers=form.max_claimers, wisher_name=form.wisher_name)
