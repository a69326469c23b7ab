"""Domain services: the rules of tickets, wishes and notices, shared by chat and dashboard.

A service function takes ``Deps`` (what it works with) and an ``Actor`` (who acts), so the
chat handlers, the web dashboard and scheduled jobs all go through one implementation.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.orgdir import OrgDirectory
from bot.outbox import Outbox
from bot.roles import Roles


@dataclass
class Deps:
    session: AsyncSession
    clock: Clock
    outbox: Outbox
    org: OrgDirectory
    settings: Settings


@dataclass(frozen=True)
class Actor:
    """Who does something: a chat person, a web user, or the system (schedules)."""

    name: str
    roles: Roles
    person_id: int | None = None
    web_user: str | None = None

    @property
    def is_system(self) -> bool:
        return self.person_id is None and self.web_user is None


class ServiceError(Exception):
    """A rule said no; the message is Chinese and goes to the person as is.

    Raise it before writing anything: the dispatcher turns it into the reply and commits the
    handler's session with that reply (``Dispatcher._call``), so a write made before the refusal
    would be kept."""
