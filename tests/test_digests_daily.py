"""The secretary's daily digest and the community's weekly digest."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot import timefmt
from bot.audit import record_event
from bot.models import Compound
from bot.models.schedules import DigestRun
from bot.models.tickets import Ticket, TicketReporter
from bot.models.wishes import Wish, WishClaim
from bot.testing import BotHarness, fixed_part
from bot.texts import digests as DT

START = datetime(2026, 12, 1, 7, 0)


def local(h, *args):  # noqa: ANN001
    return datetime(*args).replace(tzinfo=h.clock.tz)


async def add_ticket(h, compound="阳光花园", *, number, text, created, state="new", urgent=False,  # noqa: ANN001
                     resolve_due=None, resolved_at=None, category="other", assignee_kind=None):
    async with h.session() as session:
        cid = h.bot.org.by_name[compound].id
        ticket = Ticket(compound_id=cid, number=number, state=state, text=text, category=category, urgent=urgent,
                        created_at=created, updated_at=created, resolve_due=resolve_due, resolved_at=resolved_at,
                        assignee_kind=assignee_kind)
        session.add(ticket)
        await session.commit()
        return ticket.id


def digests_to(h, name):  # noqa: ANN001
    return [t for t in h.texts_to(name) if fixed_part(DT.DAILY_HEADER) in t]


async def seed(h):  # noqa: ANN001
    await add_ticket(h, number=1, text="4号楼前路面积水好几天了", created=local(h, 2026, 11, 20, 10, 0),
                     state="assigned", resolve_due=local(h, 2026, 11, 25, 10, 0))
    await add_ticket(h, number=2, text="3号楼楼道灯坏了，联系我13812345678", created=local(h, 2026, 11, 28, 9, 0),
                     resolve_due=local(h, 2026, 11, 30, 9, 0))
    await add_ticket(h, number=3, text="2单元电梯困人了快来", created=local(h, 2026, 11, 30, 22, 0), urgent=True,
                     resolve_due=local(h, 2026, 12, 1, 2, 0))
    await add_ticket(h, number=4, text="垃圾桶满了", created=local(h, 2026, 11, 30, 18, 0))
    await add_ticket(h, number=5, text="车棚灯修好了", created=local(h, 2026, 11, 25, 8, 0), state="resolved",
                     resolved_at=local(h, 2026, 11, 30, 16, 0))
    await add_ticket(h, "兰亭水岸", number=1, text="别的小区的事", created=local(h, 2026, 11, 30, 20, 0))


async def test_daily_digest_lists_new_open_overdue_urgent_and_resolved():
    async with BotHarness(start=START) as h:
        await seed(h)
        await h.advance(hours=1, minutes=29)
        assert digests_to(h, "李书记") == []
        await h.advance(minutes=2)
        [digest] = digests_to(h, "李书记")
        assert digest.startswith("【阳光花园每日简报】2026-12-01")
        assert "新报事2件" in digest and "#0003" in digest and "#0004" in digest
        assert "待处理3" in digest and "处理中1" in digest and "待确认1" in digest
        overdue = digest[digest.index("超期3件"):]
        assert overdue.index("#0001") < overdue.index("#0002") < overdue.index("#0003")  # oldest first
        assert "4号楼前路面积水好几天了（超期5天）" in overdue and "（超期6小时）" in overdue
        assert "紧急1件" in digest and "电梯困人" in digest
        assert "办结1件" in digest
        assert "13812345678" not in digest and "1381234" not in digest and "138***" in digest
        assert "别的小区" not in digest
        [other] = digests_to(h, "孙书记")
        assert "别的小区" in other


async def test_digest_goes_out_once_a_day_even_across_restarts():
    async with BotHarness(start=START) as h:
        await h.advance(hours=1, minutes=31)
        await h.restart()
        await h.advance(hours=3, step=timedelta(minutes=10))
        assert len(digests_to(h, "李书记")) == 1
        await h.advance(days=1, step=timedelta(hours=1))
        assert len(digests_to(h, "李书记")) == 2


async def test_second_digest_counts_only_tickets_since_the_first():
    async with BotHarness(start=START) as h:
        await seed(h)
        await h.advance(hours=1, minutes=31)
        await add_ticket(h, number=6, text="新的问题：东门道闸坏了", created=local(h, 2026, 12, 1, 12, 0))
        await h.advance(days=1, step=timedelta(minutes=30))
        second = digests_to(h, "李书记")[-1]
        assert f"新报事1件（{timefmt.moment(local(h, 2026, 12, 1, 8, 30))}以来）" in second and "东门道闸" in second


async def test_compound_digest_time_override():
    async with BotHarness(start=START) as h:
        async with h.session() as session:
            compound = (await session.execute(select(Compound).where(Compound.name == "兰亭水岸"))).scalar_one()
            compound.settings = {"digest_time": "07:15"}
            await session.commit()
        await h.bot.refresh_org()
        await h.advance(minutes=16)
        assert len(digests_to(h, "孙书记")) == 1 and digests_to(h, "李书记") == []


async def test_digest_missed_beyond_grace_is_recorded_not_sent():
    async with BotHarness(start=START) as h:
        await h.advance(minutes=1)
        h.clock.set(local(h, 2026, 12, 1, 11, 0))
        await h.restart()
        await h.advance(minutes=2)
        assert digests_to(h, "李书记") == []
        async with h.session() as session:
            statuses = set((await session.execute(select(DigestRun.status).where(DigestRun.kind == "daily"))).scalars())
        assert statuses == {"missed"}


async def test_quiet_compound_gets_a_short_all_clear():
    async with BotHarness(start=START) as h:
        await h.advance(hours=1, minutes=31)
        [digest] = digests_to(h, "马书记")
        assert "今天没有需要处理的事项" in digest


async def test_digest_shows_open_wishes_and_stale_claims():
    async with BotHarness(start=START) as h:
        async with h.session() as session:
            cid = h.bot.org.by_name["阳光花园"].id
            from bot.models import Person

            member = (await session.execute(select(Person).where(Person.name == "张党员"))).scalar_one()
            t0 = local(h, 2026, 11, 27, 9, 0)  # 4 days: stale (reminded after 3), not yet released (7)
            open_wish = Wish(compound_id=cid, summary="帮忙修轮椅", state="open", created_at=t0, updated_at=t0)
            claimed = Wish(compound_id=cid, summary="陪老人去医院复查", state="claimed", created_at=t0, updated_at=t0,
                           claimer_count=1)
            session.add_all([open_wish, claimed])
            await session.flush()
            session.add(WishClaim(wish_id=claimed.id, person_id=member.id, state="active", claimed_at=t0,
                                  last_progress_at=t0))
            await session.commit()
        await h.advance(hours=1, minutes=31)
        digest = digests_to(h, "李书记")[0]
        assert "微心愿：待认领1个" in digest
        assert "认领超过3天未兑现1个" in digest and f"陪老人去医院复查（张党员认领于{timefmt.day(t0)}）" in digest


async def test_satisfaction_is_reported_with_unsatisfied_ones():
    async with BotHarness(start=START) as h:
        ticket_id = await add_ticket(h, number=7, text="下水道堵了", created=local(h, 2026, 11, 29, 9, 0),
                                     state="closed", resolved_at=local(h, 2026, 11, 30, 9, 0))
        async with h.session() as session:
            from bot.models import Person

            people = list((await session.execute(select(Person).where(Person.name.in_(["张三", "李四"])))).scalars())
            rated_at = local(h, 2026, 11, 30, 20, 0)
            for person, rating in zip(people, ["satisfied", "unsatisfied"]):
                session.add(TicketReporter(ticket_id=ticket_id, person_id=person.id, reported_at=local(h, 2026, 11, 29, 9, 0),
                                           rating=rating, rated_at=rated_at))
                record_event(session, "ticket", ticket_id, "rated", rated_at, actor_person_id=person.id, to_state=rating)
            await session.commit()
        await h.advance(hours=1, minutes=31)
        digest = digests_to(h, "李书记")[0]
        assert "办结1件，评价2件，满意率50%，不满意1件待回访" in digest


async def test_weekly_digest_to_community_staff_compares_weeks():
    async with BotHarness(start=datetime(2026, 12, 6, 20, 0)) as h:  # Sunday evening
        await add_ticket(h, number=1, text="上周的事", created=local(h, 2026, 11, 25, 9, 0))
        await add_ticket(h, number=2, text="本周的事一", created=local(h, 2026, 12, 1, 9, 0),
                         resolve_due=local(h, 2026, 12, 3, 9, 0))
        await add_ticket(h, number=3, text="本周的事二", created=local(h, 2026, 12, 2, 9, 0))
        await add_ticket(h, "兰亭水岸", number=1, text="兰亭本周", created=local(h, 2026, 12, 3, 9, 0))
        await add_ticket(h, "沂龙湾润园", number=1, text="别的社区", created=local(h, 2026, 12, 3, 9, 0))
        await h.advance(hours=13, minutes=5, step=timedelta(minutes=5))
        [weekly] = [t for t in h.texts_to("陈社区") if "周报" in t]
        assert weekly.startswith("【兰新社区周报】11月30日—12月6日")
        assert "本周新报事3件（上周1件，增加2件）" in weekly and "超期1件" in weekly
        assert "超期最多：阳光花园1件" in weekly
        assert "· 阳光花园：2/0/3/1（较上周+1）" in weekly and "· 兰亭水岸：1/0/1/0（较上周+1）" in weekly
        assert "别的社区" not in weekly and "沂龙湾润园" not in weekly


async def test_fresh_install_after_the_digest_time_starts_with_tomorrows(h):
    await h.advance(hours=2)  # the sample harness starts at 09:00, after 08:30
    assert not any(fixed_part(DT.DAILY_HEADER) in s.text for s in h.sent)
    await h.advance(hours=23, step=timedelta(minutes=30))
    assert len(digests_to(h, "李书记")) == 1


async def test_digest_lists_open_wishes_with_number_and_age():
    async with BotHarness(start=START) as h:
        async with h.session() as session:
            t0 = local(h, 2026, 11, 22, 8, 0)  # 9 days before the digest
            session.add(Wish(compound_id=h.bot.org.by_name["阳光花园"].id, summary="帮忙修轮椅", state="open",
                             created_at=t0, updated_at=t0))
            await session.commit()
        await h.advance(hours=1, minutes=31)
        digest = digests_to(h, "李书记")[0]
        assert "\n· W1 帮忙修轮椅（等了9天）" in digest
