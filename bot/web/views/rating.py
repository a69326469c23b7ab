"""Star rating for the dashboard: a run's results scoped to the user, distribution, classes,
movers since the last period, a compound's aspects and items (value, rule, data), its
history, entries and the property form; the red/black lists."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bot.models import PropertyProject
from bot.models.rating import CompoundRating, RatingRun
from bot.services import Deps
from bot.services.rating import entries as E
from bot.services.rating import lists as L
from bot.months import month_bounds
from bot.services.rankings import stored_ranking
from bot.services.rating import periods, runs, standard
from bot.services.rating.complaints import counted_tickets, projects_by_id
from bot.services.tickets.policy import category_labels
from bot.web.errors import forbidden, not_found
from bot.web.principal import Principal
from bot.web.tables import Column, Table
from bot.texts import rating as T

ENTRY_KINDS = T.ENTRY_KINDS
STATUS = T.STATUS

DATA_LINKS = {"tickets": "/dashboard/tickets/{id}", "late": "/dashboard/tickets/{id}", "open": "/dashboard/tickets/{id}",
              "wishes": "/dashboard/wishes/{id}"}
DATA_LABELS = {"tickets": "工单", "late": "未按时", "open": "未销号", "wishes": "心愿", "meetings": "议事日",
               "agenda": "议题", "people": "人员", "posts": "岗位", "visits": "走访对象", "deliveries": "送达",
               "notices": "通知", "entries": "记录", "hotline_orders": "12345工单"}


@dataclass
class Overview:
    runs: list[RatingRun]
    run: RatingRun | None
    rows: list[dict[str, Any]]
    distribution: list[tuple[str, int]]
    classes: list[tuple[str, int, str]]
    movers: list[dict[str, Any]]
    community_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def all_runs(deps: Deps) -> list[RatingRun]:
    return list((await deps.session.execute(select(RatingRun).order_by(RatingRun.starts_at.desc()))).scalars())


def _in_scope(user: Principal, deps: Deps, compound_id: int, community_id: int | None,
              street: str | None = None) -> bool:
    if not user.sees(compound_id):
        return False
    info = deps.org.compounds.get(compound_id)
    if street and (info is None or info.street != street):
        return False
    return community_id is None or deps.org.community_of.get(compound_id) == community_id


def street_options(user: Principal, deps: Deps) -> list[tuple[str, str]]:
    names = sorted({info.street for cid, info in deps.org.compounds.items() if user.sees(cid)})
    return [(n, n) for n in names]


async def overview(deps: Deps, user: Principal, period: str | None, community_id: int | None,
                   street: str | None = None) -> Overview:
    std = standard.for_settings(deps.settings)
    known = await all_runs(deps)
    run = next((r for r in known if r.period == period), None) if period else (known[0] if known else None)
    if run is None:
        return Overview(known, None, [], [], [], [], community_id)
    everything = await runs.ratings_of(deps, run)
    rows = [r for r in everything if _in_scope(user, deps, r.compound_id, community_id, street)]
    before = {}
    older = [r for r in known if r.starts_at < run.starts_at]
    if older:
        before = {r.compound_id: r.stars for r in await runs.ratings_of(deps, older[0])}
    table = []
    for r in sorted(rows, key=lambda r: (-r.stars, -r.total, deps.org.name_of(r.compound_id))):
        info = deps.org.compounds.get(r.compound_id)
        table.append({"rating_id": r.id, "compound_id": r.compound_id, "compound": deps.org.name_of(r.compound_id),
                      "community": info.community if info else "", "street": info.street if info else "",
                      "stars": r.stars, "stars_text": runs.stars_text(r.stars), "klass": r.klass, "total": r.total,
                      "branch": r.branch_score, "property": r.property_score, "computed_stars": r.computed_stars,
                      "adjusted": r.adjustment_reason is not None, "before": before.get(r.compound_id),
                      "reviewed_by": r.reviewed_by})
    counts = Counter(r.stars for r in rows)
    distribution = [(f"{s}星", counts.get(s, 0)) for s in range(5, -1, -1) if s > 0 or counts.get(0)]
    klass = Counter(r.klass for r in rows)
    classes = [(c.name, klass.get(c.name, 0), c.focus) for c in std.classes]
    movers = [row for row in table if row["before"] is not None and row["before"] != row["stars"]]
    movers.sort(key=lambda row: -abs(row["stars"] - row["before"]))
    return Overview(known, run, table, distribution, classes, movers[:20], community_id,
                    {"reviewed": sum(1 for r in everything if r.reviewed_at is not None), "all": len(everything)})


def run_table(view: Overview) -> Table:
    cols = [Column("compound", "小区"), Column("community", "社区"), Column("street", "街道"),
            Column("stars", "星级", "number"), Column("klass", "类别"), Column("total", "总分", "number"),
            Column("branch", "支部得分", "number"), Column("property", "物业评议", "number"),
            Column("computed_stars", "计算星级", "number")]
    name = f"rating-{view.run.period}" if view.run else "rating"
    return Table(name, cols, view.rows, total=len(view.rows), per_page=max(1, len(view.rows)))


def _links(data: dict[str, list[int]]) -> list[dict[str, Any]]:
    out = []
    for key, ids in data.items():
        pattern = DATA_LINKS.get(key)
        out.append({"label": DATA_LABELS.get(key, key), "ids": ids[:50], "more": max(0, len(ids) - 50),
                    "href": pattern})
    return out


async def compound_page(deps: Deps, user: Principal, compound_id: int, period: str | None) -> dict[str, Any]:
    """A compound's rating: the chosen run's stored result, else the current period's estimate."""
    if compound_id not in deps.org.compounds:
        raise not_found()
    if not user.sees(compound_id):
        raise forbidden()
    std = standard.for_settings(deps.settings)
    history = await runs.history(deps, compound_id)
    chosen = next(((run, row) for run, row in history if run.period == period), None) if period else None
    if chosen is None and history and period is None:
        chosen = history[-1]
    if chosen is not None:
        run, row = chosen
        result = {"stars": row.stars, "computed_stars": row.computed_stars, "klass": row.klass, "total": row.total,
                  "branch": row.branch_score, "property": row.property_score, "aspects": row.aspects,
                  "items": row.items, "vetoes": row.vetoes, "property_detail": row.property_detail,
                  "rating_id": row.id, "adjusted_by": row.adjusted_by, "reason": row.adjustment_reason}
        title, status, live = run.period, run.status, False
    else:
        title = period or periods.period_of(deps.clock.local(), std.period)
        [scored] = await runs.score_period(deps, std, title, [compound_id])
        r = scored.result
        result = {"stars": r.stars, "computed_stars": r.stars, "klass": r.klass, "total": r.total,
                  "branch": r.branch_score, "property": r.property_score, "aspects": r.aspects, "items": r.items,
                  "vetoes": r.vetoes, "property_detail": r.property_detail, "rating_id": None}
        run, status, live = None, None, True
    for item in result["items"] + result["property_detail"].get("objective", []):
        item["links"] = _links(item.get("data") or {})
    by_aspect = {a["key"]: [i for i in result["items"] if i.get("aspect") == a["key"]] for a in result["aspects"]}
    return {
        "compound_id": compound_id, "compound": deps.org.name_of(compound_id), "period": title,
        "period_label": periods.label(title), "status": status, "live": live, "run": run, "r": result,
        "by_aspect": by_aspect, "stars_text": runs.stars_text(result["stars"]),
        "advice": runs.advice_lines(result["items"] + result["property_detail"].get("objective", []), limit=10),
        "history": [{"period": run.period, "label": periods.label(run.period), "stars": row.stars,
                     "stars_text": runs.stars_text(row.stars), "klass": row.klass, "total": row.total,
                     "status": run.status} for run, row in history],
        "entries": await E.compound_entries(deps, compound_id),
        "vetoes": std.vetoes, "form": std.property.form, "standard": std,
        "may_enter": E.may_enter(user.actor(), compound_id),
        "may_adjust": user.actor().roles.has_any(("community_staff", "district_staff"), compound_id),
    }


@dataclass
class ListsView:
    month: str
    red: list[dict[str, Any]]
    black: list[dict[str, Any]]
    months: list[str]
    rule: str
    ranking: list[dict[str, Any]] = field(default_factory=list)


async def lists_view(deps: Deps, user: Principal, month: str) -> ListsView:
    std = standard.for_settings(deps.settings)
    stored = await L.stored_lists(deps, month)
    projects = await projects_by_id(deps.session)
    months = sorted({m for (m,) in (await deps.session.execute(
        select(L.PropertyListEntry.month).distinct())).all()}, reverse=True)

    def rows(entries):  # noqa: ANN001, ANN202
        out = []
        for r in entries:
            if not user.sees(r.compound_id):
                continue
            p = projects[r.project_id]
            out.append({"project_id": r.project_id, "project": p.name, "company": p.company,
                        "compound": deps.org.name_of(r.compound_id), "score": r.score, "complaints": r.complaints,
                        "reasons": r.reasons, "tickets": r.ticket_ids})
        return out
    # The month's complaint ranking with the tickets it counted (the same rule as the lists).
    start, end = month_bounds(month, deps.clock.tz)
    counted = await counted_tickets(deps.session, std.complaints, start, end)
    ranking = [{"rank": r.rank, "project_id": r.project_id, "project": r.project_name, "company": r.company,
                "compound": deps.org.name_of(r.compound_id), "complaints": r.complaints,
                "months_running": r.months_running, "on_list": r.action is not None,
                "tickets": counted.get(r.compound_id, [])}
               for r in await stored_ranking(deps, month) if user.sees(r.compound_id)]
    return ListsView(month, rows(stored.red), rows(stored.black), months,
                     std.complaints.describe(category_labels()), ranking)


async def project_history(deps: Deps, user: Principal, project_id: int) -> dict[str, Any]:
    project = await deps.session.get(PropertyProject, project_id)
    if project is None:
        raise not_found()
    if not user.sees(project.compound_id):
        raise forbidden()
    rows = await L.project_history(deps, project_id)
    return {"project": project, "compound": deps.org.name_of(project.compound_id), "rows": rows}


async def visible_rating(deps: Deps, user: Principal, rating_id: int) -> CompoundRating:
    row = await deps.session.get(CompoundRating, rating_id)
    if row is None:
        raise not_found()
    if not user.sees(row.compound_id):
        raise forbidden()
    return row
