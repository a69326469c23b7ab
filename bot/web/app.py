"""The web dashboard (``/dashboard``), the JSON API (``/api/v1``) and its docs (``/api/docs``).

``mount_dashboard(root, bot)`` adds them to an aiohttp app that may also serve the chat
simulator at ``/``; ``build_web_app(bot)`` makes such an app on its own. The bot must be
opened (database ready) before the web app starts.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, AsyncIterator

from aiohttp import web

from bot.texts import web as T
from bot.web import accounts, security
from bot.web.api import api
from bot.web.api import core as api_core, notices as api_notices, outbox as api_outbox, rating as api_rating
from bot.web.api import stats as api_stats, tickets as api_tickets, wishes as api_wishes
from bot.web.auth import api_auth, dashboard_guard, login_page, login_submit, logout
from bot.web.errors import api_errors, json_response
from bot.web.ids import ids_in_range
from bot.web.render import STATIC, make_environment
from bot.web.pages import admin, home, notices, outbox, people, rating, stats, tickets, wishes
from bot.web.state import WEB, WebState

if TYPE_CHECKING:
    from bot.app import BotApp

PAGE_MODULES = (home, people, admin, tickets, wishes, notices, stats, outbox, rating)
# Each API module registers its endpoints with ``api`` when imported.
API_MODULES = (api_core, api_tickets, api_wishes, api_notices, api_stats, api_outbox, api_rating)
MAX_UPLOAD = 20 * 1024 * 1024


async def _web_ctx(root: web.Application) -> AsyncIterator[None]:
    """Resources of the web app, created and disposed in one place."""
    st = root[WEB]
    if st.bot.worker_sessions is None:
        raise RuntimeError("open the BotApp before starting the web app")
    async with st.bot.worker_sessions() as session:
        st.secret = await accounts.load_secret(session, st.bot.settings)
    st.templates = make_environment(st.bot.clock)
    st.passwords = security.PasswordWorker()
    st.ready = True
    yield
    st.passwords.close()
    for task in list(st.tasks):
        task.cancel()
    if st.tasks:
        await asyncio.gather(*st.tasks, return_exceptions=True)
    st.tasks.clear()
    st.jobs.clear()


def dashboard_app() -> web.Application:
    dash = web.Application(middlewares=[dashboard_guard, ids_in_range], client_max_size=MAX_UPLOAD)
    dash.router.add_get("/login", login_page)
    dash.router.add_post("/login", login_submit)
    dash.router.add_post("/logout", logout)
    for module in PAGE_MODULES:
        dash.add_routes(module.routes)
    dash.router.add_static("/static", STATIC, name="static")
    return dash


def api_app() -> web.Application:
    sub = web.Application(middlewares=[api_errors, api_auth, ids_in_range], client_max_size=MAX_UPLOAD)
    api.install(sub)
    return sub


def openapi_document() -> dict:
    return api.openapi(T.API_TITLE, "1.0")


async def api_docs(request: web.Request) -> web.StreamResponse:
    spec = openapi_document()
    if request.path.endswith(".json") or "application/json" in request.headers.get("Accept", ""):
        return json_response(spec)
    st = request.config_dict[WEB]
    assert st.templates is not None
    html = st.templates.get_template("api_docs.html").render(spec=spec, user=None, nav=[], path=request.path,
                                                              messages=[], csrf="", query=request.query,
                                                              org=st.bot.org)
    return web.Response(text=html, content_type="text/html", charset="utf-8")


async def _to_dashboard(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/dashboard/")


def mount_dashboard(root: web.Application, bot: "BotApp") -> WebState:
    st = WebState(bot=bot)
    root[WEB] = st
    root.cleanup_ctx.append(_web_ctx)
    root.router.add_get("/dashboard", _to_dashboard)
    root.router.add_get("/api/docs", api_docs)
    root.router.add_get("/api/docs/openapi.json", api_docs)
    root.add_subapp("/dashboard", dashboard_app())
    root.add_subapp("/api/v1", api_app())
    return st


def build_web_app(bot: "BotApp") -> web.Application:
    root = web.Application(client_max_size=MAX_UPLOAD)
    mount_dashboard(root, bot)
    return root
