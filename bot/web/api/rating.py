"""API: a rating period's results (scoped like the dashboard) and a compound's items."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from bot.web.api import api
from bot.web.schemas import ApiModel
from bot.web.state import db, deps, principal
from bot.web.views import rating as V


class RatingQuery(BaseModel):
    period: str | None = Field(None, max_length=16, description="2026-Q4；默认最近一期")
    community_id: int | None = Field(None, ge=1, le=2_147_483_647)
    street: str | None = Field(None, max_length=64)


class RatingRow(ApiModel):
    compound_id: int
    compound: str
    community: str
    street: str
    stars: int
    computed_stars: int
    klass: str
    total: float
    branch: float
    property: float | None
    adjusted: bool


class RatingOut(ApiModel):
    period: str | None
    status: str | None
    distribution: dict[str, int]
    classes: dict[str, int]
    items: list[RatingRow]


class CompoundQuery(BaseModel):
    period: str | None = Field(None, max_length=16)


class AspectOut(ApiModel):
    key: str
    name: str
    score: float
    max: float


class RatingItemOut(ApiModel):
    """One item of the standard: computed from data, entered by hand (lists) or fixed."""
    key: str
    name: str
    kind: str = Field(description="computed 按数据计算 | entered 按清单条目 | fixed 固定分")
    metric: str | None = Field(None, description="计算所用的指标（computed）")
    value: float | None
    shown: str
    points: float
    max: float
    bonus: bool | None = Field(None, description="加分项（entered）")
    rule: str
    data: dict[str, Any] = Field(description="依据：计入的工单、人员、条目的编号")
    titles: list[str] | None = Field(None, description="计入的清单条目（entered）")
    advice: str | None
    aspect: str | None = Field(None, description="所属方面（物业客观数据项没有）")


class PropertyFormOut(ApiModel):
    """The branch's property form for the period."""
    id: int | None = None
    form_score: float | None
    scores: dict[str, float] | None = Field(None, description="评议表各项 → 分数")
    by: str | None = Field(None, description="填表的账号或人")


class PropertyOut(ApiModel):
    """The property part; its numbers are null for a compound without a property project."""
    score: float | None = None
    form_score: float | None = None
    objective_score: float | None = None
    form_weight: float | None = None
    form: PropertyFormOut | None = Field(None, description="本期评议表（未评议为 null）")
    rule: str | None = None
    project_id: int | None = None
    objective: list[RatingItemOut]


class CompoundRatingOut(ApiModel):
    compound_id: int
    compound: str
    period: str
    live: bool
    stars: int
    klass: str
    total: float
    aspects: list[AspectOut]
    items: list[RatingItemOut]
    property: PropertyOut
    advice: list[str]


@api.route("GET", "/rating", summary="一期支部评星结果（按权限范围）", tag="评星", query=RatingQuery, response=RatingOut)
async def rating_results(request: web.Request, query: RatingQuery) -> dict:
    async with db(request) as session:
        view = await V.overview(deps(request, session), principal(request), query.period, query.community_id,
                                query.street)
    keys = RatingRow.model_fields
    return {
        "period": view.run.period if view.run else None, "status": view.run.status if view.run else None,
        "distribution": dict(view.distribution), "classes": {name: n for name, n, _ in view.classes},
        "items": [{k: row[k] for k in keys} for row in view.rows]}


@api.route("GET", "/rating/compounds/{compound_id}", summary="一个小区的评星：各方面、各项的数值、规则和依据",
           tag="评星", query=CompoundQuery, response=CompoundRatingOut)
async def compound_rating(request: web.Request, query: CompoundQuery) -> dict:
    compound_id = int(request.match_info["compound_id"]) if request.match_info["compound_id"].isdigit() else 0
    async with db(request) as session:
        page = await V.compound_page(deps(request, session), principal(request), compound_id, query.period)
    r = page["r"]
    return {
        "compound_id": compound_id, "compound": page["compound"], "period": page["period"], "live": page["live"],
        "stars": r["stars"], "klass": r["klass"], "total": r["total"], "aspects": r["aspects"],
        "items": [{k: v for k, v in i.items() if k != "links"} for i in r["items"]],
        "property": {k: v for k, v in r["property_detail"].items() if k != "objective"}
        | {"objective": [{k: v for k, v in i.items() if k != "links"} for i in r["property_detail"].get("objective", [])]},
        "advice": page["advice"]}
