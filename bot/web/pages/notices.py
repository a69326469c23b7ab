"""Notices: compose with targets, preview the group count, send now or schedule, confirm,
cancel; delivery status per group. Every rule is the notices service's."""
from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from bot import timefmt
from bot.models.notices import NoticeStatus
from bot.services import ServiceError
from bot.services import collections as C
from bot.services import notice_delivery as ND
from bot.services import notice_targets as NT
from bot.services import notices as N
from bot.texts import notices as TN
from bot.web.errors import ApiError, from_validation, json_response, parse, translate
from bot.web.pages.common import community_options, compound_options, export, export_format, form_dict, page_query
from bot.web.render import redirect, render
from bot.web.state import bot, db, deps, principal
from bot.web.views import notices as V

routes = web.RouteTableDef()


def _form_context(request: web.Request, values: dict, error: str | None = None, field: str | None = None) -> dict:
    user, app = principal(request), bot(request)
    scopes = [("compound", "整个小区"), ("building", "某栋楼")]
    if user.community_ids or user.is_district:
        scopes.append(("community", "整个社区"))
    if user.is_district:
        scopes.append(("district", "全区"))
    return {"active": "notices", "v": values, "error": error, "error_field": field, "scopes": scopes,
            "compounds": V_compounds(request), "communities": community_options(user, app.org),
            "max_chars": N.MAX_CHARS}


def V_compounds(request: web.Request) -> list[tuple[int, str]]:  # noqa: N802
    return compound_options(principal(request), bot(request).org)


@routes.get("/notices")
async def notices(request: web.Request) -> web.Response:
    user = principal(request)
    query = page_query(request, V.NoticeQuery)
    async with db(request) as session:
        table = await V.notices_table(deps(request, session), user, query, export=bool(export_format(request)))
        await session.commit()  # the service brought delivery records up to date
    if export_format(request):
        return export(request, table, "通知")
    return render(request, "notices.html", {"active": "notices", "t": table, "f": query,
                                            "states": list(TN.STATE_LABELS.items())})


@routes.get("/notices/new")
async def new_notice(request: web.Request) -> web.Response:
    options = V_compounds(request)
    values = {"scope": "compound", "compound_id": options[0][0] if len(options) == 1 else None}
    return render(request, "notice_new.html", _form_context(request, values))


@routes.get("/notices/preview")
async def preview(request: web.Request) -> web.Response:
    """JSON for the composer: how many groups the target reaches."""
    user = principal(request)
    try:
        form = parse(V.NoticeForm, {k: v for k, v in request.query.items() if v != ""})
        async with db(request) as session:
            return json_response(await V.preview(deps(request, session), user, form))
    except (ApiError, ServiceError) as exc:
        error = translate(exc)
        return json_response(error.body(), status=error.status)


@routes.post("/notices")
async def create(request: web.Request) -> web.Response:
    user = principal(request)
    values = await form_dict(request)
    try:
        form = V.NoticeForm.model_validate(values)
    except ValidationError as exc:
        error = from_validation(exc)
        return render(request, "notice_new.html", _form_context(request, values, error.message, error.field), status=422)
    async with db(request) as session:
        try:
            plan = await V.compose(deps(request, session), user, form)
        except ServiceError as exc:
            await session.rollback()
            return render(request, "notice_new.html", _form_context(request, values, str(exc)), status=422)
        await session.commit()
        notice = plan.notice
    bot(request).outbox.notify()
    if plan.needs_confirm:
        message = f"请核对预览：将发送到 {len(plan.recipients)} 个{plan.unit}，确认后才会发送。"
    elif notice.status == NoticeStatus.SCHEDULED:
        message = f"通知#{notice.id}已定时。"
    else:
        message = f"通知#{notice.id}已提交发送。"
    return redirect(request, f"/dashboard/notices/{notice.id}", message)


@routes.get(r"/notices/{notice_id:\d+}")
async def detail(request: web.Request) -> web.Response:
    user = principal(request)
    notice_id = int(request.match_info["notice_id"])
    async with db(request) as session:
        d = deps(request, session)
        notice = await V.visible_notice(d, user, notice_id)
        info = await N.notice_detail(d, user.actor(), notice.id)
        collection = await V.collection_of(d, notice)
        table = V.deliveries_table(d, info)
        body = ND.render(d, notice, collection)
        silent = await ND.silent_people(d, user.actor(), notice.id) if notice.status == NoticeStatus.SENT else None
        await session.commit()
    if export_format(request):
        return export(request, table, f"通知{notice_id}发送情况")
    actor = user.actor()
    return render(request, "notice.html", {
        "active": "notices", "n": notice, "info": info, "t": table, "body": body, "collection": collection,
        "silent": silent, "silent_groups": V.silent_groups(silent) if silent else [],
        "state": TN.STATE_LABELS.get(notice.status, notice.status), "is_author": NT.is_author(notice, actor),
        "can_cancel": notice.status in (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED) or (
            notice.status == NoticeStatus.SENT and info.counts.pending > 0),
    })


async def _act(request: web.Request, action) -> web.Response:  # noqa: ANN001
    user = principal(request)
    notice_id = int(request.match_info["notice_id"])
    async with db(request) as session:
        d = deps(request, session)
        await V.visible_notice(d, user, notice_id)
        try:
            message = await action(d, user.actor(), notice_id)
        except ServiceError as exc:
            await session.rollback()
            return redirect(request, f"/dashboard/notices/{notice_id}", str(exc), "err")
        await session.commit()
    bot(request).outbox.notify()
    return redirect(request, f"/dashboard/notices/{notice_id}", message)


async def _confirm(d, actor, notice_id: int) -> str:  # noqa: ANN001
    plan = await N.confirm_notice(d, actor, notice_id)
    if plan.notice.status == NoticeStatus.SCHEDULED:
        return TN.SCHEDULED.format(id=notice_id, when=timefmt.stored(d.clock, plan.notice.send_at), count=len(plan.recipients),
                                   unit=plan.unit, targets=plan.targets_text()).split("如需取消")[0]
    return f"通知#{notice_id}已提交发送：{len(plan.recipients)}个{plan.unit}。"


async def _cancel(d, actor, notice_id: int) -> str:  # noqa: ANN001
    result = await N.cancel_notice(d, actor, notice_id)
    if result.partly:
        return TN.CANCELLED_PARTLY.format(id=notice_id, sent=result.sent, stopped=result.stopped)
    return TN.CANCELLED.format(id=notice_id)


@routes.post(r"/notices/{notice_id:\d+}/confirm")
async def confirm(request: web.Request) -> web.Response:
    return await _act(request, _confirm)


@routes.post(r"/notices/{notice_id:\d+}/cancel")
async def cancel(request: web.Request) -> web.Response:
    return await _act(request, _cancel)


@routes.get(r"/notices/{notice_id:\d+}/silent")
async def silent(request: web.Request) -> web.Response:
    """The roster people who have not replied, as CSV or Excel (?format=xlsx)."""
    user = principal(request)
    notice_id = int(request.match_info["notice_id"])
    async with db(request) as session:
        d = deps(request, session)
        notice = await V.visible_notice(d, user, notice_id)
        table = V.silent_table(d, await ND.silent_people(d, user.actor(), notice.id))
    return export(request, table, f"通知{notice_id}{TN.EXPORT_SILENT_SHEET}")


@routes.get(r"/notices/{notice_id:\d+}/answers.xlsx")
async def answers(request: web.Request) -> web.Response:
    user = principal(request)
    notice_id = int(request.match_info["notice_id"])
    async with db(request) as session:
        d = deps(request, session)
        await V.visible_notice(d, user, notice_id)
        data = await C.export_xlsx(d, user.actor(), notice_id)
    from bot.web.tables import _disposition

    return web.Response(body=data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": _disposition(f"通知{notice_id}回复.xlsx")})
