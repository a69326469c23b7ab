"""The overview page: the figures of the user's scope at a glance."""
from __future__ import annotations

from aiohttp import web

from bot.web.render import render
from bot.web.state import bot, db, principal
from bot.web.views import overview

routes = web.RouteTableDef()


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    user, app = principal(request), bot(request)
    async with db(request) as session:
        figures = await overview.figures(session, app, user)
    return render(request, "home.html", {"active": "home", "fig": figures})
