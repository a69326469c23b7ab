"""Statistics for the dashboard, the exports and the district data screen.

Reads only: ticket, rating, hotline and ranking rows, counted the way the digests count them
(``bot.services.digests``: merged and false tickets are not counted; overdue is its clause).
Everything is limited to the user's compounds.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models.schedules import PropertyRanking, RankingAction
from bot.models.tickets import HotlineOrder, Rating, Ticket, TicketState
from bot.months import month_bounds, shift_month
from bot.services import Deps
from bot.services import digests as D
from bot.services import rankings as R
from bot.services.tickets.stats import ratings_given
from bot.web.errors import forbidden
from bot.web.principal import Principal
from bot.web.tables import Column, PageQuery, Table
from nlp import CATEGORY_LABELS

RATING_LABELS = {Rating.SATISFIED: "满意", Rating.BASIC: "基本满意", Rating.UNSATISFIED: "不满意",
                 Rating.DEFAULT: "未回复（默认办结）"}
ACTION_LABELS = {RankingAction.SUPERVISE: "纳入监管、约谈负责人", RankingAction.REPLACE_MANAGER: "连续2个月：更换项目经理",
                 RankingAction.REPLACE_COMPANY: "连续3个月：更换物业企业"}
TABLES = ("categories", "resolve_time", "satisfaction", "overdue", "ranking", "hotline", "compounds")


def category_labels() -> dict[str, str]:
    return dict(CATEGORY_LABELS)


class StatsQuery(PageQuery):
    compound_id: int | None = None
    community_id: int | None = None
    weeks: int = Field(8, ge=2, le=26)
    months: int = Field(6, ge=2, le=24)
    month: str | None = Field(None, pattern=r"^\d{4}-\d{2}$", description="排名月份，如 2026-11；默认最近一期")
    table: Literal["categories", "resolve_time", "satisfaction", "overdue", "ranking", "hotline",
                   "compounds"] | None = None


def scope_ids(deps: Deps, user: Principal, query: StatsQuery) -> list[int] | None:
    """Compound ids to count (None: every compound, for district staff without a filter)."""
    if query.compound_id is not None:
        if not user.sees(query.compound_id):
            raise forbidden()
        return [query.compound_id]
    if query.community_id is not None:
        ids = [c for c, k in deps.org.community_of.items() if k == query.community_id]
        if not ids or not all(user.sees(c) for c in ids):
            raise forbidden()
        return sorted(ids)
    return None if user.is_district else sorted(user.compound_ids or [])


def _in(column, ids: list[int] | None):  # noqa: ANN001, ANN202
    return column.in_(ids) if ids is not None else true()


def _week_start(deps: Deps, moment: datetime) -> datetime:
    local = deps.clock.local(moment)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday


def _month(deps: Deps, moment: datetime) -> str:
    return deps.clock.local(moment).strftime("%Y-%m")


def _months_back(deps: Deps, count: int) -> list[str]:
    current = _month(deps, deps.clock.now())
    return [shift_month(current, -i) for i in range(count - 1, -1, -1)]


@dataclass
class Stats:
    weeks: list[str] = field(default_factory=list)
    category_series: list[tuple[str, list[int]]] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    ranking_month: str | None = None
    months: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- the figures
async def categories_per_week(deps: Deps, ids: list[int] | None, weeks: int, stats: Stats) -> None:
    now = deps.clock.now()
    first = _week_start(deps, now) - timedelta(weeks=weeks - 1)
    rows = (await deps.session.execute(select(Ticket.created_at, Ticket.category).where(
        Ticket.created_at >= first, Ticket.state.not_in(list(D.NOT_COUNTED)), _in(Ticket.compound_id, ids)))).all()
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    labels = [s.strftime("%m-%d") for s in starts]
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    for created_at, category in rows:
        index = min(weeks - 1, (deps.clock.local(created_at) - first).days // 7)
        counts[category or "other"][index] += 1
    names = category_labels()
    ordered = sorted(counts.items(), key=lambda item: -sum(item[1]))
    series = [(names.get(code, code), values) for code, values in ordered[:7]]
    if len(ordered) > 7:
        rest = [sum(values[i] for _, values in ordered[7:]) for i in range(weeks)]
        series.append(("其他类别", rest))
    stats.weeks, stats.category_series = labels, series
    table_rows = [{"week": f"{starts[i].strftime('%Y-%m-%d')} 起", "category": names.get(code, code),
                   "category_code": code, "count": values[i]}
                  for code, values in ordered for i in range(weeks) if values[i]]
    stats.tables["categories"] = Table("categories", [Column("week", "周"), Column("category", "类别"),
                                                      Column("count", "工单数", "number")], table_rows, len(table_rows))


async def resolve_time(deps: Deps, ids: list[int] | None, months: list[str], stats: Stats) -> None:
    start, _ = month_bounds(months[0], deps.clock.tz)
    rows = (await deps.session.execute(select(Ticket.compound_id, Ticket.created_at, Ticket.resolved_at).where(
        Ticket.resolved_at >= start, Ticket.resolved_at.is_not(None), Ticket.state.not_in(list(D.NOT_COUNTED)),
        _in(Ticket.compound_id, ids)))).all()
    per_month: dict[str, list[float]] = defaultdict(list)
    per_compound: dict[int, list[float]] = defaultdict(list)
    for compound_id, created_at, resolved_at in rows:
        hours = max(0.0, (resolved_at - created_at).total_seconds() / 3600)
        per_month[_month(deps, resolved_at)].append(hours)
        per_compound[compound_id].append(hours)
    table_rows = [{"month": m, "resolved": len(per_month[m]),
                   "median_hours": round(statistics.median(per_month[m]), 1) if per_month[m] else None}
                  for m in months]
    stats.tables["resolve_time"] = Table("resolve_time", [
        Column("month", "月份"), Column("resolved", "办结数", "number"),
        Column("median_hours", "办结时长中位数（小时）", "number")], table_rows, len(table_rows))
    every = [h for values in per_month.values() for h in values]
    stats.summary["median_resolve_hours"] = round(statistics.median(every), 1) if every else None
    stats.summary["_median_by_compound"] = {c: round(statistics.median(v), 1) for c, v in per_compound.items()}


async def satisfaction(deps: Deps, ids: list[int] | None, months: list[str], stats: Stats) -> None:
    start, _ = month_bounds(months[0], deps.clock.tz)
    per_month: dict[str, Counter] = defaultdict(Counter)
    total: Counter = Counter()
    per_compound: dict[int, Counter] = defaultdict(Counter)
    for given in await ratings_given(deps.session, since=start, compound_ids=ids):
        per_month[_month(deps, given.at)][given.rating] += 1
        total[given.rating] += 1
        per_compound[given.compound_id][given.rating] += 1

    def rate(c: Counter) -> float | None:
        answered = c[Rating.SATISFIED] + c[Rating.BASIC] + c[Rating.UNSATISFIED]
        return round(100 * (c[Rating.SATISFIED] + c[Rating.BASIC]) / answered, 1) if answered else None

    table_rows = [{"month": m, "satisfied": per_month[m][Rating.SATISFIED], "basic": per_month[m][Rating.BASIC],
                   "unsatisfied": per_month[m][Rating.UNSATISFIED], "default": per_month[m][Rating.DEFAULT],
                   "rate": rate(per_month[m])} for m in months]
    stats.tables["satisfaction"] = Table("satisfaction", [
        Column("month", "月份"), Column("satisfied", "满意", "number"), Column("basic", "基本满意", "number"),
        Column("unsatisfied", "不满意", "number"), Column("default", "未回复", "number"),
        Column("rate", "满意率（%）", "number")], table_rows, len(table_rows))
    stats.summary["satisfaction"] = {RATING_LABELS[k]: total[k] for k in RATING_LABELS}
    stats.summary["satisfaction_rate"] = rate(total)
    stats.summary["_rate_by_compound"] = {c: rate(v) for c, v in per_compound.items()}


async def overdue(deps: Deps, ids: list[int] | None, stats: Stats, limit: int = 10) -> None:
    now = deps.clock.now()
    rows = (await deps.session.execute(select(Ticket.compound_id, func.count()).where(
        D.overdue_clause(now), _in(Ticket.compound_id, ids)).group_by(Ticket.compound_id)
        .order_by(func.count().desc(), Ticket.compound_id))).all()
    table_rows = [{"compound_id": cid, "compound": deps.org.name_of(cid),
                   "community": deps.org.compounds[cid].community if cid in deps.org.compounds else "",
                   "overdue": n} for cid, n in rows]
    stats.tables["overdue"] = Table("overdue", [Column("compound", "小区"), Column("community", "社区"),
                                                Column("overdue", "超期工单", "number")], table_rows, len(table_rows))
    stats.summary["overdue"] = sum(r["overdue"] for r in table_rows)
    stats.summary["_overdue_top"] = table_rows[:limit]


async def ranking(deps: Deps, ids: list[int] | None, month: str | None, stats: Stats) -> None:
    if month is None:
        month = (await deps.session.execute(select(func.max(PropertyRanking.month)))).scalar_one_or_none()
    stats.ranking_month = month
    rows = await R.stored_ranking(deps, month) if month else []
    if ids is not None:
        rows = [r for r in rows if r.compound_id in set(ids)]
    table_rows = [{"rank": r.rank, "project": r.project_name, "company": r.company, "compound_id": r.compound_id,
                   "compound": deps.org.name_of(r.compound_id), "complaints": r.complaints,
                   "months_running": r.months_running if r.action else 0, "action": r.action,
                   "action_label": ACTION_LABELS.get(r.action, "") if r.action else "",
                   "flag_2_months": r.action == RankingAction.REPLACE_MANAGER,
                   "flag_3_months": r.action == RankingAction.REPLACE_COMPANY} for r in rows]
    stats.tables["ranking"] = Table("ranking", [
        Column("rank", "名次", "number"), Column("project", "物业项目"), Column("company", "物业企业"),
        Column("compound", "小区"), Column("complaints", "投诉工单", "number"),
        Column("months_running", "连续进入前30（月）", "number"), Column("action_label", "处理")],
        table_rows, len(table_rows))


async def hotline(deps: Deps, ids: list[int] | None, months: list[str], stats: Stats) -> None:
    start, _ = month_bounds(months[0], deps.clock.tz)
    rows = (await deps.session.execute(select(HotlineOrder.compound_id, HotlineOrder.received_at).where(
        HotlineOrder.received_at >= start, HotlineOrder.compound_id.is_not(None),
        _in(HotlineOrder.compound_id, ids)))).all()
    grid: dict[int, Counter] = defaultdict(Counter)
    for compound_id, received_at in rows:
        grid[compound_id][_month(deps, received_at)] += 1
    stats.months = months
    table_rows = []
    for cid in sorted(grid, key=lambda c: (-sum(grid[c].values()), deps.org.name_of(c))):
        row: dict[str, Any] = {"compound_id": cid, "compound": deps.org.name_of(cid)}
        row.update({m: grid[cid][m] for m in months})
        row["total"] = sum(grid[cid][m] for m in months)
        table_rows.append(row)
    columns = [Column("compound", "小区")] + [Column(m, m, "number") for m in months] + [Column("total", "合计", "number")]
    stats.tables["hotline"] = Table("hotline", columns, table_rows, len(table_rows))
    stats.summary["hotline_per_month"] = {m: sum(grid[c][m] for c in grid) for m in months}


async def per_compound(deps: Deps, ids: list[int] | None, stats: Stats) -> None:
    """One row per compound: the figures a district data screen pulls."""
    now = deps.clock.now()
    week_start = _week_start(deps, now)
    weekly = await D.compute_weekly(deps.session, week_start, now + timedelta(seconds=1), ids)
    visible = ids if ids is not None else sorted(deps.org.compounds)
    medians = stats.summary.get("_median_by_compound", {})
    rates = stats.summary.get("_rate_by_compound", {})
    hotline_rows = {r["compound_id"]: r for r in stats.tables["hotline"].rows} if "hotline" in stats.tables else {}
    current = _month(deps, now)
    table_rows = []
    for cid in visible:
        f = weekly.get(cid) or D.WeekFigures(cid)
        info = deps.org.compounds.get(cid)
        table_rows.append({
            "compound_id": cid, "compound": deps.org.name_of(cid), "community": info.community if info else "",
            "is_key": info.is_key if info else False, "open": f.open, "overdue": f.overdue,
            "new_this_week": f.new, "resolved_this_week": f.resolved, "median_resolve_hours": medians.get(cid),
            "satisfaction_rate": rates.get(cid), "hotline_this_month": hotline_rows.get(cid, {}).get(current, 0),
        })
    stats.tables["compounds"] = Table("compounds", [
        Column("compound", "小区"), Column("community", "社区"), Column("is_key", "重点小区", "bool"),
        Column("open", "未办结", "number"), Column("overdue", "超期", "number"),
        Column("new_this_week", "本周新增", "number"), Column("resolved_this_week", "本周办结", "number"),
        Column("median_resolve_hours", "办结时长中位数（小时）", "number"),
        Column("satisfaction_rate", "满意率（%）", "number"), Column("hotline_this_month", "本月12345", "number")],
        table_rows, len(table_rows))
    stats.summary.update(
        open=sum(r["open"] for r in table_rows), new_this_week=sum(r["new_this_week"] for r in table_rows),
        resolved_this_week=sum(r["resolved_this_week"] for r in table_rows),
        hotline_this_month=sum(r["hotline_this_month"] for r in table_rows), compounds=len(table_rows))


async def compute(deps: Deps, user: Principal, query: StatsQuery) -> Stats:
    ids = scope_ids(deps, user, query)
    months = _months_back(deps, query.months)
    stats = Stats()
    await categories_per_week(deps, ids, query.weeks, stats)
    await resolve_time(deps, ids, months, stats)
    await satisfaction(deps, ids, months, stats)
    await overdue(deps, ids, stats)
    await ranking(deps, ids, query.month, stats)
    await hotline(deps, ids, months, stats)
    await per_compound(deps, ids, stats)
    return stats


def public_summary(stats: Stats) -> dict[str, Any]:
    return {k: v for k, v in stats.summary.items() if not k.startswith("_")}


async def ticket_state_counts(session: AsyncSession, ids: list[int] | None) -> dict[str, int]:
    rows = (await session.execute(select(Ticket.state, func.count()).where(_in(Ticket.compound_id, ids))
                                  .group_by(Ticket.state))).all()
    return {state: n for state, n in rows if state in {s.value for s in TicketState}}
