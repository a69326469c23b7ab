"""The monthly property complaint ranking (投诉量前30名) and its 2- and 3-month escalation."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.models import PropertyProject
from bot.models.schedules import PropertyRanking
from bot.models.tickets import Ticket
from bot.services import Deps
from bot.months import previous_month
from bot.services.rankings import compute_ranking
from bot.testing import BotHarness


def local(h, *args):  # noqa: ANN001
    return datetime(*args).replace(tzinfo=h.clock.tz)


async def complaints(h, compound, month_start, count, *, category="property", assignee_kind=None):  # noqa: ANN001
    async with h.session() as session:
        cid = h.bot.org.by_name[compound].id
        last = (await session.execute(select(Ticket.number).where(Ticket.compound_id == cid)
                                      .order_by(Ticket.number.desc()).limit(1))).scalar_one_or_none() or 0
        for i in range(count):
            at = month_start + timedelta(days=i % 25, hours=1)
            session.add(Ticket(compound_id=cid, number=last + i + 1, state="closed", text="物业投诉",
                               category=category, assignee_kind=assignee_kind, created_at=at, updated_at=at))
        await session.commit()


def rankings_to(h, name):  # noqa: ANN001
    return [t for t in h.texts_to(name) if "投诉量排名" in t]


async def test_three_months_running_escalates_to_replacing_the_company():
    async with BotHarness(start=datetime(2026, 9, 30, 20, 0)) as h:
        for month in ((2026, 9, 1), (2026, 10, 1), (2026, 11, 1)):
            await complaints(h, "阳光花园", local(h, *month), 5)
        await complaints(h, "兰亭水岸", local(h, 2026, 10, 1), 2, category="other", assignee_kind="property")
        await h.advance(hours=14)           # Oct 1 10:00: September
        first = rankings_to(h, "区办小韩")
        assert len(first) == 1 and "2026年9月" in first[0]
        assert "1. 阳光花园项目（安居物业服务有限公司，阳光花园）5件\n" in first[0] and "连续2个月" not in first[0]

        h.clock.set(local(h, 2026, 10, 31, 23, 0))
        await h.advance(hours=11)           # Nov 1: October
        second = rankings_to(h, "区办小韩")[-1]
        assert "阳光花园项目（安居物业服务有限公司，阳光花园）5件 ⚠连续2个月：更换项目经理" in second
        assert "2. 兰亭水岸项目（兰亭物业管理有限公司，兰亭水岸）2件" in second

        h.clock.set(local(h, 2026, 11, 30, 23, 0))
        await h.advance(hours=11)           # Dec 1: November
        third = rankings_to(h, "区办小韩")[-1]
        assert "阳光花园项目（安居物业服务有限公司，阳光花园）5件 ⛔连续3个月：更换物业企业" in third
        assert "兰亭水岸" not in third.split("按规定")[0]            # no complaints in November
        async with h.session() as session:
            history = [(r.month, r.rank, r.months_running, r.action) for r in (await session.execute(
                select(PropertyRanking).order_by(PropertyRanking.month, PropertyRanking.rank))).scalars()]
        assert history == [
            ("2026-09", 1, 1, "supervise"),
            ("2026-10", 1, 2, "replace_manager"), ("2026-10", 2, 1, "supervise"),
            ("2026-11", 1, 3, "replace_company"),
        ]


async def test_community_staff_get_the_ranking_with_their_own_projects():
    async with BotHarness(start=datetime(2026, 11, 30, 20, 0)) as h:
        await complaints(h, "沂龙湾润园", local(h, 2026, 11, 1), 3)
        await complaints(h, "阳光花园", local(h, 2026, 11, 1), 1)
        await h.advance(hours=14)
        [text] = rankings_to(h, "陈社区")
        assert "本社区上榜项目" in text and "第2名 阳光花园项目（阳光花园）1件" in text


async def test_a_gap_month_restarts_the_count(h):
    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        project = (await session.execute(select(PropertyProject).order_by(PropertyProject.id))).scalars().first()
        await compute_ranking(deps, "2026-07", counts={project.id: 4})
        await compute_ranking(deps, "2026-08", counts={})
        ranking = await compute_ranking(deps, "2026-09", counts={project.id: 4})
        assert ranking.top[0].months_running == 1 and ranking.top[0].action == "supervise"


async def test_ties_at_the_boundary_all_make_the_list(h):
    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        cid = h.bot.org.by_name["阳光花园"].id
        projects = [PropertyProject(compound_id=cid, company=f"物业{i}", name=f"项目{i}") for i in range(34)]
        session.add_all(projects)
        await session.flush()
        counts = {p.id: 40 - i for i, p in enumerate(projects[:29])}        # ranks 1–29
        counts |= {p.id: 5 for p in projects[29:32]}                          # three tied at rank 30
        counts |= {p.id: 1 for p in projects[32:]}                            # rank 33, off the list
        ranking = await compute_ranking(deps, "2026-11", counts=counts)
        assert len(ranking.top) == 32 and {r.rank for r in ranking.top[-3:]} == {30}
        assert [r.action for r in ranking.rows[-2:]] == [None, None]


async def test_ranking_is_computed_once_per_month(h):
    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        project = (await session.execute(select(PropertyProject))).scalars().first()
        first = await compute_ranking(deps, "2026-11", counts={project.id: 3})
        again = await compute_ranking(deps, "2026-11", counts={project.id: 99})
        assert first.created and not again.created and again.rows[0].complaints == 3


def test_previous_month_wraps_the_year():
    assert previous_month(datetime(2027, 1, 1, 9)) == "2026-12"
    assert previous_month(datetime(2026, 12, 1, 9)) == "2026-11"
