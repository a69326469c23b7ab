"""Shared fixtures: the test kit on the shipped sample organisation."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from bot.testing import BotHarness
from conftest_gateway import gateway, gateway_factory  # noqa: F401  (end-to-end WeChat fixtures)


@pytest.fixture
async def h():
    async with BotHarness() as harness:
        yield harness


# Pooled connection record → the task holding it. bot.db's pools have no overflow: a task waiting
# for a second connection while it holds one would wait for itself once the pool is out, so no
# task may hold two (a test that means to opens its sessions on separate tasks). A connection
# outside the pools, as the first-run lock's, is not counted.
_holders: dict[int, asyncio.Task] = {}
_second_checkouts: list[str] = []


def _current_task() -> asyncio.Task | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop: a synchronous engine (alembic, a CLI command)
        return None


@event.listens_for(QueuePool, "checkout")
def _note_checkout(_dbapi, record, _proxy):  # noqa: ANN001, ANN202
    task = _current_task()
    if task is not None and task in _holders.values():
        _second_checkouts.append(task.get_name())
    _holders[id(record)] = task


@event.listens_for(QueuePool, "checkin")
def _note_checkin(_dbapi, record):  # noqa: ANN001, ANN202
    _holders.pop(id(record), None)


@pytest.fixture(autouse=True)
def no_task_holds_two_connections():
    _second_checkouts.clear()
    yield
    assert not _second_checkouts, (
        f"a task checked out a second pooled connection while holding one: {_second_checkouts}")


@pytest.fixture
def pg_url():
    """A real PostgreSQL database (started by .ci/services.sh); one per xdist worker."""
    import os

    url = os.environ.get("TEST_POSTGRES_URL")
    if worker_id_env() == "gw1" and os.environ.get("TEST_POSTGRES_URL2"):
        url = os.environ["TEST_POSTGRES_URL2"]
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_POSTGRES_URL is not set: .ci/services.sh should have started PostgreSQL")
        pytest.skip("no PostgreSQL server (run `make test` as root, or set TEST_POSTGRES_URL)")
    return url


@pytest.fixture
async def empty_pg_url(pg_url):
    """``pg_url`` with an empty public schema: the code under test creates everything itself."""
    from bot import db

    engine = db.create_engine(pg_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            await conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        await engine.dispose()
    return pg_url


def worker_id_env() -> str:
    import os

    return os.environ.get("PYTEST_XDIST_WORKER", "master")
