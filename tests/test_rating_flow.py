"""The rating run: draft → community review → district approval, adjustments only with a
written reason (audited), publication through the outbox, the scheduled draft, history."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.models import Event, Person
from bot.models.rating import CompoundRating, RatingRun
from bot.roles import Roles
from bot.services import Actor, Deps, ServiceError
from bot.services.rating import runs, standard
from bot.testing import BotHarness
from schedules.context import SYSTEM

PERIOD = "2026-Q4"


def deps_of(h, session) -> Deps:  # noqa: ANN001
    return Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)


async def actor(h, session, name: str) -> Actor:  # noqa: ANN001
    person = (await session.execute(select(Person).where(Person.name == name))).scalars().first()
    return Actor(name=person.name, roles=Roles.from_rows(person.roles, h.bot.org.community_of), person_id=person.id)


async def draft(h, session) -> tuple[Deps, RatingRun]:  # noqa: ANN001
    deps = deps_of(h, session)
    run = await runs.compute_run(deps, standard.for_settings(h.settings), PERIOD, SYSTEM)
    return deps, run


async def rating_of(h, session, run, compound) -> CompoundRating:  # noqa: ANN001
    cid = h.bot.org.by_name[compound].id
    return (await session.execute(select(CompoundRating).where(
        CompoundRating.run_id == run.id, CompoundRating.compound_id == cid))).scalar_one()


async def test_a_draft_is_reviewed_by_community_staff_then_approved_by_the_district_and_audited(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        chen, han = await actor(h, session, "陈社区"), await actor(h, session, "区办小韩")
        await runs.review(deps, chen, run)
        await runs.review(deps, han, run)                  # 荣昌社区 has no staff: the district reviews it
        await runs.approve(deps, han, run)
        events = [(e.action, e.from_state, e.to_state, e.actor_person_id) for e in (await session.execute(
            select(Event).where(Event.subject_kind == "rating_run").order_by(Event.id))).scalars()]
    assert run.status == "approved"
    assert events == [("computed", None, "draft", None), ("community_reviewed", None, None, chen.person_id),
                      ("reviewed", "draft", "reviewed", han.person_id),
                      ("approved", "reviewed", "approved", han.person_id)]


async def test_community_staff_review_only_their_communitys_compounds(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        marked = await runs.review(deps, await actor(h, session, "陈社区"), run)
        reviewed = {h.bot.org.name_of(r.compound_id): r.reviewed_by for r in await runs.ratings_of(deps, run)}
    assert marked == 2 and run.status == "draft"
    assert reviewed == {"阳光花园": "陈社区", "兰亭水岸": "陈社区", "沂龙湾润园": None}


async def test_community_staff_cannot_approve_a_rating(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        chen = await actor(h, session, "陈社区")
        await runs.review(deps, chen, run)
        with pytest.raises(ServiceError, match="只有区里"):
            await runs.approve(deps, chen, run)


async def test_the_district_cannot_approve_a_draft_nobody_reviewed(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        with pytest.raises(ServiceError, match="不能审定"):
            await runs.approve(deps, await actor(h, session, "区办小韩"), run)


async def test_an_adjustment_without_a_written_reason_is_refused(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        row = await rating_of(h, session, run, "阳光花园")
        with pytest.raises(ServiceError, match="理由"):
            await runs.adjust(deps, await actor(h, session, "区办小韩"), standard.for_settings(h.settings),
                              row.id, 4, "  ")


async def test_an_adjustment_changes_stars_and_class_and_is_an_event_with_its_reason(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        row = await rating_of(h, session, run, "阳光花园")
        before = row.stars
        await runs.adjust(deps, await actor(h, session, "陈社区"), standard.for_settings(h.settings), row.id, 5,
                          "议事日台账补交，经核实本季度召开 2 次")
        [event] = (await session.execute(select(Event).where(Event.subject_kind == "compound_rating"))).scalars()
    assert (row.stars, row.klass, row.computed_stars) == (5, "一类", before)
    assert (event.action, event.from_state, event.to_state) == ("adjusted", str(before), "5")
    assert event.note == "议事日台账补交，经核实本季度召开 2 次"


async def test_community_staff_cannot_adjust_a_compound_outside_their_community(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        row = await rating_of(h, session, run, "沂龙湾润园")                 # 荣昌社区, not 陈社区's
        with pytest.raises(ServiceError, match="不能调整"):
            await runs.adjust(deps, await actor(h, session, "陈社区"), standard.for_settings(h.settings),
                              row.id, 5, "理由")


async def test_recomputing_a_draft_keeps_a_reasoned_adjustment(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        row = await rating_of(h, session, run, "阳光花园")
        await runs.adjust(deps, await actor(h, session, "区办小韩"), standard.for_settings(h.settings), row.id, 1,
                          "发生电梯安全事故，待一票否决录入")
        await runs.compute_run(deps, standard.for_settings(h.settings), PERIOD, SYSTEM)
        again = await rating_of(h, session, run, "阳光花园")
    assert again.stars == 1 and again.adjustment_reason.startswith("发生电梯")


async def test_an_approved_run_is_not_recomputed(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        await runs.review(deps, await actor(h, session, "区办小韩"), run)
        await runs.approve(deps, await actor(h, session, "区办小韩"), run)
        with pytest.raises(ServiceError, match="已审定"):
            await runs.compute_run(deps, standard.for_settings(h.settings), PERIOD, SYSTEM)


async def test_published_results_reach_staff_and_each_secretary_with_what_would_raise_the_score(h):
    async with h.session() as session:
        deps, run = await draft(h, session)
        han = await actor(h, session, "区办小韩")
        await runs.review(deps, han, run)
        await runs.approve(deps, han, run)
        await runs.publish(deps, standard.for_settings(h.settings), run, han)
        await session.commit()
    await h.drain()
    [secretary] = h.texts_to("李书记")
    assert secretary.startswith("【2026年第四季度支部评星结果】阳光花园：") and "议事日 0 次 → 本季度至少 1 次" in secretary
    assert "共评定3个小区" in h.texts_to("区办小韩")[0]
    community = h.texts_to("陈社区")[0]
    assert "阳光花园" in community and "沂龙湾润园" not in community.split("本社区：")[1]


async def test_the_scheduled_draft_rates_the_quarter_that_just_ended():
    async with BotHarness(start=datetime(2026, 12, 31, 20, 0)) as h:
        await h.advance(hours=12, step=timedelta(minutes=30))
        async with h.session() as session:
            periods_ = [(r.period, r.status) for r in (await session.execute(select(RatingRun))).scalars()]
        assert periods_ == [("2026-Q4", "draft")]


async def test_a_compounds_history_lists_its_ratings_per_period(h):
    async with h.session() as session:
        deps = deps_of(h, session)
        std = standard.for_settings(h.settings)
        await runs.compute_run(deps, std, "2026-Q3", SYSTEM)
        await runs.compute_run(deps, std, "2026-Q4", SYSTEM)
        history = await runs.history(deps, h.bot.org.by_name["阳光花园"].id)
    assert [run.period for run, _ in history] == ["2026-Q3", "2026-Q4"]


async def test_the_demo_helper_leaves_an_approved_quarter_with_property_forms(h):
    from bot.services.rating.demo import rate_quarter

    h.clock.set(datetime(2027, 1, 3, 10, 0).replace(tzinfo=h.clock.tz))
    async with h.session() as session:
        run = await rate_quarter(deps_of(h, session))
        rows = await runs.ratings_of(deps_of(h, session), run)
    assert (run.period, run.status) == ("2026-Q4", "approved")
    assert len(rows) == 3 and all(r.property_detail["form"] is not None for r in rows)
