"""Gateway outage benchmark: how soon the bot is back after the Node gateway is killed, and
whether what residents said meanwhile arrives (real gateway with puppet-mock; needs
``npm ci --prefix gateway``).

    python bench/gateway_reconnect.py [--down 0 5 20] [--messages 3]

For each outage length: the gateway is killed (SIGKILL), kept down that many seconds,
restarted; ``--messages`` room messages are said at once (usually before the bot is back).
The transport runs with its production defaults (backoff 1 -> 30 s, port probe every 1.5 s).
Prints, per outage: seconds from the gateway's "ready" line to the bot's reconnect, failed
reconnect attempts meanwhile, and how many of the messages arrived (each once).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bot.transports.base import Incoming  # noqa: E402
from bot.transports.wechaty import WechatyTransport  # noqa: E402
from conftest_gateway import GATEWAY_TOKEN, Gateway, Recorder, gateway_missing_reason  # noqa: E402


async def run(downs: list[float], messages: int) -> None:
    gw = Gateway(Path(tempfile.mkdtemp(prefix="zhibu-bench-gw-")))
    gw.start()
    sink = Recorder()
    transport = WechatyTransport("default", gw.endpoint, GATEWAY_TOKEN, qr_printer=None)
    await transport.start(sink)
    try:
        for down in downs:
            failures = transport.reconnect_failures
            reconnects = transport.status.reconnects
            gw.stop(hard=True)
            while transport.status.connected:
                await asyncio.sleep(0.02)
            await asyncio.sleep(down)
            gw.start()
            back = time.monotonic()
            said = [gw.say("li", f"停水了 {down} {i}", room="r1") for i in range(messages)]
            while not (transport.connected and transport.status.reconnects > reconnects):
                await asyncio.sleep(0.02)
            seconds = time.monotonic() - back
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                got = [m.message_id for m in sink.of(Incoming) if m.message_id in said]
                if set(got) == set(said):
                    break
                await asyncio.sleep(0.02)
            await sink.settle()
            got = [m.message_id for m in sink.of(Incoming) if m.message_id in said]
            print(f"down {down:5.1f} s: reconnected {seconds:5.2f} s after the gateway was ready, "
                  f"{transport.reconnect_failures - failures} failed attempts meanwhile; "
                  f"messages said meanwhile: {len(set(got))}/{messages} arrived ({len(got)} deliveries)")
    finally:
        await transport.stop()
        gw.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", type=float, nargs="+", default=[0.0, 5.0, 20.0])
    parser.add_argument("--messages", type=int, default=3)
    args = parser.parse_args()
    reason = gateway_missing_reason()
    if reason:
        sys.exit(f"cannot run: {reason}")
    asyncio.run(run(args.down, args.messages))


if __name__ == "__main__":
    main()
