"""Statistics with charts (inline SVG) and CSV/XLSX export of every table."""
from __future__ import annotations

from aiohttp import web

from bot.web import charts
from bot.web.errors import invalid
from bot.web.pages.common import community_options, compound_options, export, export_format, page_query
from bot.web.render import render
from bot.web.state import bot, db, deps, principal
from bot.web.views import stats as V

routes = web.RouteTableDef()

TITLES = {"categories": "各类工单每周数量", "resolve_time": "办结时长", "satisfaction": "满意度",
          "overdue": "超期工单最多的小区", "ranking": "物业投诉排名", "hotline": "12345热线工单",
          "compounds": "各小区数据"}


@routes.get("/stats")
async def stats_page(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    query = page_query(request, V.StatsQuery)
    async with db(request) as session:
        stats = await V.compute(deps(request, session), user, query)
    if export_format(request):
        if query.table is None:
            raise invalid("table", "请指定要导出的表（table=" + "|".join(V.TABLES) + "）")
        return export(request, stats.tables[query.table], TITLES[query.table])
    s = stats.summary
    palette = charts.PALETTE
    rating_parts = [(label, s["satisfaction"].get(label, 0), color) for label, color in
                    zip(V.RATING_LABELS.values(), (palette[2], palette[5], palette[0], palette[7]))]
    resolve = stats.tables["resolve_time"].rows
    hotline_totals = s.get("hotline_per_month", {})
    figures = {
        "categories": charts.stacked_columns(stats.weeks, stats.category_series, TITLES["categories"]),
        "categories_legend": charts.legend([(name, palette[i % len(palette)])
                                            for i, (name, _) in enumerate(stats.category_series)])
        if stats.category_series else "",
        "resolve": charts.columns([(r["month"][2:], r["median_hours"] or 0) for r in resolve], TITLES["resolve_time"],
                                  unit="小时"),
        "satisfaction": charts.proportion(rating_parts, TITLES["satisfaction"]),
        "satisfaction_legend": charts.legend([(label, color) for label, _, color in rating_parts])
        if any(v for _, v, _ in rating_parts) else "",
        "overdue": charts.hbars([(r["compound"], r["overdue"]) for r in s.get("_overdue_top", [])],
                                TITLES["overdue"], unit="件"),
        "ranking": charts.hbars([(f"{r['rank']}. {r['project']}", r["complaints"])
                                 for r in stats.tables["ranking"].rows[:10]], TITLES["ranking"], unit="件",
                                color=palette[3]),
        "hotline": charts.columns([(m[2:], hotline_totals.get(m, 0)) for m in stats.months], TITLES["hotline"],
                                  unit="件"),
    }
    return render(request, "stats.html", {
        "active": "stats", "s": V.public_summary(stats), "stats": stats, "fig": figures, "f": query,
        "titles": TITLES, "compounds": compound_options(user, app.org),
        "communities": community_options(user, app.org),
    })
