"""Typed state of the web app (aiohttp ``AppKey``) and small request helpers."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Deps

if TYPE_CHECKING:
    import jinja2

    from bot.app import BotApp
    from bot.web.principal import Principal
    from bot.web.security import PasswordWorker


@dataclass
class WebState:
    bot: "BotApp"
    secret: str = ""
    templates: "jinja2.Environment | None" = None
    jobs: dict[str, Any] = field(default_factory=dict)       # roster imports in progress
    tasks: set[asyncio.Task] = field(default_factory=set)    # their tasks, cancelled on cleanup
    ready: bool = False
    passwords: "PasswordWorker | None" = None                # argon2 off the loop, bounded


WEB = web.AppKey("zhibu_web", WebState)
PRINCIPAL = web.RequestKey("zhibu_principal", "Principal")
SESSION_TOKEN = web.RequestKey("zhibu_session_token", str)
ANON_CSRF = web.RequestKey("zhibu_anon_csrf", str)


def state(request: web.Request) -> WebState:
    return request.config_dict[WEB]


def bot(request: web.Request) -> "BotApp":
    return state(request).bot


def principal(request: web.Request) -> "Principal":
    return request[PRINCIPAL]


def db(request: web.Request) -> AsyncSession:
    """A database session for one request (use ``async with``)."""
    sessions = bot(request).worker_sessions
    assert sessions is not None
    return sessions()


def deps(request: web.Request, session: AsyncSession) -> Deps:
    app = bot(request)
    return Deps(session, app.clock, app.outbox, app.org, app.settings)
