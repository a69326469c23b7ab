"""Shared fixtures: the test kit on the shipped sample organisation."""
from __future__ import annotations

import pytest

from bot.testing import BotHarness
from conftest_gateway import gateway, gateway_factory  # noqa: F401  (end-to-end WeChat fixtures)


@pytest.fixture
async def h():
    async with BotHarness() as harness:
        yield harness


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
