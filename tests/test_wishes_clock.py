"""The wish sweep tells the test kit's clock when it next has work: a jumping advance stops
where a reminder, release, reoffer, alert, expiry or confirmation reminder falls due, and sends
exactly what an hour-by-hour advance sends, at the same moments."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.models import Compound
from bot.models.schedules import JobRun
from bot.testing import BotHarness, fixed_part
from bot.texts import digests as DT
from bot.texts import wishes as TW

G = "阳光花园业主1群"
START = datetime(2026, 12, 1, 13, 0)  # afternoon: thresholds fall on no other job's stop
# Sends back to back: the account's spacing would move the clock off the hour at each stop.
UNSPACED = {"outbox": {"min_interval_seconds": 0, "jitter_seconds": 0}}
# Daily digests go out at 8:30, between hourly steps: what is compared here is the sweep's.
DIGEST = fixed_part(DT.DAILY_HEADER)


async def _every_sweep_rule(h: BotHarness, step: timedelta | None) -> list[tuple[str | None, str | None, str, object]]:
    """Wishes that meet each rule of the sweep within 8 days (the compound's periods shortened);
    what was sent, and when."""
    async with h.session() as session:
        compound = (await session.execute(select(Compound).where(Compound.name == "阳光花园"))).scalar_one()
        compound.settings = {**(compound.settings or {}), "wish_remind_days": 1, "wish_release_days": 2,
                             "wish_reoffer_days": 2, "wish_escalate_days": 5}
        await session.commit()
    await h.bot.refresh_org()
    await h.say(G, "王奶奶", "微心愿 想找人帮忙修轮椅，住2号楼1单元101")  # W1: claimed, then idle
    await h.dm("张党员", "认领 W1")
    await h.say(G, "李奶奶", "微心愿 想找人帮忙贴春联 截止：后天")  # W2: expires unclaimed
    await h.advance(hours=4, minutes=20)  # the rest in the evening: their thresholds fall mid-hour
    await h.say(G, "周爷爷", "微心愿 想找人陪我去医院复查")  # W3: done, nobody confirms
    await h.dm("赵楼长", "认领 W3")
    await h.dm("赵楼长", "完成 W3")
    await h.say(G, "孙阿姨", "微心愿 想找人教我用手机挂号")  # W4: never claimed: the branch is alerted
    past = h.clock.local() - h.clock.local().replace(minute=0, second=0, microsecond=0)
    await h.advance(hours=1, seconds=-past.total_seconds())  # to the hour, where the sweep fires
    await h.advance(days=8, step=step)
    return [(s.group, s.person, s.text, s.at) for s in h.sent if DIGEST not in s.text]


async def test_a_jumping_advance_sends_what_an_hourly_one_sends_at_the_same_moments():
    async with BotHarness(start=START, settings=UNSPACED) as stepped, \
            BotHarness(start=START, settings=UNSPACED) as jumping:
        expected = await _every_sweep_rule(stepped, timedelta(hours=1))
        assert await _every_sweep_rule(jumping, None) == expected
        texts = " ".join(text for _, _, text, _ in expected)
        # Each rule met: a reminder, a release, an expiry, a confirmation reminder, a reoffer, an alert.
        assert "1天没有进展" in texts and "放回待认领列表" in texts and "截止" in texts
        assert "W3" in texts and "W1" in texts and "W4" in texts
        for template in (TW.STALE_REMINDER, TW.RELEASED_TO_CLAIMER, TW.EXPIRED_TO_WISHER,
                         TW.CONFIRM_REMINDER_TO_STAFF, TW.REOFFER_TO_GROUP, TW.FALLING_THROUGH_TO_STAFF):
            assert fixed_part(template) in texts, template


async def test_a_claimed_wish_stops_the_clock_only_when_its_sweep_has_work():
    async with BotHarness() as h:
        await h.say(G, "王奶奶", "微心愿 想找人帮忙修轮椅，住2号楼1单元101")
        await h.dm("张党员", "认领 W1")
        await h.advance(days=3, hours=1)  # job-run rows are kept for 3 days: all of these are counted
        async with h.session() as session:
            runs = (await session.execute(
                select(func.count()).select_from(JobRun).where(JobRun.job == "wishes.sweep"))).scalar_one()
        # The reminder (day 3) and the stops other jobs make at 8:00 and 9:00, where the sweep
        # runs too: not the 40 daytime hours of three days.
        assert runs < 12, runs
