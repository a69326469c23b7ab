"""The "sample history incomplete" marker of ``zhibu demo``'s first start, kept in the database.

A row in ``web_settings`` (the small key/value table) is written before the first sample row and
deleted once the history is complete (and, on SQLite, on disk). A start that finds it knows the
previous one was interrupted (Ctrl-C, kill, a crash) and throws the half-made database away, so
it is generated whole again. In the database rather than in a file beside it, so that PostgreSQL
is covered as well as SQLite, and the marker goes wherever the database goes.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import delete, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import db
from bot.config import Settings
from bot.models import Base
from bot.models.web import WebSetting

KEY = "demo_history_incomplete"


def database_file(settings: Settings) -> Path | None:
    """The SQLite file of ``settings`` (None: PostgreSQL or an in-memory database)."""
    return db.sqlite_file(settings.database_url)


async def _with_engine(settings: Settings, work):  # noqa: ANN001, ANN202
    engine = db.create_engine(settings.database_url)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


async def mark_incomplete(settings: Settings) -> None:
    """Before the first sample row (the schema is created here if the database is new)."""
    async def work(engine: AsyncEngine) -> None:
        await db.prepare_schema(engine)
        async with engine.begin() as conn:
            await conn.execute(delete(WebSetting.__table__).where(WebSetting.key == KEY))
            await conn.execute(WebSetting.__table__.insert().values(
                key=KEY, value=datetime.now(timezone.utc).isoformat()))
    await _with_engine(settings, work)


async def clear_incomplete(settings: Settings) -> None:
    """The history is complete (and durable): the marker goes."""
    async def work(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await conn.execute(delete(WebSetting.__table__).where(WebSetting.key == KEY))
    await _with_engine(settings, work)


async def is_incomplete(settings: Settings) -> bool:
    """The marker is there: a generation began and never finished."""
    if (path := database_file(settings)) is not None and not path.exists():
        return False  # nothing to look in (and nothing to create by looking)

    async def work(engine: AsyncEngine) -> bool:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda c: inspect(c).has_table(WebSetting.__tablename__)):
                return False
            return (await conn.execute(select(WebSetting.key).where(WebSetting.key == KEY))).first() is not None
    return await _with_engine(settings, work)


async def discard_half_made(settings: Settings) -> bool:
    """An interrupted generation left its marker: throw the database away so the history is
    generated whole again. SQLite: the file with its WAL and shared memory; otherwise every
    table (the next start creates the schema afresh). True if it did."""
    if not await is_incomplete(settings):
        return False
    if (database := database_file(settings)) is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
        return True

    async def work(engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await _with_engine(settings, work)
    return True
