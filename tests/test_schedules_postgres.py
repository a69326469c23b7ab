"""Schedules, notices, digests and the ranking on a real PostgreSQL server."""
from __future__ import annotations

import asyncio

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import BotApp
from bot.models.schedules import JobRun
from bot.models.tickets import Ticket
from bot.testing import BotHarness, fixed_part
from schedules import registry
from schedules.registry import JOBS
from bot.texts import digests as DT

pytestmark = pytest.mark.postgres


async def test_postgres_two_schedulers_one_runs_and_takes_over(pg_url):
    seen = []

    async def job(app, now):  # noqa: ANN001
        seen.append(id(app))

    registry.every("test.pg_tick", minutes=1)(job)
    try:
        async with BotHarness(database_url=pg_url,
                              settings={"schedules": {"lease_seconds": 1, "tick_seconds": 0.5}}) as h:
            other = BotApp(h.settings, transports=[], clock=h.clock)
            await other.open()
            try:
                for _ in range(5):
                    await h.advance(minutes=1)
                    await other.run_due_jobs()
                assert set(seen) == {id(h.bot)} and not other.scheduler.holding
                # The harness's app stops renewing: the lease lapses on the database's clock.
                h.clock.advance(timedelta(minutes=1))
                for _ in range(300):
                    await other.run_due_jobs()
                    if other.scheduler.holding:
                        break
                    await asyncio.sleep(0.1)
                assert other.scheduler.holding and seen[-1] == id(other)
                async with h.session() as session:
                    dues = list((await session.execute(select(JobRun.due_at).where(
                        JobRun.job == "test.pg_tick", JobRun.status == "ok"))).scalars())
                assert len(dues) == len(set(dues)) == len(seen)
            finally:
                await other.stop()
    finally:
        JOBS.pop("test.pg_tick", None)


async def test_postgres_scheduled_notice_collection_digest_and_ranking(pg_url):
    async with BotHarness(database_url=pg_url, start=datetime(2026, 11, 30, 20, 0)) as h:
        tz = h.clock.tz
        async with h.session() as session:
            cid = h.bot.org.by_name["阳光花园"].id
            for n in range(1, 4):
                at = datetime(2026, 11, 10 + n, 9, 0, tzinfo=tz)
                session.add(Ticket(compound_id=cid, number=n, state="assigned", text=f"物业问题{n}", category="property",
                                   urgent=n == 3, created_at=at, updated_at=at, resolve_due=at + timedelta(days=2)))
            await session.commit()
        await h.dm("孙书记", "定时 12-01 09:00 通知 明天停水")
        await h.dm("李书记", "通知 收集 报名: 楼号 人数 截止 12-02 18:00")
        await h.dm("李书记", "确认")
        await h.say("阳光花园业主1群", "张三", "3号楼 2人")
        await h.advance(hours=13, minutes=40, step=timedelta(minutes=10))
        assert len([t for t in h.texts_to("兰亭水岸邻里群") if "明天停水" in t]) == 1
        assert "已登记（报名）" in h.texts_to("阳光花园业主1群")[-1]
        digest = [t for t in h.texts_to("李书记") if fixed_part(DT.DAILY_HEADER) in t][0]
        assert "超期3件" in digest and "紧急1件" in digest
        ranking = [t for t in h.texts_to("区办小韩") if "投诉量排名" in t][0]
        assert "1. 阳光花园项目" in ranking
