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

With --load: N processes x M accounts under load, one process killed mid-load and replaced by
its standby (see ``load`` below), printing throughput, p99 reply latency, failover time and the
lost / duplicated / wrong-account reply counts (targets 0, 0, 0):

    python bench/scale.py --database-url ... --load --processes 3 --accounts 2 --messages 3000
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import db  # noqa: E402
from bot.app import BotApp  # noqa: E402
from bot.config import SAMPLE_ORG, Settings  # noqa: E402
from bot.models import ChatGroup, Compound, Identity, OutboxMessage  # noqa: E402
from bot.models.limits import AccountLease  # noqa: E402
from bot.transports.base import Address, Incoming  # noqa: E402
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


# ---------------------------------------------------------------- --load
class MockGateway:
    """One account's gateway as bench/scale.py needs it: events are kept until the bot that
    received them acknowledges them (after ``on_message`` returned, i.e. stored), and replayed in
    order to the next bot that connects — what gateway/server.js does (docs/wechaty.md), in
    memory, so that dozens of accounts fit in one bench process."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.unacked: dict[str, tuple[Incoming, float]] = {}  # message id -> (event, said at)
        self.connected: "LoadTransport | None" = None

    def say(self, incoming: Incoming) -> None:
        self.unacked[incoming.message_id] = (incoming, time.perf_counter())
        if self.connected is not None:
            self.connected.deliver(incoming)

    def connect(self, transport: "LoadTransport") -> None:
        self.connected = transport
        for incoming, _ in list(self.unacked.values()):  # the replay, oldest first
            transport.deliver(incoming)


class LoadTransport(FakeTransport):
    """A fake transport on a MockGateway: events in, acknowledged when handled; sends recorded."""

    def __init__(self, gateway: MockGateway, replies: dict[str, list[tuple[str, float]]]) -> None:
        super().__init__(account=gateway.account)
        self.gateway = gateway
        self.replies = replies          # sender id -> [(account, at)] over every process
        self.tasks: set[asyncio.Task] = set()

    async def start(self, sink) -> None:  # noqa: ANN001
        await super().start(sink)
        self.gateway.connect(self)

    def deliver(self, incoming: Incoming) -> None:
        task = asyncio.create_task(self._handle(incoming))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _handle(self, incoming: Incoming) -> None:
        await self.sink.on_message(incoming)
        self.gateway.unacked.pop(incoming.message_id, None)  # stored: acknowledged

    async def stop(self) -> None:
        if self.gateway.connected is self:
            self.gateway.connected = None
        await super().stop()

    def crash(self) -> None:
        """kill -9: nothing handled in flight is acknowledged."""
        if self.gateway.connected is self:
            self.gateway.connected = None
        for task in list(self.tasks):
            task.cancel()

    async def send_text(self, to: Address, text: str, mention_ids=()) -> str | None:  # noqa: ANN001
        message_id = await super().send_text(to, text, mention_ids)
        if to.kind == "person":
            self.replies.setdefault(to.platform_id, []).append((self.account, time.perf_counter()))
        return message_id


async def crash(app: BotApp) -> None:
    """What kill -9 leaves: no lease handed back, nothing acknowledged, sends in flight in doubt."""
    for task in app._tasks:
        task.cancel()
    app.sender._stopping = True
    if app.scheduler is not None and app.scheduler._driver is not None:
        app.scheduler._driver.shutdown(wait=False)
        app.scheduler._driver = None
    for transport in app.transports.values():
        transport.crash()
    await app.wakeups.stop()
    await asyncio.gather(*app._tasks, return_exceptions=True)
    await app.engine.dispose()


async def load(args: argparse.Namespace) -> None:
    """N processes (BotApps with their own engines and pools: one Python process, so the figures
    are for one core shared by all of them) x M accounts each on MockGateways, plus a standby
    BotApp for the first process's accounts. Residents write privately ("我的身份", which is
    always answered) at --rate messages/s spread over every account; at 40 % of the load the
    first process is killed. Counts: a message with no reply is lost, one with two replies is
    duplicated, one answered from another account than it came in on is wrong-account."""
    base = {"database_url": args.database_url, "org_file": SAMPLE_ORG,
            "outbox": {"min_interval_seconds": 0, "jitter_seconds": 0, "daily_cap": 1_000_000},
            "accounts": {"lease_seconds": args.account_lease, "tick_seconds": args.account_lease / 4}}
    await empty(args.database_url)
    replies: dict[str, list[tuple[str, float]]] = {}
    names = [[f"p{p}a{a}" for a in range(args.accounts)] for p in range(args.processes)]
    gateways = {name: MockGateway(name) for group in names for name in group}

    async def boot(accounts: list[str], standby: bool) -> BotApp:
        settings = Settings.model_validate({**base, "accounts": {**base["accounts"], "standby": standby}})
        app = BotApp(settings, transports=[LoadTransport(gateways[a], replies) for a in accounts])
        await app.open()
        await app.start()
        return app

    apps = []
    for group in names:  # one at a time: the first creates the schema (the others would wait anyway)
        apps.append(await boot(group, standby=False))
    standby = await boot(names[0], standby=True)
    said: dict[str, tuple[str, float]] = {}  # sender id -> (account, said at)
    accounts = [name for group in names for name in group]
    killed_at = failover = None
    start = time.perf_counter()
    for i in range(args.messages):
        account = accounts[i % len(accounts)]
        sender = f"wxid-load-{i}"
        said[sender] = (account, time.perf_counter())
        gateways[account].say(Incoming(account=account, message_id=f"m{i}", sender_id=sender,
                                       sender_name=f"居民{i}", text="我的身份", sent_at=datetime.now(timezone.utc)))
        if killed_at is None and i >= args.messages * 0.4:
            await crash(apps[0])
            killed_at = time.perf_counter()
        if killed_at is not None and failover is None and all(
                a in standby.leases.held for a in names[0]):
            failover = time.perf_counter() - killed_at
        await asyncio.sleep(1 / args.rate)
    deadline = time.perf_counter() + args.settle
    while time.perf_counter() < deadline and len(replies) < len(said):
        if failover is None and all(a in standby.leases.held for a in names[0]):
            failover = time.perf_counter() - killed_at
        await asyncio.sleep(0.1)
    elapsed = max((at for got in replies.values() for _, at in got), default=start) - start
    async with apps[1].sessions() as session:
        # Replies in flight at the kill: left "uncertain", not resent (at most once, by rule).
        doubtful = set((await session.execute(select(Identity.platform_id).join(
            OutboxMessage, OutboxMessage.person_id == Identity.person_id).where(
            OutboxMessage.status == "uncertain"))).scalars())
        holders = dict((await session.execute(select(AccountLease.account, AccountLease.holder))).all())
    lost = [s for s in said if s not in replies and s not in doubtful]
    duplicated = [s for s, got in replies.items() if len(got) > 1]
    wrong = [s for s, got in replies.items() if any(acc != said[s][0] for acc, _ in got)]
    latencies = sorted(got[0][1] - said[s][1] for s, got in replies.items())
    print(f"load: {args.processes} processes x {args.accounts} accounts (+1 standby for the first process's), "
          f"{len(said)} private messages at {args.rate:g}/s, first process killed at 40 %; "
          f"account lease {args.account_lease:g} s")
    print(f"replies {sum(len(g) for g in replies.values())} in {elapsed:.1f} s: throughput "
          f"{len(replies) / max(elapsed, 1e-9):.0f} msg/s; latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p99 {pct(latencies, 0.99) * 1000:.0f} ms (the failover's backlog included)")
    print(f"failover: the standby held every account of the killed process "
          f"{'after %.1f s' % failover if failover is not None else 'NEVER'}")
    print(f"lost {len(lost)}, duplicated {len(duplicated)}, wrong account {len(wrong)} (targets 0, 0, 0); "
          f"replies in flight at the kill left uncertain (not resent, by rule): {len(doubtful)}; "
          f"leases: {len(set(holders.values()))} holders for {len(holders)} accounts")
    await asyncio.gather(*(app.stop() for app in apps[1:] + [standby]), return_exceptions=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a scratch PostgreSQL database (emptied)")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--lease", type=float, default=None, help="schedules.lease_seconds")
    parser.add_argument("--tick", type=float, default=None, help="schedules.tick_seconds")
    parser.add_argument("--load", action="store_true", help="the load run instead (N processes x M accounts)")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--accounts", type=int, default=2, help="accounts per process")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="messages per second, all accounts together")
    parser.add_argument("--account-lease", type=float, default=4.0, help="accounts.lease_seconds (tick: a quarter)")
    parser.add_argument("--settle", type=float, default=60.0, help="seconds to wait for the last replies")
    args = parser.parse_args()
    if args.load:
        await load(args)
        return
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
