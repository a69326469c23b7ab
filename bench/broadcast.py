"""Broadcast benchmark: a district notice to 3,000 groups over 6 accounts while residents keep
writing, on a simulated clock (runs in about a minute of real time, not 15).

    python bench/broadcast.py [--groups 3000] [--accounts 6] [--reply-every 2] [--jitter S]

The notice goes through the real ``notice_delivery.fan_out`` and the real ``OutboxSender`` with the
default limits (``OutboxSettings``); each account has a fake transport. A resident's reply (a
group text at reply priority, as the dispatcher queues it) arrives every ``--reply-every``
simulated seconds in a random group. Prints:
  - makespan: first to last notice send (target <= 15 min; bound groups x mean gap / accounts)
  - the highest sends of one account in any 60 s window (must not exceed 60 / min_interval)
  - p50 / p99 / max wait of resident replies queued during the broadcast (target p99 <= 10 s)
``--jitter`` overrides ``outbox.jitter_seconds``. Last run (jitter 0.3 s, min interval 1.5 s):
makespan 15.9 min with 450 resident replies interleaved (13.8 min for the notice alone), replies
p99 1.6 s, at most 38 sends of one account in any 60 s.
"""
from __future__ import annotations

import argparse
import asyncio
import bisect
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, update  # noqa: E402

from bot.app import BotApp  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.models import ChatGroup, OutboxMessage, OutboxStatus, Priority  # noqa: E402
from bot.models.notices import Notice  # noqa: E402
from bot.orgimport import CompoundSpec, OrgPlan, PersonSpec, apply_plan  # noqa: E402
from bot.services import Deps  # noqa: E402
from bot.services import notice_delivery  # noqa: E402
from bot.transports.fake import FakeTransport  # noqa: E402

START = datetime(2026, 12, 1, 9, 0)
GROUPS_PER_COMPOUND = 10


class ArrivalClock(FakeClock):
    """A fake clock whose ``sleep`` stops early at the next resident message, so the sender
    sees replies arrive mid-broadcast exactly when they would."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.arrivals: list[datetime] = []   # due resident messages, soonest first
        self.on_arrival = None               # async callable(moment)

    async def sleep(self, seconds: float) -> None:
        target = self._now + timedelta(seconds=max(0.0, seconds))
        if self.arrivals and self.arrivals[0] <= target:
            moment = self.arrivals.pop(0)
            self._now = max(self._now, moment)
            await self.on_arrival(moment)
        else:
            self._now = target
        await asyncio.sleep(0)


def org_plan(groups: int) -> OrgPlan:
    org = OrgPlan(district="基准区")
    for c in range((groups + GROUPS_PER_COMPOUND - 1) // GROUPS_PER_COMPOUND):
        names = [(f"小区{c}业主{g}群", f"room-{c}-{g}", None)
                 for g in range(min(GROUPS_PER_COMPOUND, groups - c * GROUPS_PER_COMPOUND))]
        org.compounds[f"小区{c}"] = CompoundSpec(name=f"小区{c}", street="街道", community=f"社区{c % 20}",
                                                groups=names)
    org.people.append(PersonSpec("bench", "区办", None, None, None, None, None, [("district_staff", None)]))
    return org


def max_in_window(times: list[datetime], seconds: float = 60.0) -> int:
    """The most sends in any half-open window [t, t + seconds)."""
    best, ts = 0, sorted(times)
    for i, t in enumerate(ts):
        best = max(best, bisect.bisect_left(ts, t + timedelta(seconds=seconds)) - i)
    return best


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="zhibu-bench-broadcast-"))
    overrides = {"outbox": {"daily_cap": 100_000}}
    if args.jitter is not None:
        overrides["outbox"]["jitter_seconds"] = args.jitter
    settings = Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
                                        "org_file": None, **overrides})
    clock = ArrivalClock(START)
    accounts = [f"acc{i + 1}" for i in range(args.accounts)]
    transports = [FakeTransport(account=a, now=clock.now) for a in accounts]
    app = BotApp(settings, transports=transports, clock=clock, rng=random.Random(1))
    await app.open()
    async with app.sessions() as s:
        await apply_plan(s, org_plan(args.groups), clock.now(), account=accounts[0])
        await s.commit()
        ids = list((await s.execute(select(ChatGroup.id).order_by(ChatGroup.id))).scalars())
        for i, account in enumerate(accounts):  # round-robin: each account serves 1/N of the groups
            await s.execute(update(ChatGroup).where(ChatGroup.id.in_(ids[i::len(accounts)])).values(account=account))
        await s.commit()
    async with app.sessions() as s:
        await app.org.refresh(s)

    rng = random.Random(7)
    replies: list[int] = []

    async def resident_reply(moment: datetime) -> None:
        async with app.sessions() as s:
            [row] = app.outbox.enqueue(s, "收到，谢谢", group_id=rng.choice(ids), priority=Priority.REPLY)
            await s.commit()
            replies.append(row.id)

    clock.on_arrival = resident_reply
    horizon = timedelta(minutes=args.minutes)
    step = timedelta(seconds=args.reply_every)
    clock.arrivals = [clock.now() + step * (i + 1) for i in range(int(horizon / step))]

    async with app.sessions() as s:
        notice = Notice(kind="notice", status="confirmed", text="关于冬季燃气安全检查的通知", scope="district",
                        scope_label="全区", target={"scope": "district"}, created_at=clock.now(),
                        author_name="区办")
        s.add(notice)
        await s.flush()
        deps = Deps(session=s, clock=clock, outbox=app.outbox, org=app.org, settings=settings)
        recipients = await notice_delivery.fan_out(deps, notice)
        await s.commit()
    started, wall = clock.now(), time.perf_counter()

    sender = app.sender
    while True:
        await sender.drain()
        async with app.sessions() as s:
            left = (await s.execute(select(OutboxMessage.id).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.ref_kind == notice_delivery.REF_KIND)
                .limit(1))).first()
        if left is None:
            break
        wait = await sender._shortest_wait()  # noqa: SLF001  (the production loop's own rule)
        await clock.sleep(min(wait if wait is not None else 1.0, 30.0) or 0.01)
    wall = time.perf_counter() - wall

    async with app.sessions() as s:
        notice_rows = (await s.execute(select(OutboxMessage.sent_at, OutboxMessage.status).where(
            OutboxMessage.ref_kind == notice_delivery.REF_KIND))).all()
        reply_rows = (await s.execute(select(OutboxMessage.created_at, OutboxMessage.sent_at).where(
            OutboxMessage.id.in_(replies)))).all()
    sent = [t for t, st in notice_rows if st == OutboxStatus.SENT]
    makespan = (max(sent) - started).total_seconds()
    waits = sorted((b - a).total_seconds() for a, b in reply_rows if b is not None and a <= max(sent))
    o = settings.outbox
    mean_gap = o.min_interval_seconds + o.jitter_seconds / 2
    print(f"groups {len(recipients)}, accounts {len(accounts)}, sent {len(sent)}, not sent {len(notice_rows) - len(sent)}")
    print(f"limits: min interval {o.min_interval_seconds} s + jitter 0-{o.jitter_seconds} s, "
          f"{o.group_per_minute}/group/min")
    print(f"makespan {makespan / 60:.1f} min (target <= 15; bound at the mean gap "
          f"{len(recipients) * mean_gap / len(accounts) / 60:.1f} min, at the minimum gap "
          f"{len(recipients) * o.min_interval_seconds / len(accounts) / 60:.1f} min)")
    per_account = {t.account: max_in_window([x.at for x in t.sent]) for t in transports}
    print(f"highest sends of one account in any 60 s: {max(per_account.values())} "
          f"(limit {int(60 // o.min_interval_seconds)}); per account {per_account}")
    if waits:
        print(f"resident replies during the broadcast: {len(waits)}, wait p50 "
              f"{statistics.median(waits):.1f} s, p99 {waits[int(0.99 * (len(waits) - 1))]:.1f} s, "
              f"max {waits[-1]:.1f} s (target p99 <= 10 s)")
    print(f"real time {wall:.0f} s")
    await app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=3000)
    parser.add_argument("--accounts", type=int, default=6)
    parser.add_argument("--reply-every", type=float, default=2.0, help="simulated seconds between resident replies")
    parser.add_argument("--minutes", type=float, default=15.0, help="how long residents keep writing")
    parser.add_argument("--jitter", type=float, default=None, help="override outbox.jitter_seconds")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
