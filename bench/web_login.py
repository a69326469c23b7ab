"""Log-in burst benchmark: how long an unrelated dashboard request waits while N bad log-ins
run their argon2 checks (real parameters), with the checks in the worker pool (as shipped)
and, for comparison, on the event loop (as before).

Prints one argon2 verification's time, then per mode the unrelated request's latency alone
and during the burst (median and max over the rounds) and how the burst's log-ins were
answered (401 wrong password / 429 busy).
    python bench/web_login.py [--logins 16] [--rounds 5]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.testing import BotHarness  # noqa: E402
from bot.web import security  # noqa: E402
from bot.web.app import build_web_app  # noqa: E402
from bot.web.state import WEB  # noqa: E402


class OnLoop(security.PasswordWorker):
    """The old behaviour: argon2 called directly on the event loop."""

    async def run(self, fn, *args):  # noqa: ANN001, ANN002, ANN201
        return fn(*args)


STARTED = [0]  # password verifications begun (all rounds): the burst has reached the hashing


def _counting(verify):  # noqa: ANN001, ANN202
    def counted(stored_hash, password):  # noqa: ANN001, ANN202
        STARTED[0] += 1
        return verify(stored_hash, password)
    return counted


class Server:
    """The bot and its web app in a thread with their own event loop, as in production: the
    client below must not share the server's loop, or it would be stalled along with it."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.ready = threading.Event()
        self.url = ""
        self.harness: BotHarness | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with BotHarness() as h:
            self.harness = h
            app = build_web_app(h.bot)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            st = app[WEB]
            if self.mode == "on-loop":
                st.passwords.close()
                st.passwords = OnLoop()
            self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            self.ready.set()
            await self._stop.wait()
            await runner.cleanup()

    def __enter__(self) -> "Server":
        self._thread.start()
        self.ready.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()


async def _round(client: aiohttp.ClientSession, url: str, token: str, n: int, offset: int) -> tuple[float, Counter]:
    async def bad(i: int) -> int:
        async with client.post(f"{url}/dashboard/login", allow_redirects=False,
                               data={"username": f"guess{offset + i}", "password": "wrong-password",
                                     "_csrf": token}) as resp:
            return resp.status

    before = STARTED[0]
    burst = [asyncio.create_task(bad(i)) for i in range(n)]
    while STARTED[0] == before:  # the unrelated request goes out once the hashing has begun
        await asyncio.sleep(0.001)
    start = time.perf_counter()
    async with client.get(f"{url}/api/docs/openapi.json") as resp:
        await resp.read()
    latency = time.perf_counter() - start
    return latency, Counter(await asyncio.gather(*burst))


async def run(mode: str, logins: int, rounds: int) -> None:
    import re

    with Server(mode) as server:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            async with client.get(f"{server.url}/dashboard/login") as resp:
                token = re.search(r'name="_csrf" value="([^"]+)"', await resp.text()).group(1)
            quiet = []
            for _ in range(rounds):
                start = time.perf_counter()
                async with client.get(f"{server.url}/api/docs/openapi.json") as resp:
                    await resp.read()
                quiet.append(time.perf_counter() - start)
            latencies, answers = [], Counter()
            for r in range(rounds):
                server.harness.clock.advance(timedelta(minutes=20))  # a fresh throttle window each round
                latency, counts = await _round(client, server.url, token, logins, r * logins)
                latencies.append(latency)
                answers += counts
    print(f"{mode:>8}: unrelated request alone: median {statistics.median(quiet) * 1000:.0f} ms; during {logins} bad"
          f" log-ins: median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms;"
          f" log-ins answered {dict(sorted(answers.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    security.verify_password = _counting(security.verify_password)
    stored = security.hash_password("correct-horse-42")
    start = time.perf_counter()
    security.verify_password(stored, "wrong-password")
    print(f"argon2 verification (library defaults): {(time.perf_counter() - start) * 1000:.0f} ms; "
          f"pool: {security.HASH_WORKERS} threads, at most {security.HASH_MAX_PENDING} waiting")
    asyncio.run(run("pool", args.logins, args.rounds))
    asyncio.run(run("on-loop", args.logins, args.rounds))


if __name__ == "__main__":
    main()
