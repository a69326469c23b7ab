"""Demo history benchmark: how long ``zhibu demo``'s first start spends generating the sample
district's six months (bot/demo_history.py), and what it made.

    python bench/demo_history.py [--days 182] [--db PATH] [--compare] [--serve]

Prints wall-clock and CPU seconds (CPU is the figure to compare on a shared machine: the wall
clock includes waiting for other processes), where the time went (chat messages through the
dispatcher, scheduler ticks, service calls, the rest), the counts, and the peak RSS. The imports
and the NLP model's load are timed apart, before: ``zhibu demo`` has done both by the time its
history is generated (they are the demo's, once per process). ``--repeat N``: N runs, each
figure's best (the least disturbed by other processes).
``--compare``: first with SQLite statements on aiosqlite's worker thread (as before the
generator had its own engine), then inline (``bot.inline_sqlite``, what ``zhibu demo`` does).
``--serve``: instead, ``zhibu demo`` end to end on a fresh database: seconds from starting the
process until its web page answers, and until the sample history (generated meanwhile on a
thread of its own, ``bot.demo_start``) is complete, each with the process's CPU seconds by then
(the figure to compare on a loaded machine).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import contextvars
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNTIL = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


_phase: contextvars.ContextVar[str] = contextvars.ContextVar("phase", default="the rest")
_statements: collections.Counter[str] = collections.Counter()


def _timed(cpu: dict[str, list[float]], name: str, func):  # noqa: ANN001, ANN202
    """Wrap an async method so its CPU time (and its SQL statements) add up under ``name``."""
    async def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        started = time.process_time()
        token = _phase.set(name) if _phase.get() == "the rest" else None  # the outermost phase counts
        try:
            return await func(*args, **kwargs)
        finally:
            if token is not None:
                _phase.reset(token)
            entry = cpu.setdefault(name, [0.0, 0])
            entry[0] += time.process_time() - started
            entry[1] += 1
    return wrapper


_cpu: dict[str, list[float]] = {}


def _count_statements() -> None:
    """SQL statements per phase: a figure the machine's load does not disturb."""
    import bot.inline_sqlite as IS
    from sqlalchemy import event

    create = IS.create_inline_engine

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        engine = create(*args, **kwargs)

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _count(*_args):  # noqa: ANN002, ANN202
            _statements[_phase.get()] += 1
        return engine
    IS.create_inline_engine = counted


def _instrument() -> None:
    import bot.demo_history as DH

    DH._History._deliver = _timed(_cpu, "chat messages", DH._History._deliver)
    DH._History._tick = _timed(_cpu, "scheduler ticks", DH._History._tick)
    DH._History.open = _timed(_cpu, "schema + sample org", DH._History.open)
    for name in ("_service_ticket_action", "_service_step"):
        original = getattr(DH._History, name)

        def make(original=original):  # noqa: ANN001, ANN202
            def factory(self, *args):  # noqa: ANN001, ANN002, ANN202
                return _timed(_cpu, "service calls (other compounds)", original(self, *args))
            return factory
        setattr(DH._History, name, make())
    _count_statements()


def warm() -> float:
    """Import what the demo imports and load the NLP model; returns the CPU seconds it took."""
    started = time.process_time()
    import bot.app  # noqa: F401
    import bot.demo_history  # noqa: F401
    import nlp

    nlp.analyze("3号楼电梯坏了")
    return time.process_time() - started


async def main(days: int, path: Path, *, inline_sqlite: bool = True) -> float:
    import bot.demo_history as DH
    from bot.config import Settings

    cpu = _cpu
    cpu.clear()
    _statements.clear()
    settings = Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{path}"})
    wall, started = time.perf_counter(), time.process_time()
    summary = await DH.generate_history(settings, until=UNTIL, days=days, inline_sqlite=inline_sqlite)
    total_cpu, total_wall = time.process_time() - started, time.perf_counter() - wall
    print(f"-- SQLite statements {'inline' if inline_sqlite else 'on the aiosqlite worker thread'}")
    print(summary.line())
    print(f"wall {total_wall:.1f} s, CPU {total_cpu:.1f} s")
    accounted = 0.0
    for name, (seconds, count) in sorted(cpu.items(), key=lambda item: -item[1][0]):
        accounted += seconds
        print(f"  {name:32s} {seconds:6.1f} s CPU  {count:6d} × {1000 * seconds / count:6.1f} ms"
              f"  {_statements[name]:6d} statements")
    print(f"  {'the rest (lookups, 12345 files …)':32s} {total_cpu - accounted:6.1f} s CPU"
          f"                    {_statements['the rest']:6d} statements")
    print(f"counts: {summary.counts}, {summary.messages} messages, {summary.ticks} ticks")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return total_cpu


def serve(directory: Path) -> None:
    """``zhibu demo``'s first start, timed until its web page answers and until the history is complete."""
    import json

    with socket.socket() as probe:  # a free port, so a running demo is not disturbed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{directory / 'demo.db'}",
           "ZHIBU_WEB__PORT": str(port), "ZHIBU_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    log_path = directory / "demo.log"  # a file, not a pipe: a full pipe would stall the process
    started = time.perf_counter()
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "demo"], cwd=directory, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    page = complete = None
    try:
        while complete is None:
            if process.poll() is not None:
                raise SystemExit(f"zhibu demo exited ({process.returncode}):\n{log_path.read_text()}")
            try:
                if page is None:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).close()
                    page = time.perf_counter() - started
                    page_cpu = _process_cpu(process.pid)
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/demo/progress", timeout=5) as response:
                        finished = json.load(response)["finished"]
                except urllib.error.HTTPError:  # no generation running (before bot.demo_start)
                    finished = True
                if finished:
                    complete = time.perf_counter() - started
                    cpu = _process_cpu(process.pid)
            except OSError:
                pass
            time.sleep(0.1)  # polling a port: nothing to wait on
    finally:
        process.terminate()
        process.wait(timeout=60)
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("示例历史")]
    print(lines[0] if lines else "(no history line)")
    print(f"zhibu demo, first start: page answers after {page:.1f} s wall ({page_cpu:.1f} s CPU); history complete "
          f"after {complete:.1f} s wall ({cpu:.1f} s CPU of the whole process by then)")


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=182)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--compare", action="store_true", help="worker-thread SQLite first, then inline")
    parser.add_argument("--serve", action="store_true", help="time zhibu demo's first start end to end")
    parser.add_argument("--repeat", type=int, default=1, help="runs (the best CPU figure is printed last)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zhibu-bench-demo-") as tmp:
        if args.serve:
            serve(Path(tmp))
        else:
            print(f"imports + NLP model load (the demo's, once per process): {warm():.1f} s CPU")
            _instrument()
            best: dict[bool, float] = {}
            for run in range(args.repeat):
                for n, inline in enumerate((False, True) if args.compare else (True,)):
                    path = args.db if args.db and not args.compare and args.repeat == 1 else \
                        Path(tmp) / f"demo{run}-{n}.db"
                    cpu = asyncio.run(main(args.days, path, inline_sqlite=inline))
                    best[inline] = min(cpu, best.get(inline, cpu))
            if args.repeat > 1:
                for inline, cpu in best.items():
                    print(f"best of {args.repeat} ({'inline' if inline else 'worker thread'}): {cpu:.2f} s CPU")
