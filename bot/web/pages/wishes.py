"""Micro-wishes: open / claimed / fulfilled, stale claims, members' service records; the branch
posts a wish for someone, confirms a fulfilled one, or withdraws one (the wishes service)."""
from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from bot.services import ServiceError
from bot.services import wishes as W
from bot.web.errors import from_validation
from bot.web.pages.common import compound_options, export, export_format, form_dict, page_query
from bot.web.render import redirect, render
from bot.web.state import bot, db, deps, principal
from bot.web.views import wishes as V

routes = web.RouteTableDef()

STATES = [("active", "进行中"), ("open", "待认领"), ("claimed", "已认领"), ("done", "待确认"),
          ("confirmed", "已实现"), ("cancelled", "已撤回"), ("expired", "已过期"), ("all", "全部")]


@routes.get("/wishes")
async def wishes(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    query = page_query(request, V.WishQuery)
    async with db(request) as session:
        table = await V.wishes_table(session, app.org, user, query, export=bool(export_format(request)))
        if export_format(request):
            return export(request, table, "微心愿")
        stale = await V.stale_table(session, app.org, user, app.clock.now(), query.compound_id)
    return render(request, "wishes.html", {"active": "wishes", "t": table, "f": query, "states": STATES,
                                           "compounds": compound_options(user, app.org), "stale": stale,
                                           "tab": "wishes"})


@routes.get("/wishes/stale")
async def stale(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    query = page_query(request, V.RecordQuery)
    async with db(request) as session:
        table = await V.stale_table(session, app.org, user, app.clock.now(), query.compound_id)
    return export(request, table, "认领超期")


@routes.get("/wishes/records")
async def records(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    query = page_query(request, V.RecordQuery)
    async with db(request) as session:
        table = await V.records_table(deps(request, session), user, query, export=bool(export_format(request)))
    if export_format(request):
        return export(request, table, "党员服务记录")
    return render(request, "records.html", {"active": "wishes", "t": table, "f": query, "tab": "records",
                                            "compounds": compound_options(user, app.org)})


def _form_page(request: web.Request, values: dict, error: str | None = None, status: int = 200) -> web.Response:
    return render(request, "wish_new.html", {"active": "wishes", "v": values, "error": error,
                                              "compounds": compound_options(principal(request), bot(request).org)},
                  status=status)


@routes.get("/wishes/new")
async def new_wish(request: web.Request) -> web.Response:
    options = compound_options(principal(request), bot(request).org)
    return _form_page(request, {"compound_id": options[0][0] if len(options) == 1 else None})


@routes.post("/wishes")
async def create(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    values = await form_dict(request)
    try:
        form = V.WishForm.model_validate(values)
    except ValidationError as exc:
        return _form_page(request, values, from_validation(exc).message, 422)
    if not user.sees(form.compound_id):
        from bot.web.errors import forbidden

        raise forbidden()
    async with db(request) as session:
        try:
            wish = await W.post_wish(deps(request, session), user.actor(), form.compound_id,
                                     V.draft_of(form, app.clock), on_behalf=True)
        except ServiceError as exc:
            await session.rollback()
            return _form_page(request, values, str(exc), 422)
        await session.commit()
    app.outbox.notify()
    return redirect(request, f"/dashboard/wishes/{wish.id}", f"心愿 {wish.number} 已发布，党员可以认领了。")


@routes.get(r"/wishes/{wish_id:\d+}")
async def detail(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    async with db(request) as session:
        wish = await V.visible_wish(session, user, int(request.match_info["wish_id"]))
        row = await V.wish_detail(session, app.org, user.actor(), wish)
    return render(request, "wish.html", {"active": "wishes", "w": row})


async def _act(request: web.Request, action, message: str) -> web.Response:  # noqa: ANN001
    user = principal(request)
    wish_id = int(request.match_info["wish_id"])
    form = await request.post()
    async with db(request) as session:
        await V.visible_wish(session, user, wish_id)
        try:
            await action(deps(request, session), user.actor(), wish_id, str(form.get("reason", ""))[:200] or None)
        except ServiceError as exc:
            await session.rollback()
            return redirect(request, f"/dashboard/wishes/{wish_id}", str(exc), "err")
        await session.commit()
    bot(request).outbox.notify()
    return redirect(request, f"/dashboard/wishes/{wish_id}", message.format(number=f"W{wish_id}"))


@routes.post(r"/wishes/{wish_id:\d+}/confirm")
async def confirm(request: web.Request) -> web.Response:
    async def run(d, actor, wish_id, _reason):  # noqa: ANN001, ANN202
        return await W.confirm(d, actor, wish_id)
    return await _act(request, run, "已确认心愿 {number} 实现，积分已记给帮忙的党员。")


@routes.post(r"/wishes/{wish_id:\d+}/cancel")
async def cancel(request: web.Request) -> web.Response:
    async def run(d, actor, wish_id, reason):  # noqa: ANN001, ANN202
        return await W.cancel(d, actor, wish_id, reason)
    return await _act(request, run, "心愿 {number} 已撤回，已通知认领人。")
