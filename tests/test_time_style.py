"""People read times one way ("12月5日 18:00", "12月5日" for a day) in tickets, wishes and
digests: bot.timefmt."""
from __future__ import annotations

from bot import timefmt

G = "阳光花园业主1群"


async def test_wish_detail_shows_its_registration_time_in_the_common_style(h):
    await h.say(G, "王奶奶", "微心愿 想找人帮忙修轮椅")
    await h.say(G, "张三", "心愿 W1")
    assert f"登记时间：{timefmt.moment(h.clock.local())}" in h.texts_to(G)[-1]


async def test_wish_line_shows_its_deadline_as_a_day_in_the_common_style(h):
    await h.say(G, "王奶奶", "微心愿 想找人帮忙贴春联 截止：12月20日")
    await h.say(G, "张三", "心愿")
    assert "12月20日前" in h.texts_to(G)[-1]


def test_moment_and_day_have_no_leading_zeros():
    from datetime import datetime

    assert timefmt.moment(datetime(2026, 12, 5, 8, 0)) == "12月5日 08:00"
    assert timefmt.day(datetime(2026, 3, 1)) == "3月1日"


def test_a_time_in_another_year_carries_its_year_in_the_common_style():
    from datetime import date, datetime

    from bot import timefmt

    assert timefmt.moment_near(datetime(2026, 12, 5, 18, 0), date(2026, 12, 1)) == "12月5日 18:00"
    assert timefmt.moment_near(datetime(2027, 1, 3, 9, 30), date(2026, 12, 30)) == "2027年1月3日 09:30"


async def test_a_scheduled_notice_preview_reads_its_time_in_the_common_style(h):
    await h.dm("李书记", "定时 明天 8:00 通知 明天起垃圾分类")
    assert "12月2日 08:00" in h.texts_to("李书记")[-1] and "12-02" not in h.texts_to("李书记")[-1]
