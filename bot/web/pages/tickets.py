"""Tickets: the board (filters, export) and one ticket's page with its timeline and actions.

Actions call the tickets service, so residents and assignees hear about them in chat exactly
as after the chat commands."""
from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from bot.services import ServiceError
from bot.services.tickets import policy
from bot.texts import tickets as TT
from bot.web.errors import from_validation, not_found
from bot.web.pages.common import compound_options, export, export_format, form_dict, page_query
from bot.web.render import redirect, render
from bot.web.state import bot, db, deps, principal
from bot.web.views import tickets as V

routes = web.RouteTableDef()

STATE_OPTIONS = [("open", "未办结"), ("active", "未完结（含待确认）"), ("new", TT.STATE_LABELS["new"]),
                 ("assigned", TT.STATE_LABELS["assigned"]), ("resolved", TT.STATE_LABELS["resolved"]),
                 ("closed", TT.STATE_LABELS["closed"]), ("rejected", TT.STATE_LABELS["rejected"]),
                 ("merged", TT.STATE_LABELS["merged"]), ("all", "全部")]


@routes.get("/tickets")
async def board(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    query = page_query(request, V.TicketQuery)
    async with db(request) as session:
        table = await V.tickets_table(deps(request, session), user, query, export=bool(export_format(request)))
    if export_format(request):
        return export(request, table, "工单")
    return render(request, "tickets.html", {
        "active": "tickets", "t": table, "f": query, "states": STATE_OPTIONS,
        "categories": list(policy.category_labels().items()), "compounds": compound_options(user, app.org),
    })


@routes.get(r"/tickets/{ticket_id:\d+}")
async def ticket_page(request: web.Request) -> web.Response:
    user = principal(request)
    async with db(request) as session:
        ticket = await V.visible_ticket(session, user, int(request.match_info["ticket_id"]))
        detail = await V.ticket_detail(deps(request, session), ticket)
    actor = user.actor()
    return render(request, "ticket.html", {
        "active": "tickets", "d": detail, "v": detail["view"], "kinds": list(V.KIND_WORDS.items()),
        "categories": list(policy.category_labels().items()),
        "can_supervise": actor.roles.has_any(("community_staff", "district_staff"), ticket.compound_id),
    })


@routes.get(r"/tickets/{ticket_id:\d+}/media/{media_id:\d+}")
async def ticket_media(request: web.Request) -> web.StreamResponse:
    """A photo/video a resident sent with the report (same scope check as the ticket page)."""
    user = principal(request)
    async with db(request) as session:
        ticket = await V.visible_ticket(session, user, int(request.match_info["ticket_id"]))
        path, mime = await V.ticket_media_file(session, bot(request).settings, ticket,
                                               int(request.match_info["media_id"]))
    return web.FileResponse(path, headers={"Content-Type": mime, "X-Content-Type-Options": "nosniff",
                                           "Cache-Control": "private, max-age=3600"})


@routes.post(r"/tickets/{ticket_id:\d+}/{action}")
async def act(request: web.Request) -> web.Response:
    user = principal(request)
    name = request.match_info["action"]
    if name not in V.ACTIONS:
        raise not_found()
    model, action, _ = V.ACTIONS[name]
    ticket_id = int(request.match_info["ticket_id"])
    back = f"/dashboard/tickets/{ticket_id}"
    values = await form_dict(request)
    async with db(request) as session:
        ticket = await V.visible_ticket(session, user, ticket_id)
        try:
            form = model.model_validate(values)
        except ValidationError as exc:
            return redirect(request, back, from_validation(exc).message, "err")
        try:
            message = await action(deps(request, session), user.actor(), ticket, form)
        except ServiceError as exc:
            await session.rollback()
            return redirect(request, back, str(exc), "err")
        await session.commit()
    bot(request).outbox.notify()
    return redirect(request, back, message)
