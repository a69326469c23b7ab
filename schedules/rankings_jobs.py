"""The monthly property complaint ranking: on the 1st, for the previous month."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.months import previous_month
from bot.services import rankings
from schedules.context import job_deps
from schedules.registry import monthly


@monthly("rankings.monthly", day=1, hour=7, minute=30, grace=timedelta(days=2))
async def monthly_ranking(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        month = previous_month(app.clock.local(now))
        ranking = await rankings.compute_ranking(deps, month)
        # A rerun (or a second process) never posts it twice; a month without complaints is
        # kept as an (empty) table but not announced.
        if ranking.created and ranking.top:
            await rankings.publish(deps, ranking)
