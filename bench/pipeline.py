"""Pipeline benchmark: N messages from M groups through the dispatcher and the outbox.

Fake transport, SQLite file, real clock. Two mixes, each in its own process (its own RSS):
- chatter: plain group chat, 1 in 20 a command with a reply (帮助);
- reports: the same, but 1 in 5 is a problem report (buildings 1–30号楼, units, rooms, a dozen
  categories, 1 in 8 urgent) from many residents in many groups: tickets are created or merged,
  acknowledged in the group and announced to the compound's secretary.
For each it prints sustained messages/s, p50/p99 latency at a fixed offered rate and peak RSS,
beside a bare aiosqlite baseline run in the same process: the same rows per message (inbound
message; for a report the ticket, its reporter, its event and two outbox rows) inserted on one
connection with one commit per message. The machine may be shared: the same-run ratio is the
figure to compare, and ``--repeat`` prints medians.

    python bench/pipeline.py [--mix chatter|reports|both] [--messages 5000] [--groups 50]
                             [--rate 200] [--repeat 1] [--profile FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosqlite  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot import heap  # noqa: E402
from bot.app import BotApp  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.models import Event, OutboxMessage  # noqa: E402
from bot.models.tickets import Ticket  # noqa: E402
from bot.orgimport import CompoundSpec, OrgPlan, PersonSpec, apply_plan  # noqa: E402
from bot.transports.base import Incoming  # noqa: E402
from bot.transports.fake import FakeTransport  # noqa: E402

CHATTER = ["早上好", "今天团购的草莓到了吗", "收到", "👍👍", "谢谢物业", "明天几点停水来着", "哈哈哈",
           "有人拼车去火车站吗", "我的快递到了吗", "晚上广场有活动", "好的好的", "辛苦了"]

# What residents report, by the category a secretary would give it; {where} is a place in the compound.
PROBLEMS = {
    "utilities": ["{where}停水了，到现在还没来水", "{where}楼道灯坏了好几天，晚上黑乎乎的", "{where}水管漏水，地上全是水",
                  "{where}又停电了，什么时候能修好"],
    "elevator": ["{where}电梯又坏了，老人上不去楼", "{where}电梯门关不上，按了没反应", "{where}电梯异响很厉害，不敢坐"],
    "sanitation": ["{where}门口的垃圾好几天没人清运了，味道很大", "{where}楼道里堆满了杂物和垃圾没人管"],
    "roads": ["{where}门口路面塌了一个坑，晚上容易摔", "{where}下水道堵了，雨天门口积水很深", "{where}路灯不亮了好几天"],
    "parking": ["{where}楼下车棚的充电桩坏了，电动车充不了电", "{where}门口天天有车乱停，车都开不出去"],
    "noise": ["{where}楼上装修噪音太大，中午休息时间也不停", "{where}晚上十二点了还有人在楼下唱歌，吵得睡不着"],
    "pets": ["{where}有人遛狗不牵绳，孩子被吓哭了", "{where}楼道里全是狗屎，没人清理"],
    "greening": ["{where}楼前绿化带的树枝挡住窗户了，麻烦修剪一下", "{where}草坪被人挖了种菜"],
    "property": ["{where}物业报修了三次都没人来", "{where}单元门门禁坏了一个星期了，谁都能进"],
    "safety": ["{where}消防通道被电动车堵死了", "{where}楼道里有人给电动车飞线充电，很危险"],
    "dispute": ["{where}楼上漏水到我家，邻居不肯处理"],
    "assistance": ["{where}独居老人好几天没出门了，大家帮忙看看"],
}
URGENT = ["{where}电梯困人了，里面有老人，快来人！", "{where}楼道里很大的烟味，好像着火了", "{where}燃气泄漏，味道很大，快来人",
          "{where}有老人摔倒了起不来，快来帮忙"]
CATEGORIES = sorted(PROBLEMS)
SENDERS_PER_GROUP = 10
REPORT_EVERY = 5  # the reports mix: 1 message in 5 is a problem report
# The bare baseline's rows per message: an inbound row; a report adds these.
REPORT_ROWS = ("tickets", "ticket_reporters", "events", "outbox", "outbox")
HELP_ROWS = ("outbox",)


def plan(groups: int) -> OrgPlan:
    org = OrgPlan(district="基准区")
    for i in range(groups):
        # No quiet hours: the secretary is told at once whatever the hour the bench runs at.
        org.compounds[f"小区{i}"] = CompoundSpec(name=f"小区{i}", street="街道", community=f"社区{i % 10}",
                                                groups=[(f"小区{i}业主群", f"room-{i}", None)],
                                                settings={"quiet_hours": [0, 0]})
        org.people.append(PersonSpec("bench", f"书记{i}", None, f"小区{i}", None, None, None,
                                     [("secretary", None)], wechat_id=f"wxid_secretary_{i}"))
    return org


async def build(tmp: Path, groups: int) -> tuple[BotApp, FakeTransport]:
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    settings = Settings.model_validate({"database_url": url, "outbox": {
        "min_interval_seconds": 0, "jitter_seconds": 0, "group_per_minute": 1_000_000, "daily_cap": 10_000_000}})
    transport = FakeTransport(account="sim")
    app = BotApp(settings, transports=[transport])
    await app.open()
    heap.ready_to_serve(app.services["nlp"])  # as ``zhibu run`` does before it serves
    async with app.sessions() as session:
        await apply_plan(session, plan(groups), datetime.now(timezone.utc))
        await session.commit()
    await app.refresh_org()
    return app, transport


def report_text(rng: random.Random) -> str:
    building, unit = rng.randint(1, 30), rng.randint(1, 6)
    where = rng.choice([f"{building}号楼", f"{building}号楼{unit}单元", f"{building}栋{unit}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}",
                        f"{building}号楼{unit}单元门口"])
    if rng.random() < 1 / 8:
        return rng.choice(URGENT).format(where=where)
    return rng.choice(PROBLEMS[rng.choice(CATEGORIES)]).format(where=where)


def text_for(i: int, reports: bool, rng: random.Random) -> str:
    if reports and i % REPORT_EVERY == 1:
        return report_text(rng)
    return "帮助" if i % 20 == 0 else rng.choice(CHATTER)  # 1 in 20 asks for a reply


def message(i: int, groups: int, reports: bool, rng: random.Random) -> Incoming:
    group = i % groups
    sender = f"wxid_{group}_{(i // groups) % SENDERS_PER_GROUP}"  # each resident writes in their own group
    return Incoming(account="sim", message_id=f"b{i}", sender_id=sender, sender_name=f"居民{group}-{sender[-1]}",
                    text=text_for(i, reports, rng), sent_at=datetime.now(timezone.utc), chat_id=f"room-{group}",
                    chat_topic=f"小区{group}业主群")


async def sustained(app: BotApp, n: int, groups: int, reports: bool, offset: int,
                    concurrency: int = 50) -> tuple[float, float]:
    """As fast as possible, with up to ``concurrency`` messages in flight (a gateway delivers
    messages as concurrent events, not one after another). Returns (messages/s, CPU ms per
    message of this process: on a machine others share, the steadier of the two)."""
    rng = random.Random(offset)  # the warm-up says other things than the measured run
    numbers = iter(range(offset, offset + n))

    async def worker() -> None:
        # ``concurrency`` workers, each taking the next message when it is done with one: as
        # many in flight as a semaphore over n tasks would keep, without n tasks waiting in
        # memory (the peak RSS is the bot's, not the bench's queue).
        for i in numbers:
            await app.on_message(message(i, groups, reports, rng))

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await app.sender.drain()
    return n / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / n


async def at_rate(app: BotApp, n: int, groups: int, reports: bool, rate: float, offset: int) -> list[float]:
    rng = random.Random(offset)
    latencies: list[float] = []

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        await app.on_message(message(i, groups, reports, rng))
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


async def bare_baseline(path: Path, n: int, reports: bool) -> float:
    """The floor every design pays: the same rows per message through aiosqlite, one
    connection, one commit per message, the bot's pragmas (WAL, synchronous=NORMAL)."""
    rng = random.Random(1)
    async with aiosqlite.connect(path) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("CREATE TABLE inbound (id INTEGER PRIMARY KEY, account TEXT, platform_id TEXT, chat TEXT,"
                           " sender TEXT, text TEXT, sent_at TEXT, status TEXT, UNIQUE (account, platform_id))")
        for table in set(REPORT_ROWS + HELP_ROWS):
            await conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, ref INTEGER, kind TEXT, text TEXT,"
                               " at TEXT)")
        await conn.commit()
        start = time.perf_counter()
        for i in range(n):
            text = text_for(i, reports, rng)
            now = datetime.now(timezone.utc).isoformat()
            cursor = await conn.execute(
                "INSERT INTO inbound (account, platform_id, chat, sender, text, sent_at, status)"
                " VALUES ('sim', ?, ?, ?, ?, ?, 'received')", (f"b{i}", f"room-{i % 50}", f"wxid_{i}", text, now))
            inbound_id = cursor.lastrowid
            extra = REPORT_ROWS if reports and i % REPORT_EVERY == 1 else HELP_ROWS if text == "帮助" else ()
            for table in extra:
                await conn.execute(f"INSERT INTO {table} (ref, kind, text, at) VALUES (?, 'bench', ?, ?)",
                                   (inbound_id, text, now))
            await conn.commit()
        return n / (time.perf_counter() - start)


async def counts(app: BotApp) -> dict[str, int]:
    async with app.sessions() as session:
        return {name: int((await session.execute(select(func.count()).select_from(model))).scalar_one())
                for name, model in (("tickets", Ticket), ("events", Event), ("outbox", OutboxMessage))}


async def run_mix(mix: str, args: argparse.Namespace) -> dict:
    reports = mix == "reports"
    with tempfile.TemporaryDirectory() as tmp:
        app, transport = await build(Path(tmp), args.groups)
        sender = asyncio.create_task(app.sender.run_forever())
        profiler = cProfile.Profile() if args.profile else None
        try:
            await sustained(app, 1000, args.groups, reports, 10_000_000)  # warm-up: residents seen, jieba, model
            if profiler:
                profiler.enable()
            rate, cpu = await sustained(app, args.messages, args.groups, reports, 0)
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            latencies = await at_rate(app, min(args.messages, int(args.rate * 10)), args.groups, reports,
                                      args.rate, 1_000_000)
            await app.sender.drain()
            written = await counts(app)
        finally:
            app.sender.stop()
            await sender
            await app.stop()
        bare = await bare_baseline(Path(tmp) / "bare.db", args.messages, reports)
    q = statistics.quantiles(latencies, n=100)
    return dict(mix=mix, rate=rate, cpu=cpu, bare=bare, p50=q[49], p99=q[98], sent=len(transport.sent),
                rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **written)


def child(mix: str, args: argparse.Namespace) -> dict:
    """One mix in a fresh process: its peak RSS is its own, and no cache carries over."""
    command = [sys.executable, __file__, "--child", mix, "--messages", str(args.messages),
               "--groups", str(args.groups), "--rate", str(args.rate)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def show(mix: str, runs: list[dict], args: argparse.Namespace) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    what = ("1 in 5 a problem report, 1 in 20 a command with a reply" if mix == "reports"
            else "1 in 20 a command with a reply")
    ratios = [r["rate"] / r["bare"] for r in runs]
    print(f"[{mix}] {args.messages} messages from {args.groups} groups ({what})"
          + (f", median of {len(runs)} runs" if len(runs) > 1 else ""))
    print(f"  sustained: {med('rate'):,.0f} messages/s (target >= 1,000); bare aiosqlite commit-per-message "
          f"of the same rows: {med('bare'):,.0f}/s; ratio {statistics.median(ratios):.2f}"
          + (f" (runs: {', '.join(f'{x:.2f}' for x in ratios)})" if len(runs) > 1 else ""))
    print(f"  CPU: {med('cpu'):.2f} ms per message (all threads of the process)")
    print(f"  at {args.rate:.0f} messages/s offered: p50 {med('p50'):.1f} ms, p99 {med('p99'):.1f} ms "
          f"(target p99 < 50 ms)")
    print(f"  written: {runs[-1]['tickets']} tickets, {runs[-1]['events']} events, {runs[-1]['outbox']} outbox rows; "
          f"sent: {runs[-1]['sent']}")
    print(f"  peak RSS: {med('rss'):.0f} MB (target < 200 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mix", choices=["chatter", "reports", "both"], default="both")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per mix; medians are printed")
    parser.add_argument("--profile", help="cProfile the sustained phase of one mix in this process into FILE")
    parser.add_argument("--child", choices=["chatter", "reports"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(run_mix(args.child, args))))
        return
    mixes = ["chatter", "reports"] if args.mix == "both" else [args.mix]
    if args.profile:
        result = asyncio.run(run_mix(mixes[-1], args))
        show(mixes[-1], [result], args)
        print(f"profile of the sustained phase: {args.profile} (python -m pstats {args.profile})")
        return
    runs: dict[str, list[dict]] = {mix: [] for mix in mixes}
    for _ in range(args.repeat):
        for mix in mixes:  # interleaved: a burst of load elsewhere hits both mixes alike
            runs[mix].append(child(mix, args))
    for mix in mixes:
        show(mix, runs[mix], args)


if __name__ == "__main__":
    main()
