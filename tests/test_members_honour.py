"""Service records, points and the monthly honour roll (表彰), which names only those who agreed."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.services import member_points as MP
from bot.testing import BotHarness

G1, G2 = "阳光花园业主1群", "阳光花园业主2群"


async def _fulfil(h, member: str, wisher: str = "王奶奶", what: str = "想找人帮忙修轮椅") -> None:
    await h.dm(wisher, f"微心愿 {what}")
    number = h.texts_to(wisher)[-1].split("：")[1].split()[0]
    await h.dm(member, f"认领 {number}")
    await h.dm(member, f"完成 {number}")
    await h.dm(wisher, f"确认 {number}")


async def test_honour_roll_excludes_members_who_opted_out(h):
    await _fulfil(h, "张党员")
    await _fulfil(h, "赵楼长", what="想请人教我用手机视频")
    await h.dm("赵楼长", "不公开")
    h.new_sent()
    await h.say(G1, "李书记", "表彰 本月")
    posted = [s.text for s in h.new_sent() if s.group == G1]
    assert len(posted) == 1
    assert "张党员 10分" in posted[0] and "赵楼长" not in posted[0] and "另有1位" in posted[0]
    assert not h.texts_to(G2)


async def test_secretary_previews_privately_then_publishes_to_every_group(h):
    await _fulfil(h, "张党员")
    h.new_sent()
    await h.dm("李书记", "表彰 本月")
    sent = h.new_sent()
    assert [s.person for s in sent] == ["李书记"] and "预览" in sent[0].text and "张党员" in sent[0].text
    await h.dm("李书记", "表彰 本月 发布")
    sent = h.new_sent()
    assert {s.group for s in sent if s.group} == {G1, G2}
    assert "发到2个群" in h.texts_to("李书记")[-1]


async def test_roll_with_nobody_to_name_is_not_posted(h):
    await _fulfil(h, "张党员")
    await h.dm("张党员", "不公开")
    h.new_sent()
    await h.say(G1, "李书记", "表彰 本月")
    reply = h.texts_to(G1)[-1]
    assert "没有可以公开表彰" in reply and "张党员" not in reply


async def test_my_service_shows_wishes_points_and_posts(h):
    await _fulfil(h, "张党员")
    await h.dm("李书记", "设岗 文明劝导员 时间：随时")
    await h.dm("张党员", "认岗 文明劝导员")
    await h.dm("张党员", "到岗")
    await h.dm("张党员", "我的服务")
    record = h.texts_to("张党员")[-1]
    assert "共12分" in record and "兑现微心愿：1个" in record and "文明劝导员" in record
    assert "积分规则" in record


async def test_service_records_query_for_dashboards(h):
    await _fulfil(h, "张党员")
    async with h.session() as session:
        records = await MP.service_records(session, 1, h.now)
    top = records[0]
    assert (top.name, top.points_total, top.wishes_fulfilled) == ("张党员", 10, 1)
    assert {r.name for r in records} >= {"李书记", "张党员", "赵楼长"}  # members without points too


async def test_monthly_preview_reaches_the_secretary_on_the_first():
    async with BotHarness(start=datetime(2026, 12, 31, 10, 0)) as h:
        await _fulfil(h, "张党员")
        h.new_sent()
        await h.advance(hours=23, step=timedelta(hours=1))  # Jan 1, 09:00
        previews = [s.text for s in h.new_sent() if s.person == "李书记" and "服务之星" in s.text]
        assert len(previews) == 1 and "2026年12月" in previews[0] and "张党员" in previews[0]
        assert not h.texts_to(G1)  # only the secretary sees it until they post it
