"""Wishes that don't fall through: a released wish is offered again (at most once per few
days), the branch hears when one keeps falling through, the wisher is told what happened, an
appointment in a progress note holds the release, and the wisher's complaint is linked."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Compound
from bot.models.tickets import Ticket
from bot.models.wishes import Wish, WishProgress
from bot.services import wish_followup
from bot.testing import fixed_part
from bot.texts import wishes as TW

G = "阳光花园业主1群"
HOUR = timedelta(hours=1)
WISH = "微心愿 想找人帮忙修轮椅，住2号楼1单元101"


async def settings(h, **values) -> None:
    async with h.session() as s:
        row = (await s.execute(select(Compound).where(Compound.name == "阳光花园"))).scalar_one()
        row.settings = {**(row.settings or {}), **values}
        await s.commit()
    await h.bot.refresh_org()


async def claimed(h, claimer: str = "张党员", text: str = WISH) -> None:
    await settings(h, wish_release_days=2, wish_remind_days=5)
    await h.say(G, "王奶奶", text)
    await h.dm(claimer, "认领 W1")
    h.new_sent()


async def wish(h) -> Wish:
    async with h.session() as s:
        return await s.get(Wish, 1)


async def test_release_tells_the_wisher_what_happened_not_an_invented_reason(h):
    await claimed(h)
    await h.advance(days=2, hours=1)
    [told] = [s.text for s in h.new_sent() if s.person == "王奶奶"]
    assert "2天没有更新进展" in told and "抽不开身" not in told


async def test_released_wish_of_a_building_without_helpers_is_offered_in_the_group(h):
    await claimed(h)
    await h.advance(days=2, hours=1)
    offers = [s.text for s in h.new_sent() if s.group == G and "再次求助" in s.text]
    assert len(offers) == 1 and "W1" in offers[0] and "101" not in offers[0]


async def test_released_wish_of_a_building_goes_to_its_party_members_privately(h):
    await claimed(h, claimer="李书记", text="微心愿 想找人帮忙修轮椅，住4号楼")
    await h.advance(days=2, hours=1)
    sent = h.new_sent()
    assert any("再次求助" in s.text and "认领 W1" in s.text for s in sent if s.person == "赵楼长")
    assert not any("再次求助" in s.text for s in sent if s.group == G)


async def test_wish_is_offered_again_at_most_once_per_few_days(h):
    await claimed(h)
    await h.advance(days=2, hours=1)  # released and offered
    await h.dm("赵楼长", "认领 W1")
    await h.dm("赵楼长", "放弃 W1")  # back in the pool within a day
    offers = [s for s in h.sent if "再次求助" in s.text]
    assert len(offers) == 1
    await h.advance(days=3)
    assert len([s for s in h.sent if "再次求助" in s.text]) == 2


async def test_secretary_is_told_after_the_second_release(h):
    await claimed(h)
    await h.advance(days=2, hours=1)
    assert not any(fixed_part(TW.FALLING_THROUGH_TO_STAFF) in t for t in h.texts_to("李书记"))
    await h.dm("赵楼长", "认领 W1")
    await h.dm("赵楼长", "放弃 W1")
    [alert] = [t for t in h.texts_to("李书记") if fixed_part(TW.FALLING_THROUGH_TO_STAFF) in t]
    assert "W1" in alert and "放回2次" in alert


async def test_secretary_is_told_when_a_wish_stays_unclaimed_for_days(h):
    await settings(h, wish_escalate_days=3)
    await h.say(G, "王奶奶", WISH)
    await h.advance(days=3, hours=1)
    alerts = [t for t in h.texts_to("李书记") if fixed_part(TW.FALLING_THROUGH_TO_STAFF) in t]
    assert len(alerts) == 1 and "3天无人认领" in alerts[0]
    await h.advance(days=2)
    assert len([t for t in h.texts_to("李书记") if fixed_part(TW.FALLING_THROUGH_TO_STAFF) in t]) == 1  # once


async def test_progress_note_with_a_future_date_postpones_the_release(h):
    await claimed(h)  # Tue 2026-12-01
    await h.dm("张党员", "心愿进度 W1 约好了12月8日上午上门修")
    await h.advance(days=7, hours=1)  # Tue 12-08 10:00: the appointment day
    assert (await wish(h)).claimer_count == 1
    await h.advance(days=1)  # the day after: the 2 days without news count from there
    assert (await wish(h)).claimer_count == 1
    await h.advance(days=2)  # 12-11 10:00: 2 days after the appointment day, no news
    assert (await wish(h)).claimer_count == 0


async def test_wishers_complaint_in_the_group_is_linked_to_the_wish_not_a_new_ticket(h):
    await claimed(h)
    await h.say(G, "王奶奶", "修轮椅的事怎么还没人来啊，等了好几天了")
    async with h.session() as s:
        assert (await s.execute(select(Ticket))).scalars().all() == []
        [note] = (await s.execute(select(WishProgress).where(WishProgress.kind == "complaint"))).scalars().all()
    assert "还没人来" in note.text
    assert any("心愿催办" in t for t in h.texts_to("张党员"))
    assert "W1" in h.texts_to(G)[-1]


async def test_someone_elses_complaint_is_not_taken_for_the_wish(h):
    await claimed(h)
    await h.say(G, "李四", "修轮椅的事怎么还没人来啊，等了好几天了")
    async with h.session() as s:
        assert (await s.execute(select(WishProgress).where(WishProgress.kind == "complaint"))).scalars().all() == []


async def test_open_wish_lines_carry_number_and_age(h):
    await h.say(G, "王奶奶", WISH)
    await h.advance(days=4)
    async with h.session() as s:
        [line] = await wish_followup.open_wish_lines(s, h.bot.org.find("阳光花园").id, h.now)
    assert (line.number, line.age_days) == ("W1", 4)


def test_appointment_dates_as_people_write_them():
    from datetime import date

    today = date(2026, 12, 1)  # a Tuesday
    assert wish_followup.appointment_date("约好周六上午去", today) == date(2026, 12, 5)
    assert wish_followup.appointment_date("下周三上门", today) == date(2026, 12, 9)
    assert wish_followup.appointment_date("12月10日下午", today) == date(2026, 12, 10)
    assert wish_followup.appointment_date("明天去看看", today) == date(2026, 12, 2)
    assert wish_followup.appointment_date("配件已经下单了", today) is None
