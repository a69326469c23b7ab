"""Scheduled notices: on time, once, across restarts; cancelled or stale ones never go out."""
from __future__ import annotations

from datetime import timedelta


from bot.models.notices import Notice


def notice_texts(h, topic):  # noqa: ANN001
    return [s for s in h.sent if s.group == topic and "通知】" in s.text]


async def status_of(h, notice_id=1):  # noqa: ANN001
    async with h.session() as session:
        return (await session.get(Notice, notice_id)).status


async def test_scheduled_notice_is_sent_at_its_time_once_across_a_restart(h):
    await h.dm("孙书记", "定时 2026-12-01 11:00 通知 下午两点停电检修")
    assert "已定时" in h.texts_to("孙书记")[-1]
    await h.advance(minutes=59, step=timedelta(minutes=5))  # 09:59
    await h.restart()
    await h.advance(minutes=59, step=timedelta(minutes=5))  # 10:58
    assert notice_texts(h, "兰亭水岸邻里群") == []
    await h.advance(minutes=3)                # 11:01
    sent = notice_texts(h, "兰亭水岸邻里群")
    assert len(sent) == 1 and h.clock.local(sent[0].at).strftime("%H:%M") == "11:00"
    await h.restart()
    await h.advance(hours=2, step=timedelta(minutes=10))
    assert len(notice_texts(h, "兰亭水岸邻里群")) == 1


async def test_scheduled_notice_due_while_down_is_sent_on_start(h):
    await h.dm("孙书记", "定时 12-01 10:00 通知 停电检修")
    await h.advance(minutes=30)
    h.clock.advance(timedelta(minutes=45))  # down from 09:30 to 10:15
    await h.restart()
    await h.advance(minutes=1)
    assert len(notice_texts(h, "兰亭水岸邻里群")) == 1


async def test_scheduled_notice_far_too_late_is_not_sent_and_the_author_is_told(h):
    await h.dm("孙书记", "定时 12-01 10:00 通知 停电检修")
    await h.advance(minutes=30)
    h.clock.advance(timedelta(hours=5))
    await h.restart()
    await h.advance(minutes=1)
    assert notice_texts(h, "兰亭水岸邻里群") == []
    assert await status_of(h) == "missed"
    assert "未发送" in h.texts_to("孙书记")[-1]


async def test_cancelled_scheduled_notice_is_never_sent(h):
    await h.dm("孙书记", "定时 12-01 10:00 通知 停电检修")
    await h.dm("孙书记", "撤回通知 1")
    await h.restart()
    await h.advance(hours=2, step=timedelta(minutes=10))
    assert notice_texts(h, "兰亭水岸邻里群") == []
    assert await status_of(h) == "cancelled"


async def test_scheduled_broadcast_is_previewed_then_scheduled_on_confirm(h):
    await h.dm("李书记", "定时 明天 8:00 通知 明天起垃圾分类")
    assert "定时 12月2日 08:00" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "确认")
    assert "已定时" in h.texts_to("李书记")[-1]
    assert await status_of(h) == "scheduled"
    await h.advance(hours=22, minutes=50, step=timedelta(minutes=30))
    assert notice_texts(h, "阳光花园业主1群") == []
    await h.advance(minutes=11)
    assert len(notice_texts(h, "阳光花园业主1群")) == 1
    assert len(notice_texts(h, "阳光花园业主2群")) == 1


async def test_schedule_in_the_past_is_refused(h):
    await h.dm("孙书记", "定时 2026-11-30 10:00 通知 停电检修")
    assert "已经过去" in h.texts_to("孙书记")[-1]


async def test_schedule_with_a_bad_time_gets_usage(h):
    await h.dm("孙书记", "定时 2026-13-45 10:00 通知 停电检修")
    assert "看不懂" in h.texts_to("孙书记")[-1]
    await h.dm("孙书记", "定时 下周 通知 停电检修")
    assert "定时用法" in h.texts_to("孙书记")[-1]
    await h.dm("孙书记", "定时 12-02 10:00 停电检修")
    assert "通知 内容" in h.texts_to("孙书记")[-1]


async def test_notice_list_shows_pending_and_sent(h):
    await h.dm("孙书记", "通知 今晚停电")
    await h.dm("孙书记", "定时 12-03 10:00 通知 周三消杀")
    await h.dm("孙书记", "通知列表")
    listing = h.texts_to("孙书记")[-1]
    assert "#2 [已定时 12月3日 10:00]" in listing
    assert "#1 [已发送" in listing and "送达1/1" in listing
    assert listing.index("#2") < listing.index("#1")


async def test_another_secretary_cannot_cancel_my_notice(h):
    await h.dm("孙书记", "定时 12-03 10:00 通知 周三消杀")
    await h.dm("李书记", "撤回通知 1")
    assert "不是您发布的" in h.texts_to("李书记")[-1]
    assert await status_of(h) == "scheduled"
