"""Engine, sessions and schema migrations (Alembic) for SQLite and PostgreSQL."""
from __future__ import annotations

from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, insert, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached
from sqlalchemy.pool import NullPool

import bot.models  # noqa: F401  (registers every table)
from bot import write_gate
from bot.sqlite_one_hop import connect_one_hop
from bot.models import Base
from bot.queued_rows import WROTE, queued, write_queued
from bot.wakeups import ORIGIN, NotifyingSession

ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_DIR = ROOT / "alembic"


# Connections per PostgreSQL engine (a serving process has two; its wake-up listener one more).
PG_POOL = 10

# Connections per SQLite engine. Writes take turns (bot.write_gate) and the statements are
# short: more connections only add memory (measured: 5 and 8 handle a report alike).
SQLITE_POOL = 5

# pg_advisory_lock key of first-run work (any fixed bigint; "zhibu" in ASCII).
INIT_LOCK_KEY = 0x7A68696275


async def read(session: AsyncSession, statement: Any, params: dict[str, Any] | None = None) -> Any:
    """Run a SELECT of plain columns on the session's connection, in its transaction.

    The ORM's execution path (``session.execute``) costs about twice what the statement itself
    costs for such reads (measured: a column SELECT 117 -> 66 µs), and the hot paths run them on
    every message and every send. Unlike ``session.execute`` it does not flush added or changed
    objects first (rows the session queued, ``bot.queued_rows``, it does write first): use it only
    where the session holds no such change the read must see, and never for entities or for writes
    to watched tables (``bot.wakeups`` announces those from ORM events)."""
    if queued(session.sync_session):
        await session.run_sync(write_queued)
    return await (await connection_of(session)).execute(statement, params)


_CONNECTION = "zhibu_connection"  # Session.info key: (transaction, its AsyncConnection)


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """``session.connection()``, remembered for the session's current transaction: a report
    asks for it four times, and each ask is a trip through a greenlet. A transaction that failed
    (inactive until rolled back) is asked again, so that the error is raised as it would be."""
    sync = session.sync_session
    known = sync.info.get(_CONNECTION)
    if known is not None and known[0] is sync.get_transaction() and known[0].is_active:
        return known[1]
    connection = await session.connection()
    sync.info[_CONNECTION] = (sync.get_transaction(), connection)
    return connection


_ADDED_NOW = "zhibu_added_now"  # Session.info key: rows add_now wrote in the current transaction


async def add_now(session: AsyncSession, row: Any) -> None:
    """INSERT the new ``row`` at once by one Core statement, returning its key, and make it a
    persistent object of ``session``, as ``session.add(row)`` and a flush would (a rollback
    makes it transient again, as it does a flushed new object).

    The unit of work's flush of one wide row (a ticket has 44 columns) costs several times the
    INSERT itself; a report makes one ticket and names it in its replies, so it needs the id at
    once. Every column attribute is filled (given, else the column's default, else None), so
    nothing is left to load afterwards. Only for tables whose defaults are Python values (no
    server or SQL-expression defaults) and that no ORM event or ``bot.wakeups`` watches: no
    flush event fires (``on_add_now`` tells the listeners that need to know)."""
    mapper = inspect(type(row))
    table = mapper.local_table
    given = vars(row)
    values: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if attr.key in given:
            value = given[attr.key]
        elif column.primary_key:
            continue
        elif column.server_default is not None or (column.default is not None and column.default.is_clause_element):
            raise TypeError(f"add_now cannot fill {table.name}.{column.key}: its default is the database's")
        elif column.default is not None:
            value = column.default.arg(None) if column.default.is_callable else column.default.arg
            setattr(row, attr.key, value)
        else:
            value = None
            setattr(row, attr.key, value)
        values[column.key] = value
    key = table.primary_key.columns[0]
    result = await (await connection_of(session)).execute(_returning_key(table), values)
    setattr(row, mapper.get_property_by_column(key).key, result.scalar_one())
    make_transient_to_detached(row)  # all loaded, none pending: as if just flushed
    session.add(row)
    sync = session.sync_session
    sync.info[WROTE] = True
    sync.info.setdefault(_ADDED_NOW, []).append(row)
    for listener in _added_now:
        listener(sync, row)


@event.listens_for(Session, "after_commit")
def _added_now_committed(session: Session) -> None:
    session.info.pop(_ADDED_NOW, None)  # ordinary persistent rows from now on


@event.listens_for(Session, "after_transaction_end")
def _added_now_rolled_back(session: Session, transaction: Any) -> None:
    """Ended without a commit (rolled back, or closed): the rows were never written."""
    if transaction.parent is None:
        for row in session.info.pop(_ADDED_NOW, ()):
            if row in session:
                session.expunge(row)
            make_transient(row)


# What flush events would have told of a row ``add_now`` wrote (bot.services.gate's resets).
_added_now: list[Callable[[Any, Any], None]] = []


def on_add_now(listener: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Call ``listener(session, row)`` for each row ``add_now`` writes (its flush events do not fire)."""
    _added_now.append(listener)
    return listener


@cache
def _returning_key(table: Any) -> Any:
    return insert(table).returning(table.primary_key.columns[0])  # built once per table


class SchemaOutdated(Exception):
    """The database is at an older migration; ``zhibu db upgrade`` brings it up to date."""


def sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names; None for PostgreSQL or an in-memory database."""
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def create_engine(url: str, *, echo: bool = False,
                  sqlite_connect: Callable[..., Awaitable[Any]] = connect_one_hop) -> AsyncEngine:
    """``sqlite_connect``: how a SQLite connection is made (aiosqlite's ``async_creator_fn``);
    bot.inline_sqlite passes one that runs statements in the event loop's thread."""
    if url.startswith("sqlite"):
        file = sqlite_file(url)
        database = None  # the file's absolute path, when there is one
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            database = str(file.resolve())
        # A fixed pool: with overflow, every burst of messages opened connections (a worker
        # thread, the pragmas) only to close them on return: 600 per 3,000 reports, a seventh of
        # a report's CPU. No overflow is safe because no task holds two connections at once (a
        # test fixture fails any that does); the others wait their turn, as writers do anyway.
        pool = {"pool_size": SQLITE_POOL, "max_overflow": 0} if database else {}  # in memory: one connection
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, **pool)

        @event.listens_for(engine.sync_engine, "do_connect")
        def _one_hop(dialect, _record, cargs, cparams):  # noqa: ANN001, ANN202
            # One worker-thread trip per statement instead of four (bot/sqlite_one_hop.py).
            return dialect.dbapi.connect(*cargs, async_creator_fn=sqlite_connect, **cparams)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # WAL lets the web dashboard read while the bot writes; NORMAL is durable in WAL mode.
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        # This loop's writers, of every engine on the file, queue for SQLite's one write lock.
        write_gate.install(engine, timeout=30, database=database)
        return engine
    # Fixed as on SQLite: with overflow, a burst opened PostgreSQL connections (a server process
    # each) and closed them again, 300 per 2,000 reports. Several bot processes share the
    # server's max_connections (100 by default): each takes at most two pools of PG_POOL (the
    # bot's, and the dashboard's and schedules', bot.inline_sqlite.serving_engines) and a listener.
    return create_async_engine(url, echo=echo, pool_size=PG_POOL, max_overflow=0, pool_pre_ping=True)


@asynccontextmanager
async def init_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Serialise first-run work (migrations, the org load, generated secrets) between processes
    starting at once on one PostgreSQL database: the second waits, then finds it done.

    SQLite is one host's file used by one process: nothing to serialise."""
    if engine.dialect.name != "postgresql":
        yield
        return
    # On a connection of its own, outside the pool: the first-run work under the lock takes
    # pooled connections, and no task holds two of those. Autocommit: the lock is held by the
    # session, not a transaction left idle while others migrate.
    holder = create_async_engine(engine.url, poolclass=NullPool)
    try:
        async with holder.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": INIT_LOCK_KEY})
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INIT_LOCK_KEY})
    finally:
        await holder.dispose()


class AppSession(AsyncSession):
    """An ``AsyncSession`` whose ``async with`` ends at once when the session never began a
    transaction and holds no object: most chat needs nothing from the database (the dispatcher's
    caches answer), and SQLAlchemy's exit runs ``close()`` in a task of its own (so cancellation
    cannot cut it short) even when there is nothing to close: a tenth of such a message's CPU."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        sync = self.sync_session
        if sync.in_transaction() or sync.identity_map or sync.new:
            await super().__aexit__(type_, value, traceback)


def session_factory(engine: AsyncEngine, *, origin: str = "") -> async_sessionmaker[AsyncSession]:
    """Sessions for one app. On PostgreSQL they announce committed changes to the other
    processes (``bot.wakeups``); ``origin`` names this app so it can skip its own."""
    if engine.dialect.name == "postgresql":
        return async_sessionmaker(engine, class_=AppSession, expire_on_commit=False,
                                  sync_session_class=NotifyingSession, info={ORIGIN: origin})
    return async_sessionmaker(engine, class_=AppSession, expire_on_commit=False)


def alembic_config(url: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


@cache  # reading the migration scripts compiles each of them: once per process is enough
def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _has_tables(conn: Connection) -> bool:
    return bool(conn.dialect.get_table_names(conn))


def _upgrade(conn: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


async def database_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current_revision)


async def prepare_schema(engine: AsyncEngine) -> str:
    """Migrate a fresh database; refuse an outdated one. Returns 'created' or 'current'."""
    async with engine.begin() as conn:
        revision = await conn.run_sync(_current_revision)
        if revision is None and not await conn.run_sync(_has_tables):
            await conn.run_sync(_upgrade)
            return "created"
    head = head_revision()
    if revision != head:
        raise SchemaOutdated(
            f"数据库版本过旧（{revision or '未知'}，最新 {head}）：请先运行 `zhibu db upgrade` 再启动。"
        )
    return "current"


async def upgrade(engine: AsyncEngine) -> tuple[str | None, str]:
    """Bring the database to the newest revision; returns (before, after)."""
    async with init_lock(engine):
        before = await database_revision(engine)
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
    return before, head_revision()


async def create_all_and_stamp(engine: AsyncEngine) -> None:
    """Test shortcut: the models' schema at once, stamped as head (a test checks they match)."""

    def _create(conn: Connection) -> None:
        Base.metadata.create_all(conn)
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_create)
