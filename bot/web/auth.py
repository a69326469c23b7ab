"""Log-in, sessions, CSRF and the middlewares that put a ``Principal`` on every request.

Dashboard: a signed, HttpOnly, SameSite=Lax session cookie; every form carries a CSRF token
derived from the session (before log-in: a double-submit cookie). API: a bearer token, or the
dashboard's session cookie plus an ``X-CSRF-Token`` header for writes.
"""
from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

from aiohttp import web

from bot.texts import web as T
from bot.web import accounts, security
from bot.web.errors import ApiError, translate
from bot.web.principal import Principal, build_principal
from bot.web.proxy import client_ip, is_https
from bot.web.render import redirect, render
from bot.web.state import ANON_CSRF, PRINCIPAL, SESSION_TOKEN, bot, db, state

log = logging.getLogger(__name__)

SESSION_COOKIE = "zhibu_session"
ANON_CSRF_COOKIE = "zhibu_csrf"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC = ("/login", "/static/")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # Scripts only from our own files: a resident's "<script>" can never run here.
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "frame-ancestors 'none'; form-action 'self'"),
}


# ---------------------------------------------------------------- principal from a request
async def principal_from_session(request: web.Request) -> Principal | None:
    st = state(request)
    token = security.unsign_cookie(st.secret, request.cookies.get(SESSION_COOKIE))
    if not token:
        return None
    app = st.bot
    async with db(request) as session:
        user = await accounts.session_user(session, token, app.clock.now())
        if user is None:
            return None
        roles = await accounts.person_roles(session, user)
        request[SESSION_TOKEN] = token
        return build_principal(user, app.org, roles, via="session",
                               csrf=security.csrf_for_session(st.secret, token))


async def principal_from_bearer(request: web.Request) -> Principal | None:
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    app = bot(request)
    async with db(request) as session:
        user = await accounts.token_user(session, raw.strip(), app.clock.now())
        if user is None:
            return None
        roles = await accounts.person_roles(session, user)
        return build_principal(user, app.org, roles, via="token")


def _origin_ok(request: web.Request) -> bool:
    """A browser's Origin (when sent) must be this server: a second line behind the token."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def _submitted_csrf(request: web.Request) -> str | None:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()  # cached: the handler reads it again for free
        value = form.get("_csrf")
        return value if isinstance(value, str) else None
    return None


# ---------------------------------------------------------------- dashboard middlewares
@web.middleware
async def dashboard_guard(request: web.Request, handler):  # noqa: ANN001, ANN201
    """Errors as pages, security headers, log-in required, CSRF on every form."""
    try:
        response = await _guarded(request, handler)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _error_page(request, exc.status, T.NOT_FOUND if exc.status == 404 else exc.reason)
    except Exception as exc:  # noqa: BLE001
        error = translate(exc)
        if error is None:
            log.exception("dashboard %s %s failed", request.method, request.path)
            error = ApiError(500, "server_error", T.SERVER_ERROR)
        response = _error_page(request, error.status, error.message)
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    if not request.path.startswith("/dashboard/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error_page(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html", {"status": status, "message": message}, status=status)


async def _guarded(request: web.Request, handler):  # noqa: ANN001, ANN202
    rel = request.path.removeprefix("/dashboard")
    if rel.startswith(PUBLIC):
        if rel.startswith("/static/"):
            return await handler(request)
        return await _public(request, handler)
    user = await principal_from_session(request)
    if user is None:
        if request.method in UNSAFE:
            raise ApiError(403, "csrf", T.SESSION_EXPIRED)
        target = request.path_qs if request.path not in ("/dashboard", "/dashboard/") else "/dashboard/"
        return redirect(request, f"/dashboard/login?next={quote(target, safe='/')}")
    request[PRINCIPAL] = user
    if request.method in UNSAFE:
        if not _origin_ok(request) or not security.same(await _submitted_csrf(request), user.csrf):
            raise ApiError(403, "csrf", T.CSRF_FAILED)
    return await handler(request)


async def _public(request: web.Request, handler):  # noqa: ANN001, ANN202
    """Pages before log-in: a double-submit CSRF cookie protects the log-in form."""
    cookie = request.cookies.get(ANON_CSRF_COOKIE)
    if request.method in UNSAFE:
        if not _origin_ok(request) or not security.same(await _submitted_csrf(request), cookie):
            raise ApiError(403, "csrf", T.CSRF_FAILED)
    token = cookie or security.new_token(24)
    request[ANON_CSRF] = token
    response = await handler(request)
    if not cookie:
        response.set_cookie(ANON_CSRF_COOKIE, token, httponly=True, samesite="Strict",
                            path="/dashboard", secure=is_https(request))
    return response


# ---------------------------------------------------------------- API middleware
@web.middleware
async def api_auth(request: web.Request, handler):  # noqa: ANN001, ANN201
    user = await principal_from_bearer(request)
    if user is None and SESSION_COOKIE in request.cookies:
        user = await principal_from_session(request)
        if user is not None and request.method in UNSAFE:
            if not _origin_ok(request) or not security.same(request.headers.get("X-CSRF-Token"), user.csrf):
                raise ApiError(403, "csrf", T.CSRF_FAILED)
    if user is None:
        raise ApiError(401, "unauthenticated", T.UNAUTHENTICATED)
    request[PRINCIPAL] = user
    return await handler(request)


# ---------------------------------------------------------------- log-in pages
def _safe_next(value: str | None) -> str:
    if value and value.startswith("/dashboard") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard/"


async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html", {"error": None, "username": "", "next": _safe_next(request.query.get("next"))})


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:256]
    target = _safe_next(str(form.get("next", "")))
    app = bot(request)
    now = app.clock.now()
    async with db(request) as session:
        try:
            user = await accounts.authenticate(session, now, username, password, client_ip(request),
                                               state(request).passwords)
        except accounts.AccountError as exc:
            status = 429 if isinstance(exc, accounts.Throttled) else 401
            return render(request, "login.html", {"error": exc.message, "username": username, "next": target},
                          status=status)
        except security.HashingBusy:
            busy = render(request, "login.html", {"error": T.LOGIN_BUSY, "username": username, "next": target},
                          status=429)
            busy.headers["Retry-After"] = "5"
            return busy
        token = await accounts.open_session(session, user, now, client_ip(request),
                                            request.headers.get("User-Agent"))
        await session.commit()
    response = web.Response(status=303, headers={"Location": target})
    response.set_cookie(SESSION_COOKIE, security.sign_cookie(state(request).secret, token), httponly=True,
                        samesite="Lax", path="/", secure=is_https(request),
                        max_age=int(accounts.SESSION_TTL.total_seconds()))
    return response


async def logout(request: web.Request) -> web.Response:
    token = request.get(SESSION_TOKEN)
    if token:
        async with db(request) as session:
            await accounts.close_session(session, token, bot(request).clock.now())
            await session.commit()
    response = redirect(request, "/dashboard/login", T.LOGGED_OUT)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
