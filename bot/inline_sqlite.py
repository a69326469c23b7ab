"""An engine for one-off bulk work on a SQLite file: statements run in the event loop's thread.

aiosqlite runs each statement on a worker thread and wakes the event loop when it is done: two
thread switches per statement. The demo's sample history issues ~90,000 statements; on a shared
machine those switches cost more wall-clock time than the statements. For work that owns the
database for a while (nothing else is served meanwhile) they buy nothing, so this engine's
connections execute inline, and skip fsync (``synchronous=OFF``: a crash loses a half-made
file, which the next start regenerates from scratch).

Not for serving: a statement waiting for SQLite's lock would block the whole event loop. (The
demo generates its history on a thread of its own while it serves: there waiting is right, and
``busy_timeout_ms`` lets the generator wait for the demo's short transactions.) The test kit
runs a bot on it with ``interleave``: that bot's writers queue in its event loop
(``bot.write_gate``), so no statement waits for SQLite's lock, and with no busy timeout one
that would fails at once instead of blocking the loop.
"""
from __future__ import annotations

import asyncio
import sqlite3
from functools import partial
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import db
from bot.sqlite_one_hop import OneHopConnection


class _InlineConnection(OneHopConnection):
    """aiosqlite's connection proxy without its worker thread. It overrides aiosqlite's internal
    ``_execute``/``_connect`` (0.20-0.22); tests/test_demo_history_engine.py notices a change.
    Its cursors are bot.sqlite_one_hop's: one ``_execute`` per statement (here: one point where
    an interleaved connection lets other tasks run, as one trip to the worker thread would)."""

    async def _execute(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> "_InlineConnection":
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self):  # noqa: ANN204
        return self._connect().__await__()  # no thread to start

    def stop(self) -> None:
        # The driver's force-terminate: close now, as aiosqlite's own stop() does on its thread, so
        # SQLite's write lock goes with the turn the write gate hands on.
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._running = False

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._running = False


class _InterleavedConnection(_InlineConnection):
    """Inline, but each statement first lets the event loop run its other ready tasks, as
    waiting for aiosqlite's worker thread does: coroutines still interleave at every statement."""

    async def _execute(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        await asyncio.sleep(0)
        return await super()._execute(fn, *args, **kwargs)


async def _connect_inline(database: Any, *, connection: type[_InlineConnection] = _InlineConnection,
                          **kwargs: Any) -> _InlineConnection:
    return await connection(lambda: sqlite3.connect(str(database), **kwargs), 64)


def create_inline_engine(url: str, *, busy_timeout_ms: int = 0, interleave: bool = False) -> AsyncEngine:
    """``bot.db.create_engine``'s SQLite engine (same pragmas), its connections inline and
    without fsync. The setting is per connection: a later normal engine is durable again.
    ``busy_timeout_ms``: 0 when this loop is the database's only user (a wait could never end);
    more when the engine runs on its own thread beside another user of the file.
    ``interleave``: every statement is a point where the loop's other tasks run (the test kit,
    which serves a bot on it: its tasks interleave as they would on aiosqlite's threads)."""
    if not url.startswith("sqlite"):
        raise ValueError("inline execution is for SQLite only")
    connect = partial(_connect_inline, connection=_InterleavedConnection) if interleave else _connect_inline
    engine = db.create_engine(url, sqlite_connect=connect)

    @event.listens_for(engine.sync_engine, "connect")
    def _no_fsync(dbapi_conn, _record):  # noqa: ANN001, ANN202 (runs after bot.db's pragmas)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        # Alone, waiting for another connection's lock cannot end while the loop is blocked: fail at once.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return engine
