"""Server-rendered pages: one Jinja2 environment (autoescaped), flash messages, redirects."""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from bot.clock import Clock
from bot.roles import role_label
from bot.texts import web as T
from bot.web import security
from bot.web.proxy import is_https
from bot.web.state import ANON_CSRF, PRINCIPAL, state

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
FLASH_COOKIE = "zhibu_flash"


def make_environment(clock: Clock) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template: residents' texts must never become markup
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )

    def local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return clock.local(moment).strftime(fmt) if moment else T.NONE

    def short(moment: datetime | None) -> str:
        if not moment:
            return T.NONE
        here, now = clock.local(moment), clock.local()
        return here.strftime("%H:%M" if here.date() == now.date() else
                             "%m-%d %H:%M" if here.year == now.year else "%Y-%m-%d")

    env.filters.update(local=local, short=short, role=role_label,
                       webrole=lambda r: T.WEB_ROLE_LABELS.get(r, r),
                       yesno=lambda v: T.YES if v else T.NO)
    @jinja2.pass_context
    def query_without(ctx, *keys: str) -> str:  # noqa: ANN001
        query = ctx.get("query") or {}
        return urlencode([(k, v) for k, v in query.items() if k not in keys and v != ""])

    versions = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10] for p in STATIC.iterdir() if p.is_file()}

    def static(name: str) -> str:
        return f"/dashboard/static/{name}?v={versions.get(name, '0')}"

    env.globals.update(T=T, urlencode=urlencode, query_without=query_without, static=static)
    return env


def _flash_value(secret: str, messages: list[tuple[str, str]]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(messages, ensure_ascii=False).encode()).decode()
    return security.sign_cookie(secret, payload)


def flash(response: web.StreamResponse, request: web.Request, message: str, kind: str = "ok") -> None:
    """Show ``message`` on the next page (after a redirect)."""
    response.set_cookie(FLASH_COOKIE, _flash_value(state(request).secret, [(kind, message)]),
                        httponly=True, samesite="Lax", path="/dashboard", secure=is_https(request))


def take_flash(request: web.Request) -> list[tuple[str, str]]:
    raw = security.unsign_cookie(state(request).secret, request.cookies.get(FLASH_COOKIE))
    if not raw:
        return []
    try:
        return [tuple(m) for m in json.loads(base64.urlsafe_b64decode(raw.encode()))][:5]
    except (ValueError, TypeError):
        return []


def redirect(request: web.Request, location: str, message: str | None = None, kind: str = "ok") -> web.Response:
    response = web.Response(status=303, headers={"Location": location})
    if message:
        flash(response, request, message, kind)
    return response


def render(request: web.Request, template: str, context: dict[str, Any] | None = None,
           status: int = 200) -> web.Response:
    st = state(request)
    assert st.templates is not None
    user = request.get(PRINCIPAL)
    messages = take_flash(request)
    nav = list(T.NAV) + (list(T.NAV_ADMIN) if user is not None and user.is_admin else [])
    html = st.templates.get_template(template).render(
        user=user, csrf=user.csrf if user is not None else request.get(ANON_CSRF, ""),
        nav=nav, path=request.path, messages=messages, query=request.query, org=st.bot.org,
        **(context or {}),
    )
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    if messages:
        response.del_cookie(FLASH_COOKIE, path="/dashboard")
    return response
