"""What a job works with: the same ``Deps`` the chat handlers and the dashboard use."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from bot.roles import Roles
from bot.services import Actor, Deps

SYSTEM = Actor(name="系统", roles=Roles((), {}))


@asynccontextmanager
async def job_deps(app: Any) -> AsyncIterator[Deps]:
    """A session wrapped as Deps; committed when the block ends without error."""
    async with app.worker_sessions() as session:
        yield Deps(session, app.clock, app.outbox, app.org, app.settings)
        await session.commit()
