"""Building leaders hear who in their building has not replied to a notice, when the compound
asks for it (setting ``remind_leaders_after_hours``); daytime only, once per notice."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.services import notice_delivery
from schedules.context import job_deps
from schedules.registry import every

SPEAKS_FROM, SPEAKS_UNTIL = 9, 21  # local hours: a list of neighbours is not a night message


@every("notices.leader_reminders", minutes=30, grace=timedelta(hours=1))
async def leader_reminders(app, now: datetime) -> None:  # noqa: ANN001
    if not SPEAKS_FROM <= app.clock.local(now).hour < SPEAKS_UNTIL:
        return
    async with job_deps(app) as deps:
        await notice_delivery.remind_leaders_due(deps)
