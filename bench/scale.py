"""Several processes on one PostgreSQL: wake-up latency, org reload, schedules failover, idle CPU.

Two BotApps with their own engines stand in for two ``zhibu run`` processes (accounts east
and west). The database named by --database-url is EMPTIED first: give it a scratch database.

    python bench/scale.py --database-url postgresql+asyncpg://user:pw@host/scratch [--rounds 50]

Prints:
- outbox wake-up: commit in one process -> the other's sender woken (LISTEN/NOTIFY), p50/p95/max
- org reload: a compound added in one process -> in the other's directory, p50/max
- schedules failover after a crash (holder stops renewing) and after a clean stop, seconds,
  with the configured lease/tick (defaults 20 s / 5 s; --lease/--tick to try others)
- CPU seconds a process spends in 10 s while only the OTHER account has texts waiting
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import db  # noqa: E402
from bot.app import BotApp  # noqa: E402
from bot.config import SAMPLE_ORG, Settings  # noqa: E402
from bot.models import ChatGroup, Compound, OutboxMessage  # noqa: E402
from bot.transports.fake import FakeTransport  # noqa: E402
from sqlalchemy import delete, select  # noqa: E402


async def empty(url: str) -> None:
    engine = db.create_engine(url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await engine.dispose()


async def process(settings: Settings, account: str) -> BotApp:
    app = BotApp(settings, transports=[FakeTransport(account=account)])
    await app.open()
    await app.wakeups.start()
    await asyncio.wait_for(app.wakeups.listening.wait(), 30)
    return app


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def wakeup_latency(east: BotApp, west: BotApp, rounds: int) -> list[float]:
    async with east.sessions() as session:
        person_id = 1
        group = (await session.execute(select(ChatGroup.id).limit(1))).scalar_one()
    times = []
    for i in range(rounds):
        await asyncio.sleep(0.05)
        west.outbox.wakeup.clear()
        async with east.sessions() as session:
            east.outbox.enqueue(session, f"基准 {i}", group_id=group if i % 2 else None,
                                person_id=None if i % 2 else person_id)
            start = time.perf_counter()
            await session.commit()
        await asyncio.wait_for(west.outbox.wakeup.wait(), 10)
        times.append(time.perf_counter() - start)
    return times


async def org_latency(east: BotApp, west: BotApp, rounds: int) -> list[float]:
    community = next(iter(east.org.compounds.values())).community_id
    times = []
    for i in range(rounds):
        name = f"基准小区{i}"
        async with east.sessions() as session:
            session.add(Compound(name=name, community_id=community))
            start = time.perf_counter()
            await session.commit()
        while name not in west.org.by_name:
            west.wakeups.org_reloaded.clear()
            if name in west.org.by_name:
                break
            await asyncio.wait_for(west.wakeups.org_reloaded.wait(), 10)
        times.append(time.perf_counter() - start)
    return times


async def failover(east: BotApp, west: BotApp, crash: bool) -> float:
    await east.scheduler.start()
    await asyncio.wait_for(east.scheduler.ticked.wait(), 60)
    await west.scheduler.start()
    west.scheduler.ticked.clear()
    await asyncio.wait_for(west.scheduler.ticked.wait(), 60)
    assert east.scheduler.holding and not west.scheduler.holding
    start = time.perf_counter()
    if crash:  # the driver dies without handing the lease back
        east.scheduler._driver.shutdown(wait=False)
        east.scheduler._driver = None
        east.scheduler._stopping = True
    else:
        await east.scheduler.stop()
        start = time.perf_counter()
    while not west.scheduler.holding:
        west.scheduler.ticked.clear()
        await west.scheduler.ticked.wait()
    elapsed = time.perf_counter() - start
    await west.scheduler.stop()
    if crash:
        east.scheduler._holding = False
    east.scheduler._stopping = False
    return elapsed


async def idle_cpu(east: BotApp, west: BotApp, seconds: float) -> float:
    """east's sender runs while only west has texts waiting (west's sender is not running)."""
    async with west.sessions() as session:
        await session.execute(delete(OutboxMessage))
        for i in range(20):
            west.outbox.enqueue(session, f"给 west 的 {i}", person_id=1, account="west")
        await session.commit()
    task = asyncio.create_task(east.sender.run_forever())
    before = time.process_time()
    await asyncio.sleep(seconds)
    used = time.process_time() - before
    east.sender.stop()
    await asyncio.gather(task, return_exceptions=True)
    return used


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a scratch PostgreSQL database (emptied)")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--lease", type=float, default=None, help="schedules.lease_seconds")
    parser.add_argument("--tick", type=float, default=None, help="schedules.tick_seconds")
    args = parser.parse_args()
    schedules = {k: v for k, v in (("lease_seconds", args.lease), ("tick_seconds", args.tick)) if v}
    settings = Settings.model_validate({"database_url": args.database_url, "org_file": SAMPLE_ORG,
                                        "schedules": schedules})
    await empty(args.database_url)
    east, west = await asyncio.gather(process(settings, "east"), process(settings, "west"))
    try:
        wake = await wakeup_latency(east, west, args.rounds)
        print(f"outbox wake-up across processes: p50 {statistics.median(wake) * 1000:.1f} ms, "
              f"p95 {pct(wake, 0.95) * 1000:.1f} ms, max {max(wake) * 1000:.1f} ms ({len(wake)} commits)")
        org = await org_latency(east, west, max(5, args.rounds // 5))
        print(f"org reload across processes: p50 {statistics.median(org) * 1000:.1f} ms, "
              f"max {max(org) * 1000:.1f} ms ({len(org)} changes)")
        lease, tick = settings.schedules.lease_seconds, settings.schedules.tick_seconds
        crash = await failover(east, west, crash=True)
        clean = await failover(west, east, crash=False)
        print(f"schedules failover (lease {lease:g} s, tick {tick:g} s): after a crash {crash:.1f} s, "
              f"after a clean stop {clean:.1f} s")
        cpu = await idle_cpu(east, west, 10.0)
        print(f"CPU of a process whose accounts have nothing to send, while another's wait: {cpu:.2f} s in 10 s")
    finally:
        await asyncio.gather(east.stop(), west.stop())


if __name__ == "__main__":
    asyncio.run(main())
