"""Delivery records per group, 收到 acknowledgements, stopping a fan-out, large targets."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import ChatGroup, OutboxMessage
from bot.models.notices import NoticeAck, NoticeDelivery
from bot.transports.base import TransportError


async def deliveries(h):  # noqa: ANN001
    async with h.session() as session:
        rows = (await session.execute(select(NoticeDelivery).order_by(NoticeDelivery.id))).scalars()
        return {d.label: (d.status, d.error) for d in rows}


async def broadcast(h, text="明天停水"):  # noqa: ANN001
    await h.dm("李书记", f"通知 {text}")
    await h.dm("李书记", "确认")


async def test_delivery_record_shows_the_group_that_failed_and_why(h):
    h.transport.gone.add("room-yg-2")
    await broadcast(h)
    await h.advance(minutes=2)
    record = await deliveries(h)
    assert record["阳光花园业主1群"] == ("sent", None)
    status, error = record["阳光花园业主2群"]
    assert status == "failed" and "gone" in error
    report = h.texts_to("李书记")[-1]
    assert "成功1个，失败1个" in report and "阳光花园业主2群" in report


async def test_a_group_that_keeps_failing_is_recorded_failed_after_retries(h):
    h.transport.fail_next("room-yg-1", TransportError("网络错误"), times=10)
    await broadcast(h)
    await h.advance(minutes=10)
    status, error = (await deliveries(h))["阳光花园业主1群"]
    assert status == "failed" and "网络错误" in error
    assert (await deliveries(h))["阳光花园业主2群"][0] == "sent"


async def test_a_transient_failure_is_retried_and_ends_sent(h):
    h.transport.fail_next("room-yg-1", TransportError("超时"), times=1)
    await broadcast(h)
    await h.advance(minutes=3)
    assert (await deliveries(h))["阳光花园业主1群"] == ("sent", None)


async def test_notice_detail_shows_per_group_status_and_acks(h):
    h.transport.gone.add("room-yg-2")
    await broadcast(h)
    await h.advance(minutes=1)
    await h.say("阳光花园业主1群", "张三", "收到")
    await h.say("阳光花园业主1群", "李四", "收到！")
    await h.dm("李书记", "通知详情 1")
    detail = h.texts_to("李书记")[-1]
    assert "成功1，失败1" in detail and "收到回复：2人" in detail
    assert "阳光花园业主1群：已送达，收到2人" in detail
    assert "阳光花园业主2群：失败" in detail


async def test_received_replies_count_once_per_person_and_are_not_answered(h):
    await broadcast(h)
    before = len(h.sent)
    await h.say("阳光花园业主1群", "张三", "收到")
    await h.say("阳光花园业主1群", "张三", "收到收到")
    await h.say("阳光花园业主2群", "王奶奶", "好的，收到")
    assert len(h.sent) == before
    async with h.session() as session:
        acks = list((await session.execute(select(NoticeAck))).scalars())
    assert len(acks) == 2


async def test_received_after_the_window_is_not_counted(h):
    await broadcast(h)
    await h.advance(days=3, minutes=5, step=timedelta(hours=6))
    await h.say("阳光花园业主1群", "张三", "收到")
    async with h.session() as session:
        assert (await session.execute(select(NoticeAck))).first() is None


async def test_received_without_any_notice_is_ordinary_chat(h):
    await h.say("阳光花园业主1群", "张三", "收到")
    async with h.session() as session:
        assert (await session.execute(select(NoticeAck))).first() is None


async def test_received_counts_for_the_newest_notice_of_the_group(h):
    await broadcast(h, "第一条")
    await broadcast(h, "第二条")
    await h.say("阳光花园业主1群", "张三", "收到")
    async with h.session() as session:
        ack = (await session.execute(select(NoticeAck))).scalar_one()
    assert ack.notice_id == 2


async def _many_groups(h, count):  # noqa: ANN001
    async with h.session() as session:
        compound_id = h.bot.org.by_name["阳光花园"].id
        for i in range(count):
            session.add(ChatGroup(account="sim", platform_id=f"room-extra-{i}", topic=f"阳光花园楼栋群{i}",
                                  compound_id=compound_id, first_seen_at=h.now))
        await session.commit()


async def test_large_broadcast_is_paced_by_the_outbox_alone_as_a_broadcast(h):
    # No stagger of its own (a global one made a district notice take hours): every row may go
    # at once and the outbox's spacing and priorities (replies first) pace it.
    await _many_groups(h, 48)  # 50 groups with the two sample ones
    await broadcast(h)
    async with h.session() as session:
        rows = list((await session.execute(select(OutboxMessage).where(
            OutboxMessage.ref_kind == "notice_delivery").order_by(OutboxMessage.id))).scalars())
    assert len(rows) == 50
    assert all(r.not_before is None for r in rows)
    assert all(r.priority == 2 for r in rows)


async def test_cancelling_a_running_broadcast_stops_what_is_not_sent_yet(h):
    await _many_groups(h, 48)
    h.transport.rate_limit_next("room-extra-20")  # the account pauses halfway through the fan-out
    await broadcast(h)
    sent_before = len([s for s in h.sent if s.group and "明天停水" in s.text])
    assert 0 < sent_before < 50
    await h.dm("李书记", "撤回通知 1")
    await h.advance(minutes=10)  # the pause ends: the answer goes out, the withdrawn rows do not
    assert "已停止发送" in h.texts_to("李书记")[-1]
    assert len([s for s in h.sent if s.group and "明天停水" in s.text]) == sent_before
    statuses = [s for s, _ in (await deliveries(h)).values()]
    assert statuses.count("cancelled") == 50 - sent_before


async def test_fully_sent_notice_cannot_be_recalled(h):
    await broadcast(h)
    await h.advance(minutes=1)
    await h.dm("李书记", "撤回通知 1")
    assert "无法撤回" in h.texts_to("李书记")[-1]
