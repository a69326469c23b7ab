"""Social-worker visit reminders (社工来敲门): 日走访 daily, 周入户 on Mondays, 月遍访 on the 1st."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.models.schedules import VisitKind
from bot.services.visits import send_reminders
from schedules.context import job_deps
from schedules.registry import daily, monthly, weekly


@daily("visits.daily", hour=8, minute=0, grace=timedelta(hours=4))
async def daily_spots(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        await send_reminders(deps, VisitKind.DAILY)


@weekly("visits.weekly", day_of_week="mon", hour=8, minute=5, grace=timedelta(days=1))
async def weekly_households(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        await send_reminders(deps, VisitKind.WEEKLY)


@monthly("visits.monthly", day=1, hour=8, minute=10, grace=timedelta(days=2))
async def monthly_round(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        await send_reminders(deps, VisitKind.MONTHLY)
