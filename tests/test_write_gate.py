"""The SQLite engine queues this loop's write transactions itself: a second writer waits for
the first to commit instead of sleeping in SQLite's busy handler (which made reports wait
hundreds of milliseconds for a lock free again after one)."""
from __future__ import annotations

import asyncio

from sqlalchemy import event, text

from bot import db


async def test_a_second_writer_waits_for_the_first_to_commit_without_meeting_a_locked_database(tmp_path):
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")

    @event.listens_for(engine.sync_engine, "connect")
    def no_busy_wait(dbapi_conn, _record):  # noqa: ANN001
        # Without the gate the second writer would fail at once with "database is locked".
        dbapi_conn.cursor().execute("PRAGMA busy_timeout=0")

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        order: list[str] = []
        first_wrote = asyncio.Event()

        async def first() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
                first_wrote.set()
                for _ in range(20):  # hold the write transaction across many loop turns
                    await conn.execute(text("SELECT count(*) FROM t"))
                order.append("first commits")

        async def second() -> None:
            await first_wrote.wait()
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
                order.append("second wrote")

        await asyncio.gather(first(), second())
        assert order == ["first commits", "second wrote"]
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_a_failed_write_gives_the_turn_back(tmp_path):
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        try:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (2)"))
                await conn.execute(text("INSERT INTO t VALUES (1)"))  # a duplicate: rolled back
        except Exception:  # noqa: BLE001
            pass
        async with engine.begin() as conn:  # would wait forever if the turn were still held
            await asyncio.wait_for(conn.execute(text("INSERT INTO t VALUES (3)")), 10)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() == [1, 3]
    finally:
        await engine.dispose()


async def test_writers_cancelled_at_any_point_give_the_turn_back(tmp_path):
    """A task cancelled mid-transaction (a stopping app's tick, a request gone) has its connection
    terminated by the pool: that ends its turn too, or every later writer would wait 30 s."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from bot.write_gate import gate_of

    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    sessions = async_sessionmaker(engine)
    gate = gate_of(engine)
    assert gate is not None

    async def writer(n: int) -> None:
        async with sessions() as session:
            await session.execute(text(f"INSERT INTO t VALUES ({n})"))
            await session.execute(text(f"UPDATE t SET n = n WHERE n = {n}"))
            await session.commit()

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        for turns_before_cancel in range(30):  # cancel at every point of the writers' lives
            tasks = [asyncio.create_task(writer(n)) for n in range(3)]
            for _ in range(turns_before_cancel):
                await asyncio.sleep(0)
            tasks[0].cancel()
            tasks[1].cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for _ in range(5):  # a turn given back from another thread arrives via call_soon
                await asyncio.sleep(0)
            assert gate.turns_held() == 0, f"turn kept after a cancel at loop turn {turns_before_cancel}"
            assert not gate.turn_taken(), f"lock kept after a cancel at loop turn {turns_before_cancel}"
    finally:
        await engine.dispose()
