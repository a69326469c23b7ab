"""The test kit's clock: how long ``BotHarness.advance`` takes for a month of schedules.

    python bench/clock_advance.py [--days 30] [--stepped-days 1]

On the shipped sample district with a resident's report (so ticket deadlines are pending), times ``advance(days=N)`` as it is now (the clock jumps from due
time to due time) and ``advance(days=M, step=1 minute)`` (how it used to go: a stop every
minute), each on a fresh harness, and prints both (wall and CPU seconds: the machine may be
shared) with the stepped figure scaled to N days.
Also prints how many stops the jumping advance made and how many daily digests it sent.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.testing import BotHarness  # noqa: E402
from bot.texts import digests as DT  # noqa: E402

DIGEST_OPENING = DT.DAILY_HEADER.split("}", 1)[1].split("{", 1)[0]


async def _scenario(h: BotHarness) -> None:
    await h.say("阳光花园业主1群", "张三", "4号楼门口积水好几天了，没人管")


async def timed(days: float, step: timedelta | None) -> tuple[float, float, int, int]:
    async with BotHarness() as h:
        await _scenario(h)
        stops = 0
        run_due = h.bot.run_due_jobs

        async def counted() -> None:
            nonlocal stops
            stops += 1
            await run_due()

        h.bot.run_due_jobs = counted  # type: ignore[method-assign]
        started, cpu = time.perf_counter(), time.process_time()
        await h.advance(days=days, step=step)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        digests = sum(1 for s in h.sent if s.person == "李书记" and DIGEST_OPENING in s.text)
        return elapsed, cpu, stops, digests


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--stepped-days", type=float, default=1,
                        help="days to advance minute by minute (slow: ~1 min of CPU per simulated day)")
    args = parser.parse_args()
    jump, jump_cpu, stops, digests = await timed(args.days, None)
    print(f"advance(days={args.days:g}), jumping:        {jump:8.2f} s wall {jump_cpu:8.2f} s CPU  "
          f"({stops} stops, {digests} daily digests to 李书记)")
    stepped, stepped_cpu, steps, _ = await timed(args.stepped_days, timedelta(minutes=1))
    scale = args.days / args.stepped_days
    print(f"advance(days={args.stepped_days:g}, step=1 minute): {stepped:8.2f} s wall {stepped_cpu:8.2f} s CPU  "
          f"({steps} stops) -> {stepped * scale:.0f} s wall, {stepped_cpu * scale:.0f} s CPU for {args.days:g} days")
    print(f"speed-up (CPU): {stepped_cpu * scale / jump_cpu:.0f}x")


if __name__ == "__main__":
    asyncio.run(main())
