"""An account survives its process: two `zhibu run` processes for one account (the second a
standby) on one PostgreSQL database and one real Node gateway; the active one is killed with
SIGKILL mid-conversation and the standby takes the account over with no message lost."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import db
from bot.models import InboundMessage
from bot.models.limits import AccountLease
from conftest_gateway import GATEWAY_TOKEN, STANDARD_WORLD, free_port, gateway_factory  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.gateway]

READY = "支部助手已启动"
SHORT_LEASE = {"ZHIBU_ACCOUNTS__LEASE_SECONDS": "2", "ZHIBU_ACCOUNTS__TICK_SECONDS": "0.5"}


def start_bot(workdir: Path, name: str, env: dict[str, str], *flags: str) -> tuple[subprocess.Popen, Path]:
    log = workdir / f"{name}.out"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", *flags], cwd=workdir, stdout=out,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return process, log


async def wait_for(predicate, what: str, limit: float = 60.0):  # noqa: ANN001, ANN201
    """Wait until ``predicate()`` is truthy (bounded: a broken failover must not hang the run)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_killed_active_process_is_replaced_by_its_standby_with_no_inbound_message_lost(
        empty_pg_url, gateway_factory, tmp_path):  # noqa: F811
    pg_url = empty_pg_url  # an empty database: the first process creates the schema
    engine = db.create_engine(pg_url)
    gw = gateway_factory(STANDARD_WORLD)
    env = dict(os.environ, DATABASE_URL=pg_url, WECHATY_PUPPET_SERVICE_ENDPOINT=gw.endpoint,
               WECHATY_PUPPET_SERVICE_TOKEN=GATEWAY_TOKEN, **SHORT_LEASE)
    env.pop("ZHIBU_CONFIG", None)
    processes: list[subprocess.Popen] = []

    async def stored() -> set[str]:
        async with engine.connect() as conn:
            return set((await conn.execute(select(InboundMessage.platform_message_id))).scalars())

    async def holder() -> str | None:
        async with engine.connect() as conn:
            return (await conn.execute(select(AccountLease.holder))).scalar_one_or_none()

    try:
        active, active_log = start_bot(tmp_path, "active", dict(env, ZHIBU_WEB__PORT=str(free_port())))
        processes.append(active)
        await wait_for(lambda: _said(active_log, READY), "the active process to start")
        first_holder = await wait_for(holder, "the active process's lease")
        standby, standby_log = start_bot(tmp_path, "standby", dict(env, ZHIBU_WEB__PORT=str(free_port())),
                                         "--standby")
        processes.append(standby)
        await wait_for(lambda: _said(standby_log, READY), "the standby to start")

        before = [gw.say("li", f"楼道灯坏了{i}", room="r1") for i in range(5)]
        await wait_for(lambda: _contains(stored, before), "the active process to store the first messages")
        assert await holder() == first_holder  # the standby did not take a live lease

        active.send_signal(signal.SIGKILL)
        active.wait(timeout=10)
        during = [gw.say("wang" if i % 2 else "li", f"电梯又坏了{i}", room="r1") for i in range(10)]
        during.append(gw.say("zhao", "我的身份"))
        await wait_for(lambda: _contains(stored, before + during), "the standby to store every message", 90)
        assert await holder() != first_holder
        async with engine.connect() as conn:
            ids = list((await conn.execute(select(InboundMessage.platform_message_id))).scalars())
        assert sorted(ids) == sorted(set(ids)) and set(before + during) <= set(ids)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        await engine.dispose()


async def _said(log: Path, line: str) -> bool:
    return log.exists() and line in log.read_text(encoding="utf-8", errors="replace")


async def _contains(stored, wanted: list[str]) -> bool:  # noqa: ANN001
    return set(wanted) <= await stored()
