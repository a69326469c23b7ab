"""Engines whose SQLite statements run in the event loop's thread, not on aiosqlite's worker.

aiosqlite runs each statement on a worker thread and wakes the event loop when it is done: two
thread switches per statement, about half of what a short statement costs (measured: a read
0.20 -> 0.08 ms of CPU past the first, a commit 0.30 -> 0.13 ms). Three uses:

- ``create_serving_engine``: the bot's own engine on a SQLite file (``BotApp``). Durable as
  ``bot.db`` makes it (WAL, synchronous=NORMAL). The process's writers queue on the file's write
  gate (``bot.write_gate``), so none waits for SQLite's lock behind another of this process; a
  write that finds it held by another process (a command-line import, the demo's generator)
  waits with ``asyncio.sleep`` and tries again, the loop serving meanwhile, where SQLite's busy
  handler would have slept in the loop's thread. The dashboard and the schedules keep a
  worker-thread engine on the same file and gate (``BotApp.worker_sessions``): a long statistics
  query or a district's digest run must not stall replies.
- ``create_inline_engine``: one-off bulk work that owns the file for a while (the demo's sample
  history) skips fsync too (``synchronous=OFF``: a crash loses a half-made file, which the next
  start regenerates from scratch). ``busy_timeout_ms`` lets the generator, on a thread of its own
  beside the serving demo, wait for the demo's short transactions.
- The test kit's bot runs on ``create_inline_engine(interleave=True)``: every statement is a point
  where the loop's other tasks run, as waiting for aiosqlite's worker thread is; with no busy
  timeout a statement that would wait for SQLite's lock fails at once instead of blocking the loop.
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


class _ServingConnection(_InlineConnection):
    """Inline; a statement refused because another process holds the file's write lock (plain
    SQLITE_BUSY: nothing was done) is tried again after an ``asyncio.sleep``, for up to
    ``BUSY_WAIT_SECONDS`` as SQLite's busy timeout would. SQLITE_BUSY_SNAPSHOT is not retried: the
    transaction read before another process wrote, and only starting it again would help."""

    async def _execute(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + BUSY_WAIT_SECONDS, 0.001
        while True:
            try:
                return await super()._execute(fn, *args, **kwargs)
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", None) not in _WAIT_AND_RETRY or loop.time() >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)


# The busy codes that mean "taken now, try again".
_WAIT_AND_RETRY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_BUSY_RECOVERY)
BUSY_WAIT_SECONDS = 30.0  # bot.db's busy timeout on worker-thread connections


async def _connect_inline(database: Any, *, connection: type[_InlineConnection] = _InlineConnection,
                          **kwargs: Any) -> _InlineConnection:
    return await connection(lambda: sqlite3.connect(str(database), **kwargs), 64)


async def _connect_serving(database: Any, **kwargs: Any) -> _InlineConnection:
    # No busy timeout from the first statement on: bot.db's connect-time pragmas (WAL first) run
    # before the "connect" hook below could lower it, and a file another process holds locked
    # then would sleep in SQLite's busy handler, in the loop's thread. _ServingConnection waits.
    return await _connect_inline(database, connection=_ServingConnection, **{**kwargs, "timeout": 0})


def create_serving_engine(url: str) -> AsyncEngine:
    """The bot's engine on a SQLite file: inline, durable, waiting for other processes' write
    locks without blocking the loop (see the module's docstring)."""
    if not url.startswith("sqlite"):
        raise ValueError("inline execution is for SQLite only")
    engine = db.create_engine(url, sqlite_connect=_connect_serving)

    @event.listens_for(engine.sync_engine, "connect")
    def _busy_in_the_loop(dbapi_conn, _record):  # noqa: ANN001, ANN202 (runs after bot.db's pragmas)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA busy_timeout=0")  # _ServingConnection waits instead, with the loop running
        cursor.close()

    return engine


def serving_engines(url: str) -> tuple[AsyncEngine, AsyncEngine | None]:
    """A serving process's engines for ``url``: the bot's, and the one for work whose statements
    may be long (the dashboard, the schedules). On a SQLite file the bot's runs inline and the
    other on aiosqlite's worker threads. On PostgreSQL each has a pool of its own, so slow
    dashboard pages never keep the bot (its replies, its account leases) waiting for a
    connection. An in-memory SQLite database, which a second engine would not see, has one."""
    if not url.startswith("sqlite"):
        return db.create_engine(url), db.create_engine(url)
    if db.sqlite_file(url) is None:
        return db.create_engine(url), None
    return create_serving_engine(url), db.create_engine(url)


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
