"""SQLite connections of bot.db's engine (bot/sqlite_one_hop.py): one trip to aiosqlite's worker
thread per statement, with the same results SQLAlchemy gets through aiosqlite's own cursors."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from bot import db
from bot.sqlite_one_hop import OneHopConnection

META = MetaData()
ITEMS = Table("items", META, Column("id", Integer, primary_key=True), Column("name", String, unique=True))


def _url(tmp_path: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / name}"


@pytest.fixture
async def engine(tmp_path):
    engine = db.create_engine(_url(tmp_path, "t.db"))
    yield engine
    await engine.dispose()


async def _workload(engine) -> list:  # noqa: ANN001
    """Every kind of result SQLAlchemy reads from a cursor: rows, lastrowid, rowcount, executemany."""
    seen: list = []
    async with engine.begin() as conn:
        await conn.run_sync(META.create_all)
        first = await conn.execute(insert(ITEMS).values(name="甲"))
        seen.append(first.inserted_primary_key)
        many = await conn.execute(insert(ITEMS), [{"name": "乙"}, {"name": "丙"}, {"name": "丁"}])
        seen.append(many.rowcount)
        seen.append((await conn.execute(update(ITEMS).where(ITEMS.c.id > 2).values(name=ITEMS.c.name + "!"))).rowcount)
        seen.append((await conn.execute(select(ITEMS).order_by(ITEMS.c.id))).all())
        seen.append((await conn.execute(select(ITEMS.c.name).where(ITEMS.c.id == 99))).first())
        seen.append((await conn.execute(insert(ITEMS).values(name="戊").returning(ITEMS.c.id))).scalar_one())
        result = await conn.execute(select(ITEMS.c.id).order_by(ITEMS.c.id))
        seen.append((result.fetchone(), result.fetchmany(2), result.fetchall()))
    return seen


@pytest.mark.asyncio
async def test_results_equal_those_through_aiosqlites_own_cursors(tmp_path):
    plain = create_async_engine(_url(tmp_path, "plain.db"))
    ours = db.create_engine(_url(tmp_path, "ours.db"))
    try:
        assert await _workload(ours) == await _workload(plain)
    finally:
        await plain.dispose()
        await ours.dispose()


@pytest.mark.asyncio
async def test_the_engines_sqlite_connections_are_one_hop(engine):
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, OneHopConnection)


@pytest.mark.asyncio
async def test_a_statement_takes_one_trip_to_the_worker_thread(engine, monkeypatch):
    trips = 0
    real = OneHopConnection._execute

    async def counted(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        nonlocal trips
        trips += 1
        return await real(self, fn, *args, **kwargs)

    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # connect, pragmas, BEGIN: not counted
        monkeypatch.setattr(OneHopConnection, "_execute", counted)
        rows = (await conn.execute(text("SELECT 1 UNION SELECT 2"))).all()
        statement_trips = trips
    assert rows == [(1,), (2,)]
    assert statement_trips == 1  # aiosqlite's cursors take four: cursor(), execute(), fetchall(), close()


@pytest.mark.asyncio
async def test_a_refused_statement_raises_and_the_connection_goes_on(engine):
    async with engine.begin() as conn:
        await conn.run_sync(META.create_all)
        await conn.execute(insert(ITEMS).values(name="甲"))
    async with engine.connect() as conn:
        with pytest.raises(IntegrityError):
            await conn.execute(insert(ITEMS).values(name="甲"))
        await conn.rollback()
        assert (await conn.execute(select(ITEMS.c.name))).scalars().all() == ["甲"]


@pytest.fixture
def trips(monkeypatch):  # noqa: ANN201
    """What each trip to the worker thread ran: a statement's first word, or commit/rollback."""
    seen: list[str] = []
    real = OneHopConnection._execute

    async def counted(self, fn, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.append(args[1].split()[0] if getattr(fn, "__name__", "") == "_run" else fn.__name__)
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneHopConnection, "_execute", counted)
    return seen


@pytest.mark.asyncio
async def test_a_read_only_transaction_ends_without_a_trip(engine, trips):
    async with engine.begin() as conn:
        await conn.execute(text("SELECT 1"))  # connect and pragmas
    trips.clear()
    async with engine.begin() as conn:  # commit at the end, then the pool's reset (a rollback)
        await conn.execute(text("SELECT 1"))
    assert trips == ["SELECT"]


async def _create(engine, trips: list[str]) -> None:  # noqa: ANN001
    async with engine.begin() as conn:
        await conn.run_sync(META.create_all)
    trips.clear()


@pytest.mark.asyncio
async def test_a_write_is_committed_in_one_trip_and_the_pools_reset_takes_none(engine, trips):
    await _create(engine, trips)
    async with engine.begin() as conn:
        await conn.execute(insert(ITEMS).values(name="甲"))
    assert trips == ["INSERT", "commit"]
    async with engine.connect() as conn:
        assert (await conn.execute(select(ITEMS.c.name))).scalars().all() == ["甲"]


@pytest.mark.asyncio
async def test_a_write_rolled_back_is_gone(engine, trips):
    await _create(engine, trips)
    async with engine.connect() as conn:
        await conn.execute(insert(ITEMS).values(name="乙"))
        await conn.rollback()
    assert trips == ["INSERT", "rollback"]
    async with engine.connect() as conn:
        assert (await conn.execute(select(ITEMS.c.name))).scalars().all() == []
