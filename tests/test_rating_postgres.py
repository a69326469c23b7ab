"""The rating run on PostgreSQL: the ticket deadline flags computed in SQL, the bulk insert of
a run's rows and the bulk update of a recompute, the JSON items read back."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.models.rating import CompoundRating
from bot.models.tickets import Ticket
from bot.services import Deps
from bot.services.rating import runs, standard
from bot.testing import BotHarness
from schedules.context import SYSTEM

pytestmark = pytest.mark.postgres


async def test_a_quarter_is_rated_and_recomputed_on_postgres(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        cid = h.bot.org.by_name["阳光花园"].id
        oct5 = datetime(2026, 10, 5, 9, tzinfo=h.clock.tz)
        async with h.session() as session:
            late = Ticket(compound_id=cid, number=1, text="电梯坏了", category="elevator", state="assigned",
                          assignee_kind="property", created_at=oct5, updated_at=oct5,
                          first_response_due=oct5 + timedelta(hours=2), first_response_at=oct5 + timedelta(hours=1),
                          resolve_due=oct5 + timedelta(days=2))
            session.add(late)
            await session.commit()
        async with h.session() as session:
            deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
            std = standard.for_settings(h.settings)
            run = await runs.compute_run(deps, std, "2026-Q4", SYSTEM)
            await runs.compute_run(deps, std, "2026-Q4", SYSTEM)
            await session.commit()
            row = (await session.execute(select(CompoundRating).where(
                CompoundRating.run_id == run.id, CompoundRating.compound_id == cid))).scalar_one()
        items = {i["key"]: i for i in row.items}
        objective = {i["key"]: i for i in row.property_detail["objective"]}
        assert items["first_response"]["shown"] == "1/1" and items["resolved_on_time"]["data"]["late"] == [late.id]
        assert objective["overdue"]["data"]["tickets"] == [late.id]
        assert objective["complaints"]["shown"] == "1 件"
