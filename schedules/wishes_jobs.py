"""Micro-wish and volunteer-post schedules.

- ``wishes.sweep`` (hourly, speaks 9:00–21:00 only): remind a claimer after N days without
  progress, release the claim after M days and tell the wisher, expire past-deadline wishes,
  remind the branch of fulfilled wishes nobody confirmed.
- ``posts.duty_reminders`` (every 15 minutes): remind post holders before their duty time.
- ``members.honour_roll_preview`` (the 1st, 9:00): last month's honour roll to each secretary.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.services import member_points, posts, wishes
from schedules.context import SYSTEM, job_deps
from schedules.registry import every, monthly


@every("wishes.sweep", hours=1, grace=timedelta(hours=2))
async def sweep_wishes(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        await wishes.sweep(deps, SYSTEM)


@every("posts.duty_reminders", minutes=15, grace=timedelta(minutes=30))
async def duty_reminders(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        await posts.remind_duties(deps)


@monthly("members.honour_roll_preview", day=1, hour=9, minute=0, grace=timedelta(days=2))
async def honour_roll_preview(app, now: datetime) -> None:  # noqa: ANN001
    local = app.clock.local(now)
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    async with job_deps(app) as deps:
        await member_points.send_roll_previews(deps, year, month)
