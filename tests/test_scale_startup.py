"""Several processes starting at once on one empty PostgreSQL database."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.app import BotApp
from bot.config import SAMPLE_ORG, Settings
from bot.models import Compound, Person
from bot.models.web import WebSetting

pytestmark = pytest.mark.postgres


async def test_two_processes_starting_at_once_on_an_empty_database_both_start_and_load_the_org_once(empty_pg_url):
    pg_url = empty_pg_url
    settings = Settings.model_validate({"database_url": pg_url, "org_file": SAMPLE_ORG})
    first, second = BotApp(settings, transports=[]), BotApp(settings, transports=[])  # an engine each
    try:
        await asyncio.gather(first.open(), second.open())
        async with first.sessions() as session:
            compounds = (await session.execute(select(func.count()).select_from(Compound))).scalar_one()
            people = (await session.execute(select(func.count()).select_from(Person))).scalar_one()
            secrets = (await session.execute(select(WebSetting.value).where(WebSetting.key == "secret_key"))).all()
        assert compounds == len(first.org.compounds) == len(second.org.compounds) > 0
        assert people == len(set((await _names(first))))  # nobody imported twice
        assert len(secrets) == 1
    finally:
        await asyncio.gather(first.stop(), second.stop())


async def _names(app: BotApp) -> list[tuple]:
    async with app.sessions() as session:
        return (await session.execute(select(Person.name, Person.compound_id, Person.building,
                                             Person.room_no))).all()
