"""The engine the demo history is generated on (bot/inline_sqlite.py): SQLite statements run in
the event loop's thread, without fsync, and a lock conflict fails at once (busy_timeout 0)."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.inline_sqlite import create_inline_engine

def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}"


@pytest.mark.asyncio
async def test_statements_run_without_a_worker_thread(tmp_path):
    engine = create_inline_engine(_url(tmp_path))
    threads = set(threading.enumerate())
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1), (2)"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT sum(n) FROM t"))).scalar_one() == 3
            started = set(threading.enumerate()) - threads
            assert not [t for t in started if "_connection_worker_thread" in t.name]  # aiosqlite's worker
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_connections_skip_fsync_and_do_not_wait_for_locks(tmp_path):
    engine = create_inline_engine(_url(tmp_path))
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar_one() == 0
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == 0
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    finally:
        await engine.dispose()


def test_only_sqlite_urls_are_accepted():
    with pytest.raises(ValueError):
        create_inline_engine("postgresql+asyncpg://zhibu@localhost/zhibu")


@pytest.mark.asyncio
async def test_an_engine_on_a_thread_of_its_own_may_wait_for_the_lock(tmp_path):
    engine = create_inline_engine(_url(tmp_path), busy_timeout_ms=30_000)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == 30_000
    finally:
        await engine.dispose()


async def test_a_force_terminated_inline_connection_lets_go_of_sqlites_write_lock(tmp_path):
    """The pool force-terminates a connection whose task was cancelled; the write gate then hands
    the turn on, so SQLite's lock must go with it (the test kit's engine has no busy wait)."""
    import sqlite3

    from bot.inline_sqlite import _connect_inline

    path = tmp_path / "t.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (n INTEGER)")
    setup.commit()
    setup.close()
    conn = await _connect_inline(path)
    await conn.execute("BEGIN IMMEDIATE")
    await conn.execute("INSERT INTO t VALUES (1)")
    conn.stop()
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("INSERT INTO t VALUES (2)")  # "database is locked" while the first holds on
        other.commit()
        assert other.execute("SELECT n FROM t").fetchall() == [(2,)]
    finally:
        other.close()
