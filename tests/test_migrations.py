"""Alembic migrations build exactly the models' schema; outdated databases are refused."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import db
from bot.models import Base


def _diff(conn):
    return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)


async def _assert_matches(url: str):
    engine = db.create_engine(url)
    try:
        assert await db.prepare_schema(engine) == "created"
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
        assert diff == [], "models and migrations differ: " + ", ".join(f"{d[0]} {getattr(d[1], 'name', '')}" for d in diff[:20] if isinstance(d, tuple))
        assert await db.prepare_schema(engine) == "current"
    finally:
        await engine.dispose()


async def test_migrations_match_models_on_sqlite(tmp_path):
    await _assert_matches(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
async def test_migrations_match_models_on_postgres(empty_pg_url):
    await _assert_matches(empty_pg_url)


async def test_outdated_database_is_refused_then_upgraded(tmp_path):
    from alembic import command
    from alembic.script import ScriptDirectory

    revisions = list(ScriptDirectory.from_config(db.alembic_config()).walk_revisions())
    if len(revisions) < 2:
        pytest.fail("expected at least two migrations")
    oldest = revisions[-1].revision
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")

    def _to_oldest(conn):
        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, oldest)

    async with engine.begin() as conn:
        await conn.run_sync(_to_oldest)
    with pytest.raises(db.SchemaOutdated, match="zhibu db upgrade"):
        await db.prepare_schema(engine)
    before, after = await db.upgrade(engine)
    assert before == oldest and after == db.head_revision()
    assert await db.prepare_schema(engine) == "current"
    await engine.dispose()
