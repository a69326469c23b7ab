"""API: figures for a district data screen — the summary, one row per compound, every table."""
from __future__ import annotations



from aiohttp import web
from pydantic import BaseModel

from bot.web.api import api
from bot.web.errors import invalid, json_response
from bot.web.state import db, deps, principal
from bot.web.views import stats as V


class StatsOut(BaseModel):
    summary: dict
    compounds: list[dict]
    ranking_month: str | None


class StatsTableOut(BaseModel):
    name: str
    columns: list[dict]
    items: list[dict]
    page: int
    per_page: int
    total: int


@api.route("GET", "/stats", summary="数据大屏：汇总与各小区数字", tag="统计", query=V.StatsQuery, response=StatsOut)
async def get_stats(request: web.Request, query: V.StatsQuery) -> web.Response:
    async with db(request) as session:
        stats = await V.compute(deps(request, session), principal(request), query)
    compounds = stats.tables["compounds"].as_json()["items"]
    return json_response({"summary": V.public_summary(stats), "compounds": compounds,
                          "ranking_month": stats.ranking_month})


@api.route("GET", "/stats/{name}", summary="一张统计表（categories、resolve_time、satisfaction、overdue、"
                                           "ranking、hotline、compounds）", tag="统计", query=V.StatsQuery,
           response=StatsTableOut)
async def get_stats_table(request: web.Request, query: V.StatsQuery) -> web.Response:
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
    return json_response(body)


