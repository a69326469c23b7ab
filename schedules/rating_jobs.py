"""Star rating: the draft of the period that just ended (community staff review it, the
district approves it in the dashboard), and the monthly red/black lists after the ranking."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.months import previous_month
from bot.services.rating import lists, periods, runs, standard
from schedules.context import SYSTEM, job_deps
from schedules.registry import monthly


@monthly("rating.draft", day=1, hour=6, minute=0, grace=timedelta(days=3))
async def rating_draft(app, now: datetime) -> None:  # noqa: ANN001
    std = standard.for_settings(app.settings)
    local = app.clock.local(now)
    ended = periods.period_of(local - timedelta(days=1), std.period)
    if ended == periods.period_of(local, std.period):
        return  # not the first day of a rating period
    async with job_deps(app) as deps:
        if await runs.run_for(deps, ended) is None:  # a rerun or a second process: nothing twice
            await runs.compute_run(deps, std, ended, SYSTEM)


@monthly("rating.lists", day=1, hour=8, minute=0, grace=timedelta(days=2))
async def monthly_lists(app, now: datetime) -> None:  # noqa: ANN001
    """After ``rankings.monthly`` (07:30): the black list reads the month's ranking."""
    std = standard.for_settings(app.settings)
    async with job_deps(app) as deps:
        result = await lists.compute_lists(deps, std, previous_month(app.clock.local(now)))
        if result.created and (result.red or result.black):
            await lists.publish(deps, std, result)
