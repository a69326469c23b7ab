"""Pipeline benchmark: N messages from M groups through the dispatcher and the outbox.

Fake transport, SQLite file, real clock. Prints sustained messages/s, p50/p99 latency at a
fixed offered rate, and peak RSS.   python bench/pipeline.py [--messages 5000] [--groups 50]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import db  # noqa: E402
from bot.app import BotApp  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.orgimport import CompoundSpec, OrgPlan, PersonSpec, apply_plan  # noqa: E402
from bot.transports.base import Incoming  # noqa: E402
from bot.transports.fake import FakeTransport  # noqa: E402

CHATTER = ["早上好", "今天团购的草莓到了吗", "收到", "👍👍", "谢谢物业", "明天几点停水来着", "哈哈哈",
           "有人拼车去火车站吗", "我的快递到了吗", "晚上广场有活动", "好的好的", "辛苦了"]


def plan(groups: int) -> OrgPlan:
    org = OrgPlan(district="基准区")
    for i in range(groups):
        org.compounds[f"小区{i}"] = CompoundSpec(name=f"小区{i}", street="街道", community=f"社区{i % 10}",
                                                groups=[(f"小区{i}业主群", f"room-{i}", None)])
    org.people.append(PersonSpec("bench", "书记", None, "小区0", None, None, None, [("secretary", None)]))
    return org


async def build(tmp: Path, groups: int) -> tuple[BotApp, FakeTransport]:
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    settings = Settings.model_validate({"database_url": url, "outbox": {
        "min_interval_seconds": 0, "jitter_seconds": 0, "group_per_minute": 1_000_000, "daily_cap": 10_000_000}})
    transport = FakeTransport(account="sim")
    app = BotApp(settings, transports=[transport])
    await app.open()
    async with app.sessions() as session:
        await apply_plan(session, plan(groups), datetime.now(timezone.utc))
        await session.commit()
    await app.refresh_org()
    return app, transport


def message(i: int, groups: int, rng: random.Random) -> Incoming:
    text = "帮助" if i % 20 == 0 else rng.choice(CHATTER)  # 1 in 20 asks for a reply
    return Incoming(account="sim", message_id=f"b{i}", sender_id=f"wxid_{i % 500}", sender_name=f"居民{i % 500}",
                    text=text, sent_at=datetime.now(timezone.utc), chat_id=f"room-{i % groups}",
                    chat_topic=f"小区{i % groups}业主群")


async def sustained(app: BotApp, n: int, groups: int, offset: int, concurrency: int = 50) -> float:
    """As fast as possible, with up to ``concurrency`` messages in flight (a gateway delivers
    messages as concurrent events, not one after another)."""
    rng = random.Random(1)
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await app.on_message(message(i, groups, rng))

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(offset, offset + n)))
    await app.sender.drain()
    return n / (time.perf_counter() - start)


async def at_rate(app: BotApp, n: int, groups: int, rate: float, offset: int) -> list[float]:
    rng = random.Random(2)
    latencies: list[float] = []

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        await app.on_message(message(i, groups, rng))
        latencies.append((time.perf_counter() - t0) * 1000)

    tasks = []
    start = time.perf_counter()
    for k, i in enumerate(range(offset, offset + n)):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, transport = await build(Path(tmp), args.groups)
        sender = asyncio.create_task(app.sender.run_forever())
        try:
            await sustained(app, 1000, args.groups, 10_000_000)  # warm-up: residents seen, jieba, model
            rate = await sustained(app, args.messages, args.groups, 0)
            latencies = await at_rate(app, min(args.messages, int(args.rate * 10)), args.groups, args.rate, 1_000_000)
        finally:
            app.sender.stop()
            await sender
            await app.stop()
    q = statistics.quantiles(latencies, n=100)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"messages: {args.messages} from {args.groups} groups (1 in 20 a command with a reply)")
    print(f"sustained: {rate:,.0f} messages/s (target >= 1,000)")
    print(f"at {args.rate:.0f} messages/s offered: p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms (target p99 < 50 ms)")
    print(f"replies sent: {len(transport.sent)}")
    print(f"peak RSS: {rss_mb:.0f} MB (target < 200 MB)")


if __name__ == "__main__":
    asyncio.run(main())
