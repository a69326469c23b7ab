"""Demo history benchmark: how long ``zhibu demo``'s first start spends generating the sample
district's six months (bot/demo_history.py), and what it made.

    python bench/demo_history.py [--days 182] [--db PATH]

Prints wall-clock and CPU seconds (CPU is the figure to compare on a shared machine: the wall
clock includes waiting for other processes), where the time went (chat messages through the
dispatcher, scheduler ticks, service calls, the rest), the counts, and the peak RSS.
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNTIL = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _timed(cpu: dict[str, list[float]], name: str, func):  # noqa: ANN001, ANN202
    """Wrap an async method so its CPU time adds up under ``name``."""
    async def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        started = time.process_time()
        try:
            return await func(*args, **kwargs)
        finally:
            entry = cpu.setdefault(name, [0.0, 0])
            entry[0] += time.process_time() - started
            entry[1] += 1
    return wrapper


async def main(days: int, path: Path) -> None:
    import bot.demo_history as DH
    from bot.config import Settings

    cpu: dict[str, list[float]] = {}
    DH._History._deliver = _timed(cpu, "chat messages", DH._History._deliver)
    DH._History._tick = _timed(cpu, "scheduler ticks", DH._History._tick)
    DH._History.open = _timed(cpu, "schema + sample org", DH._History.open)
    for name in ("_service_ticket_action", "_service_step"):
        original = getattr(DH._History, name)

        def make(original=original):  # noqa: ANN001, ANN202
            def factory(self, *args):  # noqa: ANN001, ANN002, ANN202
                return _timed(cpu, "service calls (other compounds)", original(self, *args))
            return factory
        setattr(DH._History, name, make())
    settings = Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{path}"})
    wall, started = time.perf_counter(), time.process_time()
    summary = await DH.generate_history(settings, until=UNTIL, days=days)
    total_cpu, total_wall = time.process_time() - started, time.perf_counter() - wall
    print(summary.line())
    print(f"wall {total_wall:.1f} s, CPU {total_cpu:.1f} s")
    accounted = 0.0
    for name, (seconds, count) in sorted(cpu.items(), key=lambda item: -item[1][0]):
        accounted += seconds
        print(f"  {name:32s} {seconds:6.1f} s CPU  {count:6d} × {1000 * seconds / count:6.1f} ms")
    print(f"  {'the rest (NLP load, 12345 files …)':32s} {total_cpu - accounted:6.1f} s CPU")
    print(f"counts: {summary.counts}, {summary.messages} messages, {summary.ticks} ticks")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=182)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zhibu-bench-demo-") as tmp:
        asyncio.run(main(args.days, args.db or Path(tmp) / "demo.db"))
