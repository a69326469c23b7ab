"""The scheduler claims a tick's due jobs with one INSERT whose compiled form is reused from
tick to tick, however many rows it has (a VALUES list of the tick's own length was compiled
afresh at every tick: a measurable share of the demo history's ticks)."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.testing import BotHarness
from insert_log import inserts_into


async def test_claim_insert_is_compiled_once_across_ticks_of_different_sizes():
    async with BotHarness(start=datetime(2026, 12, 1, 7, 0)) as h:
        with inserts_into(h, "job_runs") as claims:
            await h.advance(minutes=1)
            await h.advance(hours=2, step=timedelta(hours=2))  # many jobs due (and missed) at once
            await h.advance(minutes=1)
        assert len({n for _, n in claims}) > 1, claims  # ticks claimed different numbers of rows
        assert all(hit for hit, _ in claims[1:]), claims
