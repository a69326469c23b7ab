"""Micro-wish and volunteer-post schedules.

- ``wishes.sweep`` (hourly, speaks 9:00–21:00 only): remind a claimer after N days without
  progress, release the claim after M days and tell the wisher, expire past-deadline wishes,
  remind the branch of fulfilled wishes nobody confirmed.
- ``posts.duty_reminders`` (every 15 minutes): remind post holders before their duty time.
- ``members.honour_roll_preview`` (the 1st, 9:00): last month's honour roll to each secretary.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.models.members import PostSignup, SignupState, VolunteerPost
from bot.services import member_points, posts, wishes
from schedules.context import SYSTEM, job_deps
from schedules.registry import every, monthly, next_work


@every("wishes.sweep", hours=1, grace=timedelta(hours=2))
async def sweep_wishes(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        await wishes.sweep(deps, SYSTEM)


@every("posts.duty_reminders", minutes=15, grace=timedelta(minutes=30))
async def duty_reminders(app, now: datetime) -> None:  # noqa: ANN001
    async with job_deps(app) as deps:
        await posts.remind_duties(deps)


@next_work("wishes.sweep")
async def sweep_wishes_due(app, after: datetime) -> datetime | None:  # noqa: ANN001
    """The sweep's next work (a reminder, release, reoffer, alert or expiry falling due)."""
    async with app.worker_sessions() as session:
        return await wishes.next_sweep_work(session, app.org, app.clock, after)


@next_work("posts.duty_reminders")
async def duty_reminders_due(app, after: datetime) -> datetime | None:  # noqa: ANN001
    """The next duty slot's reminder time (its lead before the slot) of an active signup."""
    async with app.worker_sessions() as session:
        rows = (await session.execute(
            select(PostSignup.last_reminded_for, VolunteerPost.schedule, VolunteerPost.compound_id)
            .join(VolunteerPost, VolunteerPost.id == PostSignup.post_id)
            .where(PostSignup.state == SignupState.ACTIVE, VolunteerPost.active.is_(True),
                   VolunteerPost.schedule.is_not(None)))).all()
    if not rows:
        return None
    local = app.clock.local(after)
    soonest = local + timedelta(days=1)  # look again tomorrow at the latest
    for reminded_for, schedule, compound_id in rows:
        lead = app.org.setting(compound_id, "post_remind_minutes", posts.REMIND_MINUTES)
        lead = timedelta(minutes=lead if isinstance(lead, int) and lead > 0 else posts.REMIND_MINUTES)
        for offset in range(3):
            slot = posts.slot_on(schedule, local.date() + timedelta(days=offset), app.clock.tz)
            if slot is None or slot <= local or (reminded_for is not None and reminded_for >= slot):
                continue
            soonest = min(soonest, max(slot - lead, local))
            break
    return soonest.astimezone(after.tzinfo)


@monthly("members.honour_roll_preview", day=1, hour=9, minute=0, grace=timedelta(days=2))
async def honour_roll_preview(app, now: datetime) -> None:  # noqa: ANN001
    local = app.clock.local(now)
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    async with job_deps(app) as deps:
        await member_points.send_roll_previews(deps, year, month)
