"""Stale claims on the injected clock: reminded after N days, released after M days; deadlines."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Event
from bot.models.wishes import Wish, WishClaim

G = "阳光花园业主1群"
HOUR = timedelta(hours=1)


async def _claimed(h) -> None:
    await h.say(G, "王奶奶", "微心愿 想找人帮忙修轮椅，住2号楼1单元101")
    await h.dm("张党员", "认领 W1")
    h.new_sent()


async def test_stale_claim_is_reminded_then_released_and_the_wisher_told(h):
    await _claimed(h)
    await h.advance(days=2, hours=22)
    assert not [s for s in h.new_sent() if s.person == "张党员"]

    await h.advance(hours=3)  # 3 days without progress
    reminders = [s.text for s in h.new_sent() if s.person == "张党员"]
    assert len(reminders) == 1 and "3天没有进展" in reminders[0] and "放弃 W1" in reminders[0]

    await h.advance(days=3, hours=20)  # still under 7 days: no second reminder, no release
    assert not [s for s in h.new_sent() if s.person in ("张党员", "王奶奶")]

    await h.advance(hours=6)  # 7 days
    sent = h.new_sent()
    assert any("放回待认领列表" in s.text for s in sent if s.person == "张党员")
    told = [s.text for s in sent if s.person == "王奶奶"]
    assert len(told) == 1 and "另找人" in told[0]
    async with h.session() as session:
        wish = await session.get(Wish, 1)
        assert wish.state == "open" and wish.claimer_count == 0
        claim = (await session.execute(select(WishClaim))).scalar_one()
        assert claim.state == "released"
        actions = (await session.execute(select(Event.action).where(Event.subject_kind == "wish"))).scalars().all()
        assert "released" in actions
    await h.dm("赵楼长", "认领 W1")
    assert "您认领了微心愿 W1" in h.texts_to("赵楼长")[-1]


async def test_progress_resets_the_stale_clock(h):
    await _claimed(h)
    await h.advance(days=2)
    await h.dm("张党员", "心愿进度 W1 轮椅配件已下单")
    h.new_sent()
    await h.advance(days=2, hours=12)  # 4.5 days after the claim, 2.5 after progress
    assert not [s for s in h.new_sent() if s.person == "张党员"]
    await h.advance(days=1)
    assert any("3天没有进展" in s.text for s in h.new_sent() if s.person == "张党员")


async def test_no_reminders_at_night(h):
    await _claimed(h)  # claimed at 09:00
    await h.advance(days=3, hours=12)  # through 3 days + a night
    times = [h.bot.clock.local(s.at).hour for s in h.sent if s.person == "张党员" and "没有进展" in s.text]
    assert times and all(8 <= t < 21 for t in times)


async def test_open_wish_past_its_deadline_expires_and_the_wisher_is_told(h):
    await h.say(G, "王奶奶", "微心愿 想找人帮忙贴春联 截止：明天")
    h.new_sent()
    await h.advance(days=1, hours=4)  # deadline is tomorrow 21:00
    assert not [s for s in h.new_sent() if s.person == "王奶奶"]
    await h.advance(hours=20)  # told the next morning, not in the night
    told = [s.text for s in h.new_sent() if s.person == "王奶奶"]
    assert len(told) == 1 and "截止" in told[0]
    async with h.session() as session:
        assert (await session.get(Wish, 1)).state == "expired"


async def test_unconfirmed_done_wish_reminds_the_secretary_once(h):
    await _claimed(h)
    await h.dm("张党员", "完成 W1")
    h.new_sent()
    await h.advance(days=8)
    reminders = [s.text for s in h.new_sent() if s.person == "李书记" and "还没有人确认" in s.text]
    assert len(reminders) == 1 and "确认 W1" in reminders[0]
