"""Fuzz run: N hostile messages (random Unicode with NUL, surrogates, control and format
characters, huge texts, odd ids, command words with random arguments, phone and ID numbers
written every way) from every role of the sample district, delivered in concurrent batches
through the dispatcher. Prints, per database: messages, stored, dead-lettered, exceptions,
failed (a handler raised), unmasked (readable numbers in group texts) and vanished.

    python bench/fuzz.py [--messages 10000] [--seed 1] [--postgres postgresql+asyncpg://…] [--skip-sqlite]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.fuzzkit import GROUPS, ISSUES, NASTY, PHONES, SENDERS, FuzzRun, command_words, make_message  # noqa: E402
from bot.testing import BotHarness  # noqa: E402

COMMANDS = command_words()


def random_text(rng: random.Random) -> str:
    def fragment() -> str:
        roll = rng.random()
        if roll < 0.3:
            return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 8)))
        if roll < 0.5:
            return rng.choice(NASTY)
        if roll < 0.65:
            return rng.choice(PHONES)
        if roll < 0.75:
            return rng.choice(ISSUES)
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 6)))

    roll = rng.random()
    if roll < 0.3:
        return rng.choice(COMMANDS) + " " + " ".join(fragment() for _ in range(rng.randrange(4)))
    if roll < 0.35:
        return fragment() * rng.randrange(500, 40_000)  # huge
    return "".join(fragment() for _ in range(rng.randrange(8)))


def random_id(rng: random.Random, n: int) -> str | None:
    roll = rng.random()
    if roll < 0.7:
        return None  # the kit numbers it
    if roll < 0.8:
        return "x" * rng.randrange(129, 400) + str(n)
    if roll < 0.9:
        return f"{n}\x00\ud800"
    return rng.choice(["dup-1", "dup-2", str(n % 50)])  # redeliveries


async def run(database_url: str | None, total: int, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    async with BotHarness(database_url=database_url, settings={"max_text_chars": 2_000}) as h:
        fuzz = FuzzRun(h)
        n = 0
        while n < total:
            size = min(total - n, rng.randrange(1, 60))
            batch = [make_message(h.now, n=n + i, text=random_text(rng), sender=rng.choice(SENDERS),
                                  group=rng.choice(GROUPS + [None]), message_id=random_id(rng, n + i),
                                  mention=rng.random() < 0.2) for i in range(size)]
            n += size
            await fuzz.deliver_together(batch)
            await h.advance(seconds=20)  # let the outbox's per-group caps pass
        counts = fuzz.counts
    name = "PostgreSQL" if database_url else "SQLite"
    print(f"{name}: {counts.line()}  ({time.perf_counter() - started:.0f} s)")
    for example in counts.examples[:5]:
        print("   ", example[:300])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="also run on this (scratch!) PostgreSQL database: it is emptied")
    parser.add_argument("--skip-sqlite", action="store_true", help="run on PostgreSQL only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # handler failures are counted, not printed
    if not args.skip_sqlite:
        asyncio.run(run(None, args.messages, args.seed))
    if args.postgres:
        asyncio.run(run(args.postgres, args.messages, args.seed))


if __name__ == "__main__":
    main()
