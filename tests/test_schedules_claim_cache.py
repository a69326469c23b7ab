"""The scheduler claims a tick's due jobs with one INSERT whose compiled form is reused from
tick to tick, however many rows it has (a VALUES list of the tick's own length was compiled
afresh at every tick: a measurable share of the demo history's ticks)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.engine.default import CacheStats

from bot.testing import BotHarness


async def test_claim_insert_is_compiled_once_across_ticks_of_different_sizes():
    async with BotHarness(start=datetime(2026, 12, 1, 7, 0)) as h:
        claims: list[tuple[bool, int]] = []

        def listener(_conn, _cursor, statement, parameters, context, _many):  # noqa: ANN001, ANN202
            if statement.startswith("INSERT INTO job_runs"):
                claims.append((context.cache_hit == CacheStats.CACHE_HIT, statement.count("?")))

        engine = h.bot.engine.sync_engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            await h.advance(minutes=1)
            await h.advance(hours=2, step=timedelta(hours=2))  # many jobs due (and missed) at once
            await h.advance(minutes=1)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert len({n for _, n in claims}) > 1, claims  # ticks claimed different numbers of rows
        assert all(hit for hit, _ in claims[1:]), claims
