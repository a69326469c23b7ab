"""One write transaction at a time on a SQLite file, queued in the event loop, not inside SQLite.

SQLite has one writer. When a second connection of this process starts writing while another's
write transaction is open, SQLite's busy handler makes it *sleep* (1, 2, 5 … up to 100 ms per
try) instead of waking it when the lock frees. With dozens of messages in flight every write
transaction overlaps another one and those sleeps became the latency: a problem report waited
hundreds of milliseconds for a lock that was free again after one. Here a writer instead waits
on an ``asyncio.Lock`` (handed over the moment the previous writer commits), taken at the
statement that opens the write transaction (the driver's implicit BEGIN comes before the first
INSERT/UPDATE/DELETE) and given back when the transaction ends (commit, rollback, or the pool's
reset of a connection returned mid-transaction). Readers are never held up (WAL).

Other processes on the same file (the CLI, a demo generator's thread) still meet SQLite's own
busy handler: the gate only orders this event loop's writers. A task that holds the gate and
then waits for a second write transaction of its own would wait forever; as SQLite's busy
timeout did, the gate gives up after ``timeout`` seconds with an error.
"""
from __future__ import annotations

import asyncio
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.concurrency import await_, in_greenlet

# The statements before which the sqlite3 driver opens a transaction (its implicit BEGIN).
_OPENS_WRITE = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriteGate:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())
        # id of a DBAPI connection → the loop and lock it holds
        self._held: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()  # an asyncio.Lock belongs to one loop (tests run many)
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def before_execute(self, conn: Any, statement: str) -> None:
        dbapi = conn.connection.dbapi_connection
        if id(dbapi) in self._held or not statement.lstrip()[:7].upper().startswith(_OPENS_WRITE):
            return
        if not in_greenlet() or dbapi.isolation_level is None:  # autocommit: no transaction to end
            return
        lock = self._lock()
        try:
            await_(self._acquire(lock))
        except TimeoutError:
            raise OperationalError(statement, None, Exception(
                f"no write turn within {self.timeout:.0f} s (a writer held it all along)")) from None
        self._held[id(dbapi)] = (asyncio.get_running_loop(), lock)

    async def _acquire(self, lock: asyncio.Lock) -> None:
        # Not asyncio.wait_for: on Python 3.11 a cancel that lands just as the lock is granted
        # raises CancelledError with the lock taken, and nobody would give it back.
        async with asyncio.timeout(self.timeout):
            await lock.acquire()

    def turns_held(self) -> int:
        """How many connections hold the write turn now (0 or 1 in one loop)."""
        return len(self._held)

    def turn_taken(self) -> bool:
        """Whether this loop's write turn is taken (the lock itself, not our record of it)."""
        return self._lock().locked()

    def release(self, dbapi: Any) -> None:
        held = self._held.pop(id(getattr(dbapi, "dbapi_connection", dbapi)), None)
        if held is None:
            return
        loop, lock = held
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            lock.release()
        elif not loop.is_closed():  # the pool may end a connection from another thread (GC)
            loop.call_soon_threadsafe(lock.release)


_gates: weakref.WeakKeyDictionary[Any, WriteGate] = weakref.WeakKeyDictionary()
# One gate per database file: a process's engines on one file (the bot's inline one and the
# dashboard's) take their write turns from the same lock, so neither waits inside SQLite.
_by_file: weakref.WeakValueDictionary[str, WriteGate] = weakref.WeakValueDictionary()


def gate_of(engine: AsyncEngine) -> WriteGate | None:
    return _gates.get(engine.sync_engine)


def install(engine: AsyncEngine, timeout: float, *, database: str | None = None) -> WriteGate:
    """Gate ``engine``'s (SQLite) write transactions; returns the gate, shared with the other
    engines on ``database`` (a file's absolute path; None: a gate of its own)."""
    gate = _by_file.get(database) if database else None
    if gate is None:
        gate = WriteGate(timeout)
        if database:
            _by_file[database] = gate
    sync_engine = engine.sync_engine
    _gates[sync_engine] = gate
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(conn, _cursor, statement, _params, _context, _executemany):  # noqa: ANN001, ANN202
        gate.before_execute(conn, statement)

    def releasing(method):  # noqa: ANN001, ANN202
        def wrapped(dbapi_connection):  # noqa: ANN001, ANN202
            try:
                return method(dbapi_connection)
            finally:
                gate.release(dbapi_connection)
        return wrapped

    # After the DBAPI call, not in the "commit" event (which comes before it): the next writer
    # starts only once this transaction has really ended. The pool resets through these too, and
    # a task cancelled mid-transaction has its connection terminated: that ends the turn as well.
    dialect.do_commit = releasing(dialect.do_commit)
    dialect.do_rollback = releasing(dialect.do_rollback)
    dialect.do_close = releasing(dialect.do_close)
    dialect.do_terminate = releasing(dialect.do_terminate)
    return gate
