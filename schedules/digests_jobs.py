"""Digests: each secretary's daily digest (at the compound's digest time, default 08:30) and
each community committee's weekly digest (Mondays)."""
from __future__ import annotations

import weakref
from datetime import datetime, timedelta

from bot.services.digests import digest_time, send_daily_digests, send_weekly_digests
from schedules.context import job_deps
from schedules.registry import every, next_work, weekly
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


@next_work(DAILY)
async def daily_due(app, after: datetime) -> datetime | None:  # noqa: ANN001
    """The next compound digest time; now when one of today's may not have run yet."""
    local = app.clock.local(after)
    known = _state.get(app)
    settled = known[1] if known is not None and known[0] == local.date().isoformat() else None
    soonest = None
    for cid, info in app.org.compounds.items():
        at = digest_time(info.settings)
        if at is None:
            continue
        today = datetime.combine(local.date(), at, tzinfo=local.tzinfo)
        if today <= local and (settled is None or cid not in settled):
            return after
        due = today if today > local else today + timedelta(days=1)
        soonest = due if soonest is None else min(soonest, due)
    return soonest


@weekly("digests.weekly", day_of_week="mon", hour=9, minute=0, grace=timedelta(hours=12))
async def weekly_digest(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        await send_weekly_digests(deps, now)
