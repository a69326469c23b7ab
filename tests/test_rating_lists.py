"""The monthly red and black lists (红黑榜) of property projects: rules from the standard file,
published to staff through the outbox, XLSX export, a project's history."""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.models import Person, PropertyProject
from bot.models.schedules import PropertyRanking
from bot.models.tickets import Ticket
from bot.roles import Roles
from bot.services import Actor, Deps
from bot.services.rating import entries, lists, standard
from bot.testing import BotHarness

FULL = {"management": 19, "facilities": 19, "order": 14, "cleaning": 14, "greening": 10, "residents": 19}  # 95


def deps_of(h, session) -> Deps:  # noqa: ANN001
    return Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)


async def secretary(h, session, name="李书记") -> Actor:  # noqa: ANN001
    person = (await session.execute(select(Person).where(Person.name == name))).scalars().first()
    return Actor(name=person.name, roles=Roles.from_rows(person.roles, h.bot.org.community_of), person_id=person.id)


async def complaints(h, compound, n, month_start) -> list[int]:  # noqa: ANN001
    cid = h.bot.org.by_name[compound].id
    async with h.session() as session:
        rows = [Ticket(compound_id=cid, number=900 + i, text="电梯坏了", category="elevator", state="closed",
                       created_at=month_start + timedelta(days=i % 20), updated_at=month_start) for i in range(n)]
        session.add_all(rows)
        await session.commit()
        return [r.id for r in rows]


async def setup_november(h) -> list[int]:  # noqa: ANN001
    async with h.session() as session:
        await entries.submit_review(deps_of(h, session), await secretary(h, session), standard.for_settings(h.settings),
                                    h.bot.org.by_name["阳光花园"].id, "2026-Q4", FULL)
        await session.commit()
    return await complaints(h, "兰亭水岸", 10, datetime(2026, 11, 2, tzinfo=h.clock.tz))


async def november(h) -> lists.Lists:  # noqa: ANN001
    async with h.session() as session:
        result = await lists.compute_lists(deps_of(h, session), standard.for_settings(h.settings), "2026-11")
        await session.commit()
        return result


async def test_a_reviewed_project_with_a_high_score_and_few_complaints_is_on_the_red_list(h):
    await setup_november(h)
    result = await november(h)
    assert [h.bot.org.name_of(r.compound_id) for r in result.red] == ["阳光花园"]
    assert result.red[0].score == 0.6 * 95 + 0.4 * 100


async def test_a_project_nobody_reviewed_is_not_on_the_red_list(h):
    await setup_november(h)
    result = await november(h)
    assert "沂龙湾润园" not in [h.bot.org.name_of(r.compound_id) for r in result.red + result.black]


async def test_many_complaints_put_a_project_on_the_black_list_with_the_counted_tickets(h):
    ids = await setup_november(h)
    result = await november(h)
    [black] = result.black
    assert h.bot.org.name_of(black.compound_id) == "兰亭水岸" and black.complaints == 10
    assert black.ticket_ids == ids and "投诉10件≥10" in black.reasons


async def test_two_months_running_on_the_complaint_ranking_put_a_project_on_the_black_list(h):
    await setup_november(h)
    async with h.session() as session:
        project = (await session.execute(select(PropertyProject).where(
            PropertyProject.compound_id == h.bot.org.by_name["阳光花园"].id))).scalar_one()
        session.add(PropertyRanking(month="2026-11", project_id=project.id, compound_id=project.compound_id,
                                    company=project.company, project_name=project.name, complaints=1, rank=1,
                                    months_running=2, action="replace_manager", created_at=h.clock.now()))
        await session.commit()
    result = await november(h)
    assert "阳光花园" in [h.bot.org.name_of(r.compound_id) for r in result.black]
    assert not result.red


async def test_the_lists_of_a_month_are_computed_once(h):
    await setup_november(h)
    first = await november(h)
    await complaints(h, "阳光花园", 12, datetime(2026, 11, 3, tzinfo=h.clock.tz))
    again = await november(h)
    assert first.created and not again.created
    assert [r.project_id for r in again.red] == [r.project_id for r in first.red]


async def test_the_lists_are_published_to_district_and_community_staff_after_the_ranking():
    async with BotHarness(start=datetime(2026, 11, 30, 20, 0)) as h:
        await setup_november(h)
        await h.advance(hours=13)            # Dec 1 09:00
        [district] = [t for t in h.texts_to("区办小韩") if "红黑榜" in t]
        assert "红榜（1个）" in district and "黑榜（1个）" in district and "兰亭水岸项目" in district
        [community] = [t for t in h.texts_to("陈社区") if "红黑榜" in t]
        assert "阳光花园项目" in community
        assert not [s for s in h.sent if s.group and "红榜" in s.text]     # groups only when the standard says so


async def test_a_standard_that_asks_for_it_thanks_a_red_listed_property_in_the_compounds_groups(tmp_path):
    path = Path(tmp_path) / "standard.toml"
    path.write_text(standard.SAMPLE_STANDARD.read_text(encoding="utf-8").replace(
        "notify_groups = false", "notify_groups = true"), encoding="utf-8")
    async with BotHarness(settings={"rating_standard_file": str(path)}) as h:
        await setup_november(h)
        async with h.session() as session:
            std = standard.for_settings(h.settings)
            await lists.publish(deps_of(h, session), std, await lists.compute_lists(deps_of(h, session), std, "2026-11"))
            await session.commit()
        await h.drain()
        groups = sorted(s.group for s in h.sent if s.group and "红榜" in s.text)
        assert groups == ["阳光花园业主1群", "阳光花园业主2群"]


async def test_the_xlsx_export_writes_every_cell_safely(h):
    await setup_november(h)
    async with h.session() as session:
        await session.execute(update(PropertyProject).values(name="=HYPERLINK(\"x\")"))
        await session.commit()
    result = await november(h)
    async with h.session() as session:
        data = await lists.export_xlsx(deps_of(h, session), result)
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("月份", "榜单", "物业项目")
    assert {r[2] for r in rows[1:]} == {"'=HYPERLINK(\"x\")"} and {r[1] for r in rows[1:]} == {"红榜", "黑榜"}


async def test_a_projects_history_lists_its_months_on_either_list(h):
    await setup_november(h)
    await november(h)
    async with h.session() as session:
        deps = deps_of(h, session)
        std = standard.for_settings(h.settings)
        await lists.compute_lists(deps, std, "2026-10")
        project = (await session.execute(select(PropertyProject).where(
            PropertyProject.compound_id == h.bot.org.by_name["兰亭水岸"].id))).scalar_one()
        history = await lists.project_history(deps, project.id)
    assert [(r.month, r.board) for r in history] == [("2026-11", "black")]
