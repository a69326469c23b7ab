"""The scheduler: due times on the fake clock, restarts, grace periods, one runner per database."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.models.schedules import JobRun, SchedulerLease
from bot.testing import BotHarness
from schedules import registry
from schedules.registry import JOBS

START = datetime(2026, 12, 1, 8, 0)  # local time; the test job fires daily at 08:30


@pytest.fixture
def calls():
    """A daily 08:30 test job that records the due times it ran for (and which app ran it)."""
    seen: list[tuple[datetime, int]] = []

    async def job(app, now):  # noqa: ANN001
        seen.append((app.clock.local(now).replace(tzinfo=None), id(app)))

    registry.daily("test.daily", hour=8, minute=30)(job)
    yield seen
    JOBS.pop("test.daily", None)


@pytest.fixture
async def hs():
    async with BotHarness(start=START) as harness:
        yield harness


async def runs(h, job="test.daily"):  # noqa: ANN001
    async with h.session() as session:
        rows = (await session.execute(select(JobRun).where(JobRun.job == job).order_by(JobRun.due_at))).scalars()
        return [(h.clock.local(r.due_at).strftime("%m-%d %H:%M"), r.status) for r in rows]


async def test_daily_job_runs_once_at_its_time(hs, calls):
    await hs.advance(minutes=29)
    assert calls == []
    await hs.advance(minutes=2)
    assert [c[0] for c in calls] == [datetime(2026, 12, 1, 8, 30)]
    await hs.advance(hours=3, step=timedelta(minutes=10))
    assert len(calls) == 1
    assert (await runs(hs))[-1] == ("12-01 08:30", "ok")


async def test_job_is_not_run_again_after_restart(hs, calls):
    await hs.advance(minutes=35)
    await hs.restart()
    await hs.advance(minutes=30, step=timedelta(minutes=5))
    assert len(calls) == 1


async def test_missed_job_within_grace_runs_once_on_start(hs, calls):
    await hs.advance(minutes=1)  # the scheduler has seen the job: 08:30 is owed
    hs.clock.set(hs.clock.now() + timedelta(hours=1))  # the bot is down 08:01 → 09:01
    await hs.restart()
    await hs.advance(minutes=1)
    assert [c[0] for c in calls] == [datetime(2026, 12, 1, 8, 30)]
    await hs.advance(minutes=10)
    assert len(calls) == 1
    assert (await runs(hs))[-1] == ("12-01 08:30", "ok")


async def test_missed_job_past_grace_is_recorded_missed(hs, calls):
    await hs.advance(minutes=1)
    hs.clock.set(hs.clock.now() + timedelta(hours=4))  # down until 12:01; grace is 2 hours
    await hs.restart()
    await hs.advance(minutes=1)
    assert calls == []
    assert (await runs(hs))[-1] == ("12-01 08:30", "missed")


async def test_days_of_downtime_record_each_missed_day_and_run_only_today(hs, calls):
    await hs.advance(minutes=1)
    hs.clock.set(datetime(2026, 12, 4, 9, 0).replace(tzinfo=hs.clock.tz))
    await hs.restart()
    await hs.advance(minutes=1)
    assert [c[0] for c in calls] == [datetime(2026, 12, 4, 8, 30)]
    assert [r for r in await runs(hs) if r[1] != "registered"] == [
        ("12-01 08:30", "missed"), ("12-02 08:30", "missed"), ("12-03 08:30", "missed"), ("12-04 08:30", "ok")]


async def test_failing_job_is_recorded_and_does_not_stop_others(hs, calls):
    async def broken(app, now):  # noqa: ANN001
        raise RuntimeError("boom")

    registry.daily("test.broken", hour=8, minute=30)(broken)
    try:
        await hs.advance(minutes=31)
    finally:
        JOBS.pop("test.broken", None)
    assert len(calls) == 1
    async with hs.session() as session:
        row = (await session.execute(select(JobRun).where(JobRun.job == "test.broken", JobRun.status == "failed"))).scalar_one()
    assert "boom" in row.error


async def test_interval_jobs_fire_at_aligned_local_times(hs):
    seen = []

    async def tick(app, now):  # noqa: ANN001
        seen.append(app.clock.local(now).strftime("%H:%M"))

    registry.every("test.five", minutes=5)(tick)
    try:
        await hs.advance(minutes=2)
        await hs.advance(minutes=14)
    finally:
        JOBS.pop("test.five", None)
    assert seen == ["08:05", "08:10", "08:15"]


async def test_purge_of_chatter_is_a_daily_job(hs):
    assert "maintenance.purge_chatter" in JOBS
    assert JOBS["maintenance.purge_chatter"].trigger_args == ("cron", {"hour": 3, "minute": 30})


async def _second_app(h: BotHarness) -> BotApp:
    app = BotApp(h.settings, transports=[], clock=h.clock)
    await app.open()
    return app


async def test_two_schedulers_on_one_database_only_one_runs(hs, calls):
    other = await _second_app(hs)
    try:
        for _ in range(40):  # both tick every minute through 08:30
            await hs.advance(minutes=1)
            await other.run_due_jobs()
        assert len(calls) == 1
        assert calls[0][1] == id(hs.bot)
        assert not other.scheduler.holding
    finally:
        await other.stop()


async def test_another_process_takes_over_when_the_holder_stops_renewing(hs, calls):
    other = await _second_app(hs)
    try:
        await hs.advance(minutes=5)      # the harness's app holds the lease
        await other.run_due_jobs()
        assert not other.scheduler.holding
        # The harness's app hangs: nobody renews. After the lease expires the other one runs.
        hs.clock.set(hs.clock.now() + timedelta(minutes=2))
        await other.run_due_jobs()
        assert other.scheduler.holding
        hs.clock.set(datetime(2026, 12, 1, 8, 31).replace(tzinfo=hs.clock.tz))
        await other.run_due_jobs()
        await hs.bot.run_due_jobs()      # the old holder wakes up: it must not run it again
        assert [c[1] for c in calls] == [id(other)]
        assert not hs.bot.scheduler.holding
        async with hs.session() as session:
            lease = await session.get(SchedulerLease, "schedules")
        assert lease.holder == other.scheduler.holder
    finally:
        await other.stop()


async def test_stopping_hands_the_lease_over_at_once(hs, calls):
    other = await _second_app(hs)
    try:
        await hs.advance(minutes=1)
        await hs.bot.scheduler.stop()
        await other.run_due_jobs()
        assert other.scheduler.holding
    finally:
        await other.stop()


async def test_production_driver_ticks_on_real_time_and_stops_cleanly(hs):
    import asyncio

    scheduler = hs.bot.scheduler
    await scheduler.start()
    try:
        # The first tick is immediate; wait for it to have happened, however loaded the machine.
        await asyncio.wait_for(scheduler.ticked.wait(), timeout=120)
        assert scheduler.holding
    finally:
        await scheduler.stop()
    assert not scheduler.holding
    async with hs.session() as session:
        lease = await session.get(SchedulerLease, "schedules")
        registered = (await session.execute(select(JobRun).where(JobRun.status == "registered"))).scalars().all()
    assert lease.expires_at <= hs.now and registered
