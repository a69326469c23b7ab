"""Social-worker visit lists (社工来敲门) and their daily / weekly / monthly reminders."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.models.schedules import VisitTarget
from bot.services import Deps
from bot.services.visits import import_targets
from bot.testing import BotHarness
from schedules.context import SYSTEM


async def test_social_worker_adds_and_lists_targets(h):
    await h.dm("刘社工", "添加走访 日走访 菜市场东门 早市人多")
    assert "已加入阳光花园日走访名单：#1 菜市场东门" in h.texts_to("刘社工")[-1]
    await h.dm("刘社工", "添加走访 周入户 2号楼1单元101 独居老人")
    await h.dm("刘社工", "走访名单")
    listing = h.texts_to("刘社工")[-1]
    assert "【日走访】" in listing and "#1 菜市场东门（早市人多）" in listing
    assert "【周入户】" in listing and "#2 2号楼1单元101（独居老人）" in listing


async def test_resident_cannot_edit_the_visit_list(h):
    await h.dm("张三", "添加走访 日走访 菜市场东门")
    assert "需要" in h.texts_to("张三")[-1]


async def test_bad_kind_gets_usage(h):
    await h.dm("刘社工", "添加走访 每天 菜市场东门")
    assert "日走访、周入户 或 月遍访" in h.texts_to("刘社工")[-1]


async def test_daily_reminder_lists_spots_and_visited_ones_drop_off_for_the_week():
    async with BotHarness(start=datetime(2026, 11, 30, 7, 0)) as h:  # a Monday
        await h.dm("刘社工", "添加走访 日走访 菜市场东门")
        await h.dm("刘社工", "添加走访 周入户 2号楼1单元101 独居老人")
        await h.dm("刘社工", "添加走访 周入户 5号楼2单元302 低保户")
        await h.advance(hours=1, minutes=10)
        reminders = [t for t in h.texts_to("刘社工") if "提醒】" in t]
        assert any(t.startswith("【日走访提醒】阳光花园今日待走访重点点位（1）") for t in reminders)
        weekly = next(t for t in reminders if t.startswith("【周入户提醒】"))
        assert "（2）" in weekly and "独居老人" in weekly and "已走访 编号" in weekly
        await h.dm("刘社工", "已走访 2")
        assert "已记录走访" in h.texts_to("刘社工")[-1]
        await h.advance(days=7, step=timedelta(hours=3))
        weekly = [t for t in h.texts_to("刘社工") if t.startswith("【周入户提醒】")]
        assert len(weekly) == 2 and "（2）" in weekly[-1]  # a new week: both are due again


async def test_import_of_a_visit_list_is_all_or_nothing(h):
    rows = [{"小区": "阳光花园", "类型": "月遍访", "对象": "1号楼"},
            {"小区": "不存在小区", "类型": "月遍访", "对象": "2号楼"}]
    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        added, problems = await import_targets(deps, SYSTEM, rows)
        assert added == 0 and "第3行" in problems[0]
        added, problems = await import_targets(deps, SYSTEM, rows[:1] * 2)
        await session.commit()
    assert (added, problems) == (1, [])
    async with h.session() as session:
        assert [t.label for t in (await session.execute(select(VisitTarget))).scalars()] == ["1号楼"]


async def test_visit_targets_without_a_social_worker_remind_nobody(h):
    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        await import_targets(deps, SYSTEM, [{"小区": "兰亭水岸", "类型": "日走访", "对象": "北门"}])
        await session.commit()
    await h.advance(days=1, step=timedelta(hours=3))
    assert not any("提醒】" in s.text for s in h.sent)


