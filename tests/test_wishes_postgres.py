"""The claim race on a real PostgreSQL server: two connections (as two bot processes would)."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.models import Person
from bot.models.wishes import Wish, WishClaim
from bot.roles import Roles
from bot.services import Actor, Deps, ServiceError
from bot.services import wishes as W
from bot.testing import BotHarness

pytestmark = pytest.mark.postgres


async def _actor(session, name: str, org) -> Actor:  # noqa: ANN001
    person = (await session.execute(select(Person).where(Person.name == name))).scalar_one()
    return Actor(name=name, roles=Roles.from_rows(person.roles, org.community_of), person_id=person.id)


async def test_postgres_concurrent_claims_let_exactly_one_win(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await h.say("阳光花园业主1群", "王奶奶", "微心愿 想找人帮忙修轮椅")
        app = h.bot
        second_saw_it_open, first_claimed = asyncio.Event(), asyncio.Event()

        async def second_claimant() -> None:  # another message's handling, on its own task
            async with h.session() as s2:
                deps2 = Deps(s2, app.clock, app.outbox, app.org, app.settings)
                second = await _actor(s2, "赵楼长", app.org)
                assert (await s2.get(Wish, 1)).state == "open"
                second_saw_it_open.set()
                await first_claimed.wait()
                with pytest.raises(ServiceError, match="慢了一步"):
                    await W.claim(deps2, second, 1)
                await s2.rollback()

        async with h.session() as s1:
            deps1 = Deps(s1, app.clock, app.outbox, app.org, app.settings)
            first = await _actor(s1, "张党员", app.org)
            assert (await s1.get(Wish, 1)).state == "open"
            racing = asyncio.create_task(second_claimant())
            await second_saw_it_open.wait()
            await W.claim(deps1, first, 1)  # holds the row lock until s1 commits
            first_claimed.set()
            await asyncio.sleep(0.3)
            assert not racing.done()  # the second UPDATE waits for the first transaction
            await s1.commit()
            await racing
        async with h.session() as session:
            assert (await session.get(Wish, 1)).claimer_count == 1
            assert len((await session.execute(select(WishClaim))).scalars().all()) == 1


async def test_postgres_full_wish_flow(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await h.say("阳光花园业主1群", "王奶奶", "微心愿 想找人帮忙修轮椅，电话13812345678")
        await h.dm("张党员", "认领 W1")
        await h.dm("张党员", "完成 W1")
        await h.dm("王奶奶", "确认 W1 公开")
        assert "+10分" in h.texts_to("张党员")[-1]
        assert "张党员" in h.texts_to("阳光花园业主1群")[-1]
        await h.dm("李书记", "表彰 本月")
        assert "张党员 10分" in h.texts_to("李书记")[-1]
