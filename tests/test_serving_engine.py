"""A bot serving on a SQLite file runs its statements in the event loop's thread
(bot/inline_sqlite.py): durable, never waiting for another process's write lock inside SQLite
(the loop would stop serving), and with the dashboard and the schedules on worker threads of their
own beside it."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
from types import SimpleNamespace

from sqlalchemy import text

from bot import write_gate
from bot.app import BotApp
from bot.config import SAMPLE_ORG, Settings
from bot.inline_sqlite import create_serving_engine


async def _while_another_process_holds(path, lock: list[str], bot_step) -> list[str]:  # noqa: ANN001
    """Run ``bot_step`` while another process (a thread with its own connection) holds ``path``
    locked by the statements ``lock``; it lets go once the loop has shown it serves meanwhile.
    Returns the order of events: the bot's step must finish after the lock went, not before."""
    order: list[str] = []
    lock_taken, loop_served = threading.Event(), threading.Event()

    def other_process() -> None:  # a command-line import, say
        other = sqlite3.connect(path, isolation_level=None)
        for statement in lock:
            other.execute(statement)
        lock_taken.set()
        loop_served.wait(timeout=10)  # a bound for a blocked loop, not a timing assumption
        order.append("the other process commits")
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=other_process)
    holder.start()
    await asyncio.to_thread(lock_taken.wait)

    async def step() -> None:
        await bot_step()
        order.append("the bot's step done")

    stepping = asyncio.create_task(step())
    for _ in range(50):  # the step meets the lock; in SQLite's busy handler it would block us here
        await asyncio.sleep(0.001)
    assert not stepping.done()
    order.append("the loop served meanwhile")
    loop_served.set()
    await stepping
    await asyncio.to_thread(holder.join)
    return order


SERVED_THEN_WAITED = ["the loop served meanwhile", "the other process commits", "the bot's step done"]


async def test_a_write_meeting_another_process_lock_waits_while_the_loop_serves(tmp_path):
    path = tmp_path / "bot.db"
    engine = create_serving_engine(f"sqlite+aiosqlite:///{path}")

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        assert await _while_another_process_holds(path, ["BEGIN IMMEDIATE"], write) == SERVED_THEN_WAITED
    finally:
        await engine.dispose()


async def test_connecting_to_a_file_another_process_holds_waits_while_the_loop_serves(tmp_path):
    """A fresh file, still in rollback-journal mode, locked by another process: the connection's
    first pragma (journal_mode=WAL) waits for it without stopping the loop."""
    path = tmp_path / "bot.db"
    engine = create_serving_engine(f"sqlite+aiosqlite:///{path}")

    async def connect() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT count(*) FROM t"))

    try:
        lock = ["CREATE TABLE t (n INTEGER)", "BEGIN EXCLUSIVE"]
        assert await _while_another_process_holds(path, lock, connect) == SERVED_THEN_WAITED
    finally:
        await engine.dispose()


async def test_the_serving_engine_is_durable(tmp_path):
    engine = create_serving_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one() == 1  # NORMAL, not OFF
    finally:
        await engine.dispose()


async def _opened(tmp_path) -> BotApp:  # noqa: ANN001
    settings = Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                                        "org_file": str(SAMPLE_ORG)})
    app = BotApp(settings)
    await app.open()
    return app


async def _statement_thread(session) -> int:  # noqa: ANN001
    """The thread SQLite runs a statement of ``session``'s in."""
    raw = await (await session.connection()).get_raw_connection()
    await raw.driver_connection.create_function("thread_id", 0, threading.get_ident)
    return (await session.execute(text("SELECT thread_id()"))).scalar_one()


async def test_the_bot_runs_statements_in_the_loop_the_dashboard_and_schedules_on_worker_threads(tmp_path):
    from bot.web.state import WEB, db as dashboard_session
    from schedules.context import job_deps

    app = await _opened(tmp_path)
    here = threading.get_ident()
    try:
        async with app.sessions() as session:  # the dispatcher's and the outbox's
            assert await _statement_thread(session) == here
        async with dashboard_session(SimpleNamespace(config_dict={WEB: SimpleNamespace(bot=app)})) as session:
            assert await _statement_thread(session) != here
        async with job_deps(app) as deps:
            assert await _statement_thread(deps.session) != here
    finally:
        await app.stop()


async def test_a_dashboard_write_and_a_bot_write_take_turns_on_one_gate(tmp_path):
    app = await _opened(tmp_path)
    assert write_gate.gate_of(app.engine) is write_gate.gate_of(app.worker_engine)
    order: list[str] = []
    dashboard_wrote = asyncio.Event()

    async def dashboard() -> None:
        async with app.worker_sessions() as session:
            await session.execute(text("UPDATE people SET phone = '13800000000' WHERE id = 1"))
            dashboard_wrote.set()
            for _ in range(20):  # hold the write transaction across many loop turns
                await session.execute(text("SELECT count(*) FROM people"))
            order.append("the dashboard commits")
            await session.commit()

    async def bot() -> None:
        await dashboard_wrote.wait()
        async with app.sessions() as session:
            await session.execute(text("UPDATE people SET phone = '13900000000' WHERE id = 2"))
            order.append("the bot wrote")
            await session.commit()

    try:
        await asyncio.gather(dashboard(), bot())
        assert order == ["the dashboard commits", "the bot wrote"]
    finally:
        await app.stop()


async def test_postgresql_gives_the_dashboard_and_schedules_a_pool_of_their_own():
    from bot.inline_sqlite import serving_engines

    engine, worker = serving_engines("postgresql+asyncpg://zhibu:zhibu@127.0.0.1:5432/zhibu")
    assert worker is not None and worker.pool is not engine.pool  # they never wait for the bot's connections
    await engine.dispose()
    await worker.dispose()


async def test_an_in_memory_database_has_one_engine_for_both():
    from bot.inline_sqlite import serving_engines

    engine, worker = serving_engines("sqlite+aiosqlite:///:memory:")  # a second engine would not see it
    assert worker is None
    await engine.dispose()


async def test_deleting_messages_finds_their_replies_by_an_index(tmp_path):
    """A resident's 删除我的信息 and the chatter purge delete inbound messages, which sets their
    replies' in_reply_to to NULL: without an index SQLite scans the outbox once per message."""
    engine = create_serving_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        from bot import db

        await db.prepare_schema(engine)
        async with engine.connect() as conn:
            indexes = [row[1] for row in (await conn.exec_driver_sql("PRAGMA index_list(outbox)")).all()]
            first_columns = {name: (await conn.exec_driver_sql(f"PRAGMA index_info({name})")).all()[0][2]
                             for name in indexes}
        assert "in_reply_to" in first_columns.values()
    finally:
        await engine.dispose()
