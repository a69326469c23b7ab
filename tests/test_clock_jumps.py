"""The test kit's clock jumps from due time to due time: a month of schedules costs per event."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from bot.models.schedules import JobRun
from bot.testing import BotHarness
from bot.texts import digests as T

DIGEST_OPENING = T.DAILY_HEADER.split("{", 2)[1].split("}", 1)[1]  # "每日简报】"


async def test_a_thirty_day_advance_sends_each_daily_digest_once_at_its_local_time():
    async with BotHarness() as h:
        await h.advance(days=30)
        digests = [s for s in h.sent if s.person == "李书记" and DIGEST_OPENING in s.text]
        local = [h.clock.local(s.at) for s in digests]
        days = [moment.date() for moment in local]
        assert len(days) == 30 and len(set(days)) == 30  # 12-02 … 12-31, one each
        assert {moment.time() for moment in local} == {time(8, 30)}


async def test_an_advance_passes_idle_minutes_of_polling_jobs_without_a_run():
    async with BotHarness() as h:
        await h.advance(days=1)
        async with h.session() as session:
            runs = (await session.execute(select(JobRun.due_at).where(JobRun.job == "notices.tick"))).scalars().all()
        assert 0 < len(runs) < 60  # a stop per event, not one per minute (1,440)


async def test_a_stepped_advance_still_runs_polling_jobs_at_every_step():
    async with BotHarness() as h:
        await h.advance(hours=1, step=timedelta(minutes=1))
        async with h.session() as session:
            runs = (await session.execute(select(JobRun.due_at).where(JobRun.job == "notices.tick"))).scalars().all()
        assert len(runs) == 60  # registered at the first step, then 59 runs


async def test_an_advance_that_ends_between_due_times_leaves_the_clock_at_its_end():
    async with BotHarness(start=datetime(2026, 12, 1, 9, 0)) as h:
        await h.advance(hours=5, minutes=7, seconds=30)
        assert h.clock.local().replace(tzinfo=None) == datetime(2026, 12, 1, 14, 7, 30)
