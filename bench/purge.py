"""Purge benchmark: the nightly chatter purge (``bot.privacy.purge_chatter``) on a database that
already holds many tickets.

    python bench/purge.py [--tickets 20000] [--chatter 2000]

Fills an SQLite file with ``--tickets`` handled reports (each a ticket and a reporter row that
point at their message) and ``--chatter`` old chatter messages, then times one purge. Every
deleted message makes the database look for rows that point at it (foreign keys with ON DELETE,
in tickets, reporters, media, collection answers, outbox); without an index on each, every
delete scanned those tables whole. Prints the seconds and the messages deleted.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from bot import db  # noqa: E402
from bot.models import InboundMessage  # noqa: E402
from bot.models.tickets import Ticket, TicketReporter  # noqa: E402
from bot.privacy import purge_chatter  # noqa: E402


async def fill(engine, tickets: int, chatter: int) -> None:  # noqa: ANN001
    old = datetime.now(timezone.utc) - timedelta(days=400)
    async with engine.connect() as conn:
        await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # the bare rows name no compound or person
        await conn.execute(insert(InboundMessage), [
            dict(id=i, account="sim", platform_message_id=f"m{i}", sender_platform_id="w", sent_at=old,
                 received_at=old, status="handled" if i <= tickets else "chatter")
            for i in range(1, tickets + chatter + 1)])
        await conn.execute(insert(Ticket), [
            dict(id=i, compound_id=1, number=i, text="…", created_at=old, updated_at=old, source_message_id=i)
            for i in range(1, tickets + 1)])
        await conn.execute(insert(TicketReporter), [
            dict(ticket_id=i, person_id=i, message_id=i, reported_at=old) for i in range(1, tickets + 1)])
        await conn.commit()
        await conn.exec_driver_sql("PRAGMA foreign_keys=ON")  # back to the bot's setting: the pool reuses it


async def main(tickets: int, chatter: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'purge.db'}")
        try:
            await db.prepare_schema(engine)
            await fill(engine, tickets, chatter)
            async with db.session_factory(engine)() as session:
                started = time.perf_counter()
                deleted = await purge_chatter(session, datetime.now(timezone.utc), 180)
                await session.commit()
                seconds = time.perf_counter() - started
        finally:
            await engine.dispose()
    print(f"purge: {deleted} chatter messages deleted in {seconds:.3f} s beside {tickets} tickets "
          f"({1000 * seconds / max(deleted, 1):.3f} ms a message)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--chatter", type=int, default=2_000)
    args = parser.parse_args()
    asyncio.run(main(args.tickets, args.chatter))
