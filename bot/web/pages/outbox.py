"""Messages not delivered yet (waiting or failed), with the reason, in the user's scope."""
from __future__ import annotations

from aiohttp import web

from bot.web.pages.common import compound_options, export, export_format, page_query
from bot.web.render import render
from bot.web.state import bot, db, principal
from bot.web.views import outbox as V

routes = web.RouteTableDef()


@routes.get("/outbox")
async def outbox(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    query = page_query(request, V.OutboxQuery)
    async with db(request) as session:
        table = await V.outbox_table(session, app.org, user, query, export=bool(export_format(request)))
    if export_format(request):
        return export(request, table, "未送达消息")
    return render(request, "outbox.html", {"active": "outbox", "t": table, "f": query,
                                           "compounds": compound_options(user, app.org)})
