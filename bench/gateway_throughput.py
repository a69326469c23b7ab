"""Inbound throughput through the real Node gateway (puppet-mock): how fast the whole bot
(transport, dispatcher, SQLite or PostgreSQL) takes in a backlog, with the transport handling
one event at a time versus several conversations at once (``event_concurrency``).

    python bench/gateway_throughput.py [--messages 1000] [--rooms 20] [--concurrency 1 32]

Per concurrency: a fresh gateway and database; the bot logs in once and stops; residents say
``--messages`` messages spread over ``--rooms`` rooms while it is away (the gateway keeps them
until acknowledged); the bot starts again and the time until every message is stored and
handled is measured (the replay burst, as after an outage or a restart). Prints msg/s and
the login part. SQLite (a fresh file per run). Needs ``npm ci --prefix gateway``.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import func, select  # noqa: E402

from bot.app import BotApp  # noqa: E402
from bot.config import SAMPLE_ORG, load_settings  # noqa: E402
from bot.models import InboundMessage  # noqa: E402
from bot.transports.wechaty import build_wechaty_transports  # noqa: E402
from conftest_gateway import Gateway, gateway_missing_reason  # noqa: E402


def world(rooms: int, people: int = 8) -> dict[str, Any]:
    contacts = [{"key": f"p{i}", "name": f"住户{i}", "id": f"wxid_resident_{i}"} for i in range(people)]
    return {
        "self": {"key": "bot", "name": "支部助手", "id": "wxid_zhibu_bot"},
        "contacts": contacts,
        "rooms": [{"key": f"g{r}", "id": f"room-bench-{r}", "topic": f"测试小区{r}群",
                   "members": [c["key"] for c in contacts]} for r in range(rooms)],
    }


def settings(tmp: Path, gw: Gateway):
    (tmp / "zhibu.toml").write_text("", encoding="utf-8")
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'zhibu.db'}",
        "ZHIBU_ORG_FILE": str(SAMPLE_ORG),
        "ZHIBU_OUTBOX__MIN_INTERVAL_SECONDS": "0",
        "ZHIBU_OUTBOX__JITTER_SECONDS": "0",
        "WECHATY_PUPPET_SERVICE_ENDPOINT": gw.endpoint,
        "WECHATY_PUPPET_SERVICE_TOKEN": gw.token,
    }
    return load_settings(tmp / "zhibu.toml", environ=env)


async def stored(app: BotApp, ids: set[str]) -> int:
    async with app.sessions() as session:
        return (await session.execute(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.platform_message_id.in_(ids)))).scalar_one()


async def one_run(concurrency: int, messages: int, rooms: int) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="zhibu-bench-tp-"))
    gw = Gateway(tmp / "gw", world(rooms))
    gw.start()
    try:
        config = settings(tmp, gw)
        options = dict(qr_printer=None, event_concurrency=concurrency)
        first = BotApp(config, transports=build_wechaty_transports(config, **options))
        await first.start()
        await first.stop()
        texts = ["楼道灯不亮了", "今天几点停水", "快递放哪里了", "谢谢大家", "电梯又坏了", "好的收到"]
        said = set()
        for i in range(messages):
            said.add(await asyncio.to_thread(gw.say, f"p{i % 8}", f"{texts[i % len(texts)]} {i}", room=f"g{i % rooms}"))
        app = BotApp(config, transports=build_wechaty_transports(config, **options))
        began = time.perf_counter()
        await app.start()
        login = time.perf_counter() - began
        try:
            # Acknowledged = handled (stored and acted on): the gateway then holds nothing more.
            while await asyncio.to_thread(gw.queue):
                await asyncio.sleep(0.05)
            seconds = time.perf_counter() - began
            assert await stored(app, said) == len(said), "a message was acknowledged but not stored"
        finally:
            await app.stop()
        return {"seconds": seconds, "login": login, "rate": messages / seconds}
    finally:
        gw.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()
    reason = gateway_missing_reason()
    if reason:
        sys.exit(reason)
    print(f"{args.messages} messages from {args.rooms} rooms, replayed by the gateway at start; "
          "SQLite; "
          f"load at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for concurrency in args.concurrency:
        result = await one_run(concurrency, args.messages, args.rooms)
        print(f"event_concurrency {concurrency:3d}: {result['rate']:7.1f} msg/s "
              f"({result['seconds']:.1f} s for all stored and handled, of which login {result['login']:.1f} s)")


if __name__ == "__main__":
    asyncio.run(main())
