"""Building leaders hear who in their building has not replied to a notice, when the compound
asks for it (setting ``remind_leaders_after_hours``); daytime only, once per notice."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.models import Event
from bot.models.notices import Notice, NoticeStatus
from bot.services import notice_delivery
from schedules.context import job_deps
from schedules.registry import every, next_work

SPEAKS_FROM, SPEAKS_UNTIL = 9, 21  # local hours: a list of neighbours is not a night message


@every("notices.leader_reminders", minutes=30, grace=timedelta(hours=1))
async def leader_reminders(app, now: datetime) -> None:  # noqa: ANN001
    if not SPEAKS_FROM <= app.clock.local(now).hour < SPEAKS_UNTIL:
        return
    async with job_deps(app) as deps:
        await notice_delivery.remind_leaders_due(deps)


@next_work("notices.leader_reminders")
async def leader_reminders_due(app, after: datetime) -> datetime | None:  # noqa: ANN001
    """The next notice's reminder time (N hours after sending), moved into the daytime."""
    reminded = select(Event.subject_id).where(Event.subject_kind == "notice", Event.action == "leaders_reminded")
    async with app.worker_sessions() as session:
        rows = (await session.execute(select(Notice.compound_id, Notice.sent_at).where(
            Notice.status == NoticeStatus.SENT, Notice.kind == "notice", Notice.compound_id.is_not(None),
            Notice.ack_until >= after, Notice.id.not_in(reminded)))).all()
    moments = []
    for compound_id, sent_at in rows:
        hours = app.org.setting(compound_id, notice_delivery.LEADER_REMINDER_SETTING)
        if isinstance(hours, (int, float)) and hours > 0 and sent_at is not None:
            moments.append(max(sent_at + timedelta(hours=hours), after))
    if not moments:
        return None
    local = app.clock.local(min(moments))
    if local.hour < SPEAKS_FROM:
        local = local.replace(hour=SPEAKS_FROM, minute=0, second=0, microsecond=0)
    elif local.hour >= SPEAKS_UNTIL:
        local = (local + timedelta(days=1)).replace(hour=SPEAKS_FROM, minute=0, second=0, microsecond=0)
    return local.astimezone(after.tzinfo)
