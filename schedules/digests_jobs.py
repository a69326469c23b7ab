"""Digests: each secretary's daily digest (at the compound's digest time, default 08:30) and
each community committee's weekly digest (Mondays)."""
from __future__ import annotations

import weakref
from datetime import datetime, timedelta

from bot.services.digests import send_daily_digests, send_weekly_digests
from schedules.context import job_deps
from schedules.registry import every, weekly
from schedules.runner import first_seen

DAILY = "digests.daily"

# Per app: (local date, compounds whose digest is settled today, since when digests run), so
# the minute ticks after the morning run cost no query.
_state: "weakref.WeakKeyDictionary[object, tuple[str, set[int], datetime | None]]" = weakref.WeakKeyDictionary()


@every(DAILY, minutes=1)
async def daily(app, now: datetime) -> None:  # noqa: ANN001
    """Per-compound times (Compound.settings["digest_time"]), so the check runs every minute."""
    period = app.clock.local().date().isoformat()
    known = _state.get(app)
    if known is None:
        known = ("", set(), await first_seen(app, DAILY))
    skip = known[1] if known[0] == period else set()
    async with job_deps(app) as deps:
        result = await send_daily_digests(deps, skip, not_before=known[2])
    _state[app] = (period, result.settled, known[2])


@weekly("digests.weekly", day_of_week="mon", hour=9, minute=0, grace=timedelta(hours=12))
async def weekly_digest(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        await send_weekly_digests(deps, now)
