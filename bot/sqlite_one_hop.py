"""aiosqlite connections whose cursors take one thread switch per statement instead of four.

SQLAlchemy's aiosqlite adapter runs a statement as ``cursor()``, ``execute()``, ``fetchall()``
and ``close()``, and aiosqlite sends each to its worker thread and wakes the event loop when it
is done: four round trips, each a queue put, a thread wake-up and a loop wake-up. On a report
(about ten statements) those switches cost more CPU than SQLite itself. Here ``cursor()`` makes
no trip, ``execute()`` does all the work on the worker thread in one trip (execute, fetch every
row, note description/rowcount/lastrowid, close), and ``fetch*``/``close`` read what was kept.

Rows are always fetched in full: the bot reads no result set too large to hold (it never streams).
It overrides aiosqlite's internal ``_execute`` contract only through its public ``Connection``
subclassing point, like ``bot.inline_sqlite``; tests/test_sqlite_one_hop.py checks the adapter's
behaviour (rows, lastrowid, rowcount, errors, executemany) against plain aiosqlite.
"""
from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any, Iterable

import aiosqlite


class _Done:
    """What one statement left behind, captured on the worker thread."""

    __slots__ = ("rows", "description", "rowcount", "lastrowid")

    def __init__(self, cursor: sqlite3.Cursor, fetch: bool) -> None:
        self.description = cursor.description
        self.rows = deque(cursor.fetchall()) if fetch and cursor.description else deque()
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


class OneHopCursor:
    """The subset of ``aiosqlite.Cursor`` SQLAlchemy's adapter uses, one trip per statement."""

    arraysize = 1

    def __init__(self, conn: "OneHopConnection") -> None:
        self._conn = conn
        self._done: _Done | None = None

    async def __aenter__(self) -> "OneHopCursor":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def _run(self, method: str, sql: str, parameters: Any) -> _Done:  # on the worker thread
        cursor = self._conn._conn.cursor()
        try:
            getattr(cursor, method)(sql, parameters)
            return _Done(cursor, fetch=method == "execute")
        finally:
            cursor.close()

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> "OneHopCursor":
        self._done = await self._conn._execute(self._run, "execute", sql, [] if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> "OneHopCursor":
        self._done = await self._conn._execute(self._run, "executemany", sql, parameters)
        return self

    async def fetchone(self) -> Any:
        rows = self._rows()
        return rows.popleft() if rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._rows()
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    async def fetchall(self) -> list[Any]:
        rows = self._rows()
        result = list(rows)
        rows.clear()
        return result

    async def close(self) -> None:
        # The sqlite3 cursor was closed on the worker thread. rowcount and lastrowid stay readable:
        # SQLAlchemy closes a cursor without rows before it reads them.
        if self._done is not None:
            self._done.rows.clear()

    def _rows(self) -> deque:
        return self._done.rows if self._done is not None else deque()

    @property
    def description(self) -> Any:
        return self._done.description if self._done is not None else None

    @property
    def rowcount(self) -> int:
        return self._done.rowcount if self._done is not None else -1

    @property
    def lastrowid(self) -> int | None:
        return self._done.lastrowid if self._done is not None else None


class OneHopConnection(aiosqlite.Connection):
    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        # SQLAlchemy enters it (``async with``/``__aenter__``) rather than awaiting it, as it does
        # aiosqlite's own cursor() result.
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return OneHopCursor(self)

    def _idle(self) -> bool:
        """No transaction open in SQLite. The sqlite3 module begins one only before a write, so
        after a read-only session, after a commit and whenever the pool resets a returned
        connection (its rollback follows every session's own commit or rollback) there is none,
        and ``commit``/``rollback`` would cost a trip to the worker thread to do nothing.
        ``in_transaction`` reads SQLite's autocommit flag; it may be read from this thread, and
        no statement of this connection is in flight (SQLAlchemy awaits each)."""
        return self._connection is not None and self._running and not self._connection.in_transaction

    async def commit(self) -> None:
        if not self._idle():
            await super().commit()

    async def rollback(self) -> None:
        if not self._idle():
            await super().rollback()


async def connect_one_hop(database: Any, **kwargs: Any) -> OneHopConnection:
    """``aiosqlite.connect`` with one-trip cursors (``async_creator_fn`` of SQLAlchemy's dialect)."""
    connection = OneHopConnection(lambda: sqlite3.connect(str(database), **kwargs), 64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite: never hold the interpreter open
    return await connection
