"""The schedules lease between processes on one PostgreSQL: timed on the database's clock."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.app import BotApp
from bot.clock import FakeClock
from bot.testing import BotHarness

pytestmark = pytest.mark.postgres

SHORT_LEASE = {"schedules": {"lease_seconds": 1, "tick_seconds": 0.5}}


async def _second_process(h: BotHarness, clock: FakeClock) -> BotApp:
    app = BotApp(h.settings, transports=[], clock=clock)
    await app.open()
    return app


async def test_a_process_whose_clock_runs_ahead_does_not_take_a_live_lease(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await h.bot.run_due_jobs()
        assert h.bot.scheduler.holding
        ahead = FakeClock(h.now + timedelta(hours=1))  # its own clock says the lease expired long ago
        other = await _second_process(h, ahead)
        try:
            await other.run_due_jobs()
            assert not other.scheduler.holding
        finally:
            await other.stop()


async def test_a_crashed_holder_is_replaced_once_the_short_lease_expires_on_the_database_clock(pg_url):
    async with BotHarness(database_url=pg_url, settings=SHORT_LEASE) as h:
        await h.bot.run_due_jobs()
        assert h.bot.scheduler.holding
        # Neither fake clock moves: only the database's clock can expire the lease.
        other = await _second_process(h, FakeClock(h.now))
        try:
            for _ in range(300):  # ends as soon as the lease changed hands (cap: a broken lease)
                await other.run_due_jobs()
                if other.scheduler.holding:
                    break
                await asyncio.sleep(0.1)
            assert other.scheduler.holding
            await h.bot.run_due_jobs()  # the old holder wakes up and finds it lost the lease
            assert not h.bot.scheduler.holding
        finally:
            await other.stop()


async def test_a_clean_stop_hands_the_lease_to_a_running_process_at_once(pg_url):
    slow_ticks = {"schedules": {"lease_seconds": 1200, "tick_seconds": 600}}  # no tick would come in time
    async with BotHarness(database_url=pg_url, settings=slow_ticks) as h:
        other = await _second_process(h, FakeClock(h.now))
        try:
            await other.wakeups.start()
            await asyncio.wait_for(other.wakeups.listening.wait(), 60)
            await h.bot.scheduler.start()
            await asyncio.wait_for(h.bot.scheduler.ticked.wait(), 60)
            await other.scheduler.start()
            await asyncio.wait_for(other.scheduler.ticked.wait(), 60)  # its first tick: not the holder
            assert h.bot.scheduler.holding and not other.scheduler.holding
            other.scheduler.ticked.clear()
            await h.bot.scheduler.stop()
            await asyncio.wait_for(other.scheduler.ticked.wait(), 60)  # woken by the release, not by time
            assert other.scheduler.holding
        finally:
            await other.stop()
