"""支部评星: the rating page (distribution, classes, movers, results; run, review, approve,
publish), a compound's page (aspects and items with their data, history, entries, adjustments,
the property form) and the red/black lists (with their counted tickets and an XLSX export)."""
from __future__ import annotations

from datetime import datetime

from aiohttp import web

from bot.models.rating import EntryKind
from bot.services import ServiceError
from bot.months import previous_month
from bot.services.rating import entries as E
from bot.services.rating import lists as L
from bot.services.rating import periods, runs, standard
from bot.texts import rating as T
from bot.web import charts
from bot.web.errors import forbidden, invalid
from bot.web.pages.common import community_options, export, export_format
from bot.web.render import redirect, render
from bot.web.state import bot, db, deps, principal
from bot.web.views import rating as V

routes = web.RouteTableDef()
BASE = "/dashboard/rating"


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


@routes.get("/rating")
async def rating_page(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    period = request.query.get("period") or None
    community_id = _int(request.query.get("community_id"))
    street = request.query.get("street") or None
    async with db(request) as session:
        d = deps(request, session)
        view = await V.overview(d, user, period, community_id, street)
        streets = V.street_options(user, d)
    if export_format(request):
        return export(request, V.run_table(view), T.WEB_EXPORT_NAME.format(period=view.run.period if view.run else ""))
    std = standard.for_settings(app.settings)
    chart = (charts.columns(view.distribution, T.WEB_DISTRIBUTION, unit="个") if view.rows
             else charts.empty(T.WEB_DISTRIBUTION))
    roles = user.actor().roles
    return render(request, "rating.html", {
        "active": "rating", "v": view, "chart": chart, "std": std, "status": V.STATUS,
        "communities": community_options(user, app.org), "streets": streets, "street": street,
        "label": periods.label,
        "current": periods.last_finished(app.clock.local(), std.period),
        "may_compute": roles.has("district_staff"), "may_review": roles.has_any(("community_staff", "district_staff")),
        "may_approve": roles.has("district_staff"),
    })


async def _run_action(request: web.Request, action: str) -> web.Response:
    user = principal(request)
    form = await request.post()
    period = str(form.get("period", "")).strip()
    std = standard.for_settings(bot(request).settings)
    marked = 0
    async with db(request) as session:
        d = deps(request, session)
        try:
            if action == "compute":
                if not user.actor().roles.has("district_staff"):
                    raise forbidden()
                if not period:
                    raise invalid("period", T.WEB_PICK_PERIOD)
                await runs.compute_run(d, std, period, user.actor())
            else:
                run = await runs.run_for(d, period)
                if run is None:
                    raise invalid("period", T.WEB_NO_RUN)
                if action == "review":
                    marked = await runs.review(d, user.actor(), run)
                elif action == "approve":
                    await runs.approve(d, user.actor(), run)
                else:
                    if not user.actor().roles.has("district_staff"):
                        raise forbidden()
                    await runs.publish(d, std, run, user.actor())
        except ServiceError as exc:
            await session.rollback()
            return redirect(request, f"{BASE}?period={period}", str(exc), "err")
        await session.commit()
    bot(request).outbox.notify()
    done = T.WEB_RUN_DONE[action].format(marked=marked)
    return redirect(request, f"{BASE}?period={period}", T.WEB_RUN_FLASH.format(period=periods.label(period), done=done))


@routes.post("/rating/run")
async def run_compute(request: web.Request) -> web.Response:
    return await _run_action(request, "compute")


@routes.post("/rating/review")
async def run_review(request: web.Request) -> web.Response:
    return await _run_action(request, "review")


@routes.post("/rating/approve")
async def run_approve(request: web.Request) -> web.Response:
    return await _run_action(request, "approve")


@routes.post("/rating/publish")
async def run_publish(request: web.Request) -> web.Response:
    return await _run_action(request, "publish")


@routes.get(r"/rating/compounds/{compound_id:\d+}")
async def compound_page(request: web.Request) -> web.Response:
    user = principal(request)
    async with db(request) as session:
        page = await V.compound_page(deps(request, session), user, int(request.match_info["compound_id"]),
                                     request.query.get("period") or None)
    return render(request, "rating_compound.html", {"active": "rating", "p": page, "V": V,
                                                    "entry_kinds": V.ENTRY_KINDS})


def _back(compound_id: int) -> str:
    return f"{BASE}/compounds/{compound_id}"


@routes.post(r"/rating/compounds/{compound_id:\d+}/adjust")
async def adjust(request: web.Request) -> web.Response:
    user = principal(request)
    cid = int(request.match_info["compound_id"])
    form = await request.post()
    async with db(request) as session:
        d = deps(request, session)
        row = await V.visible_rating(d, user, _int(str(form.get("rating_id", ""))) or 0)
        if row.compound_id != cid:
            raise forbidden()
        try:
            await runs.adjust(d, user.actor(), standard.for_settings(d.settings), row.id,
                              _int(str(form.get("stars", ""))) if str(form.get("stars", "")).isdigit() else -1,
                              str(form.get("reason", ""))[:500])
        except ServiceError as exc:
            await session.rollback()
            return redirect(request, _back(cid), str(exc), "err")
        await session.commit()
    return redirect(request, _back(cid), T.WEB_ADJUSTED)


def _date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d") if value.strip() else None
    except ValueError:
        raise invalid("date", T.WEB_BAD_DATE) from None


@routes.post(r"/rating/compounds/{compound_id:\d+}/entries")
async def add_entry(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    cid = int(request.match_info["compound_id"])
    if not user.sees(cid):
        raise forbidden()
    form = await request.post()
    kind = str(form.get("kind", ""))
    title = str(form.get("title", "")).strip()
    if kind not in {k.value for k in EntryKind} or not title:
        raise invalid("title", T.WEB_ENTRY_INCOMPLETE)
    occurred = _date(str(form.get("occurred_on", "")))
    deadline = _date(str(form.get("deadline", "")))
    tz = app.clock.tz
    async with db(request) as session:
        d = deps(request, session)
        try:
            await E.add_entry(d, user.actor(), standard.for_settings(d.settings), cid, kind, title,
                              occurred_at=occurred.replace(tzinfo=tz) if occurred else None,
                              evidence=str(form.get("evidence", "")).strip()[:2000] or None,
                              item_key=str(form.get("item_key", "")).strip() or None,
                              owner=str(form.get("owner", "")).strip()[:64] or None,
                              deadline=deadline.replace(hour=23, minute=59, tzinfo=tz) if deadline else None)
        except ServiceError as exc:
            await session.rollback()
            return redirect(request, _back(cid), str(exc), "err")
        await session.commit()
    return redirect(request, _back(cid), T.WEB_ENTRY_ADDED)


@routes.post(r"/rating/entries/{entry_id:\d+}/close")
async def close_entry(request: web.Request) -> web.Response:
    user = principal(request)
    entry_id = int(request.match_info["entry_id"])
    async with db(request) as session:
        d = deps(request, session)
        try:
            entry = await E.close_entry(d, user.actor(), entry_id)
        except ServiceError as exc:
            return redirect(request, BASE, str(exc), "err")
        cid = entry.compound_id
        await session.commit()
    return redirect(request, _back(cid), T.WEB_ENTRY_CLOSED)


@routes.post(r"/rating/compounds/{compound_id:\d+}/property")
async def property_form(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    cid = int(request.match_info["compound_id"])
    if not user.sees(cid):
        raise forbidden()
    form = await request.post()
    std = standard.for_settings(app.settings)
    scores = {}
    for item in std.property.form:
        try:
            scores[item.key] = float(str(form.get(item.key, "")))
        except ValueError:
            raise invalid(item.key, T.WEB_FORM_SCORE_MISSING.format(name=item.name)) from None
    period = periods.period_of(app.clock.local(), std.period)
    async with db(request) as session:
        try:
            await E.submit_review(deps(request, session), user.actor(), std, cid, period, scores,
                                  note=str(form.get("note", "")).strip()[:500] or None)
        except ServiceError as exc:
            await session.rollback()
            return redirect(request, _back(cid), str(exc), "err")
        await session.commit()
    return redirect(request, _back(cid), T.WEB_FORM_SAVED)


@routes.get("/rating/lists")
async def lists_page(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    month = request.query.get("month") or previous_month(app.clock.local())
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit():
        raise invalid("month", T.WEB_BAD_MONTH)
    async with db(request) as session:
        d = deps(request, session)
        if export_format(request) == "xlsx":
            data = await L.export_xlsx(d, await L.stored_lists(d, month), None if user.is_district
                                       else set(user.visible(app.org.compounds)))
            return web.Response(body=data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                headers={"Content-Disposition": f'attachment; filename="lists-{month}.xlsx"'})
        view = await V.lists_view(d, user, month)
    return render(request, "rating_lists.html", {"active": "rating", "v": view, "label": periods.label})


@routes.get(r"/rating/projects/{project_id:\d+}")
async def project_page(request: web.Request) -> web.Response:
    user = principal(request)
    async with db(request) as session:
        page = await V.project_history(deps(request, session), user, int(request.match_info["project_id"]))
    return render(request, "rating_project.html", {"active": "rating", "p": page, "label": periods.label})
