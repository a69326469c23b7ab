"""API: figures for a district data screen — the summary, one row per compound, every table."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field

from bot.web.api import api
from bot.web.errors import invalid
from bot.web.schemas import ApiModel
from bot.web.state import db, deps, principal
from bot.web.views import stats as V


class StatsSummary(ApiModel):
    open: int = Field(description="未办结工单")
    overdue: int
    new_this_week: int
    resolved_this_week: int
    median_resolve_hours: float | None
    satisfaction: dict[str, int] = Field(description="满意度 → 件数")
    satisfaction_rate: float | None = Field(description="满意率（%）")
    hotline_per_month: dict[str, int] = Field(description="月份（2026-12）→ 12345工单数")
    hotline_this_month: int
    compounds: int


class CompoundFigures(ApiModel):
    compound_id: int
    compound: str
    community: str
    is_key: bool
    open: int
    overdue: int
    new_this_week: int
    resolved_this_week: int
    median_resolve_hours: float | None
    satisfaction_rate: float | None
    hotline_this_month: int


class StatsOut(ApiModel):
    summary: StatsSummary
    compounds: list[CompoundFigures]
    ranking_month: str | None


class ColumnOut(ApiModel):
    key: str
    label: str


class StatsTableOut(ApiModel):
    """A table whose rows have the keys its columns name (a table such as hotline has one column per month)."""
    name: str
    columns: list[ColumnOut]
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int


@api.route("GET", "/stats", summary="数据大屏：汇总与各小区数字", tag="统计", query=V.StatsQuery, response=StatsOut)
async def get_stats(request: web.Request, query: V.StatsQuery) -> dict:
    async with db(request) as session:
        stats = await V.compute(deps(request, session), principal(request), query)
    compounds = stats.tables["compounds"].as_json()["items"]
    return {"summary": V.public_summary(stats), "compounds": compounds, "ranking_month": stats.ranking_month}


@api.route("GET", "/stats/{name}", summary="一张统计表（categories、resolve_time、satisfaction、overdue、"
                                           "ranking、hotline、compounds）", tag="统计", query=V.StatsQuery,
           response=StatsTableOut)
async def get_stats_table(request: web.Request, query: V.StatsQuery) -> dict:
    name = request.match_info["name"]
    if name not in V.TABLES:
        raise invalid("name", f"可选：{'、'.join(V.TABLES)}")
    async with db(request) as session:
        stats = await V.compute(deps(request, session), principal(request), query)
    table = stats.tables[name]
    rows = table.rows[query.offset:query.offset + query.per_page]
    body = {"name": name, "columns": [{"key": c.key, "label": c.label} for c in table.columns],
            "page": query.page, "per_page": query.per_page, "total": len(table.rows)}
    body["items"] = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows]
    return body


