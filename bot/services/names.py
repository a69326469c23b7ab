"""People's names by id: the one lookup every service and view uses to name people in lines
people read (reporters, claimers, who did what)."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Person


async def person_names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    """Person id → name for the given ids (empty ids skipped; unknown ids absent)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict((await session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted)))).all())
