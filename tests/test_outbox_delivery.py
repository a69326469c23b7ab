"""Outbox delivery that can be trusted: outages, restarts inside limits, unclean stops,
texts too old to send, and urgent alerts nobody received."""
from __future__ import annotations

import logging
import random

import pytest
from datetime import timedelta

from sqlalchemy import func, select, update

from bot.models import ChatGroup, Event, OutboxMessage, OutboxStatus, Person, Priority
from bot.clock import FakeClock
from bot.outbox import OutboxSender, outbox_report
from bot.testing import BotHarness
from bot.transports.base import TransportError
from bot.transports.fake import FakeTransport

G1 = "阳光花园业主1群"
URGENT = "5号楼电梯困人了！快来人"
FIVE_SECONDS = timedelta(seconds=5)


async def enqueue(h, text, *, group=G1, person=None, priority=Priority.REPLY) -> int:
    async with h.session() as s:
        if person:
            pid = (await s.execute(select(Person.id).where(Person.name == person))).scalar_one()
            h.bot.outbox.enqueue(s, text, person_id=pid, priority=priority)
        else:
            gid = (await s.execute(select(ChatGroup.id).where(ChatGroup.topic == group))).scalar_one()
            h.bot.outbox.enqueue(s, text, group_id=gid, priority=priority)
        await s.commit()
    async with h.session() as s:  # queued rows are written at the commit, without telling their ids
        return (await s.execute(select(func.max(OutboxMessage.id)).where(OutboxMessage.text == text))).scalar_one()


async def rows(h) -> list[OutboxMessage]:
    async with h.session() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def crash_during_send(h, row_id: int) -> None:
    """What kill -9 between the transport call and marking it sent leaves behind."""
    async with h.session() as s:
        await s.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(
            status=OutboxStatus.SENDING, account=h.transport.account, attempted_at=h.now))
        await s.commit()


# --------------------------------------------------------------------------- outages
async def test_outage_longer_than_all_retries_delivers_reply_and_alerts_once_after_reconnect(h):
    h.transport.disconnect()
    await h.say(G1, "李四", URGENT)
    await h.advance(seconds=100, step=FIVE_SECONDS)  # longer than 5 attempts' backoff (75 s)
    assert h.sent == []
    h.transport.reconnect()
    await h.advance(seconds=30, step=FIVE_SECONDS)
    alerts = [s for s in h.sent if s.text.startswith("【紧急】")]
    assert sorted(s.person for s in alerts) == ["李书记", "王网格"]
    assert len(h.texts_to(G1)) == 1
    assert {r.status for r in await rows(h)} == {OutboxStatus.SENT}


async def test_outage_spends_no_attempts(h):
    h.transport.disconnect()
    await enqueue(h, "等网关")
    await h.advance(minutes=10, step=FIVE_SECONDS)
    [row] = await rows(h)
    assert row.status == OutboxStatus.PENDING and row.attempts == 0


async def test_an_error_as_the_connection_drops_spends_no_attempt(h):
    async def drop(to, text, mention_ids=()):
        h.transport.connected = False  # the gateway went away under this send
        raise TransportError("socket closed")

    h.transport.send_text = drop
    await enqueue(h, "断线时")
    await h.drain()
    [row] = await rows(h)
    assert row.status == OutboxStatus.PENDING and row.attempts == 0


async def test_urgent_goes_first_after_reconnect(h):
    h.transport.disconnect()
    await enqueue(h, "广播", group="兰亭水岸邻里群", priority=Priority.BROADCAST)
    await enqueue(h, "回复", person="张三")
    await enqueue(h, "紧急：燃气泄漏", priority=Priority.URGENT)
    await h.advance(minutes=3, step=FIVE_SECONDS)
    h.transport.reconnect()
    await h.drain()
    assert [s.text for s in h.sent] == ["紧急：燃气泄漏", "回复", "广播"]


async def test_group_is_told_alerts_are_being_sent_not_that_they_were(h):
    h.transport.disconnect()
    await h.say(G1, "李四", URGENT)
    h.transport.reconnect()
    await h.drain()
    [group] = h.texts_to(G1)
    assert "正在通知支部书记、网格员" in group and "已通知" not in group


# --------------------------------------------------------------------------- limits across restarts
async def test_rate_limit_pause_survives_a_restart(h):
    h.transport.rate_limit_next("room-yg-1")
    await enqueue(h, "第一条")
    await h.drain()
    await h.advance(seconds=3)
    await h.restart()
    await enqueue(h, "重启后", group="兰亭水岸邻里群")
    await h.advance(seconds=290, step=timedelta(seconds=10))  # the 300 s pause is not over
    assert h.sent == []
    await h.advance(minutes=1)
    assert sorted(s.text for s in h.sent) == ["第一条", "重启后"]


async def test_group_cap_holds_across_a_restart(h):
    for i in range(10):
        await enqueue(h, f"消息{i}")
    await h.drain()
    assert len(h.sent) == 6  # group_per_minute default
    await h.restart()
    assert len(h.sent) == 6
    first = h.sent[0].at
    await h.advance(minutes=2)
    assert len(h.sent) == 10
    assert all((s.at - first).total_seconds() >= 60 for s in h.sent[6:])


async def test_spacing_holds_across_a_restart(h):
    await enqueue(h, "一")
    await h.drain()
    await h.restart()
    await enqueue(h, "二")
    await h.drain()
    a, b = h.sent
    assert (b.at - a.at).total_seconds() >= 1.5


# --------------------------------------------------------------------------- unclean stops
async def test_group_text_in_flight_at_a_crash_is_not_resent_and_is_flagged(h):
    row_id = await enqueue(h, "群内回复")
    await crash_during_send(h, row_id)
    await h.restart()
    assert h.sent == []
    [row] = await rows(h)
    assert row.status == OutboxStatus.UNCERTAIN and "人工核对" in row.error


async def test_urgent_alert_in_flight_at_a_crash_is_resent_marked_as_a_repeat(h):
    row_id = await enqueue(h, "【紧急】燃气泄漏", person="王网格", priority=Priority.URGENT)
    await crash_during_send(h, row_id)
    await h.restart()
    assert h.texts_to("王网格") == ["（重发）【紧急】燃气泄漏"]


async def test_a_send_is_marked_in_flight_before_the_transport_call(h):
    seen = []
    original = h.transport.send_text

    async def spy(to, text, mention_ids=()):
        async with h.session() as s:
            seen.append((await s.execute(select(OutboxMessage.status))).scalar_one())
        return await original(to, text, mention_ids)

    h.transport.send_text = spy
    await enqueue(h, "看状态")
    await h.drain()
    assert seen == [OutboxStatus.SENDING]


# --------------------------------------------------------------------------- age policy
async def test_group_reply_hours_late_expires_with_a_record_while_private_and_urgent_still_go(h):
    h.transport.disconnect()
    await enqueue(h, "群内回复")
    await enqueue(h, "私聊回复", person="张三")
    await enqueue(h, "紧急", group="兰亭水岸邻里群", priority=Priority.URGENT)
    await h.advance(hours=3, step=timedelta(minutes=10))
    h.transport.reconnect()
    await h.drain()
    assert sorted(s.text for s in h.sent) == ["私聊回复", "紧急"]
    expired = [r for r in await rows(h) if r.text == "群内回复"][0]
    assert expired.status == OutboxStatus.EXPIRED and "过时" in expired.error


async def test_a_broadcast_due_later_is_aged_from_when_it_was_due(h):
    async with h.session() as s:
        gid = (await s.execute(select(ChatGroup.id).where(ChatGroup.topic == G1))).scalar_one()
        h.bot.outbox.enqueue(s, "明早提醒", group_id=gid, priority=Priority.BROADCAST,
                             not_before=h.now + timedelta(hours=30))
        await s.commit()
    await h.advance(hours=31, step=timedelta(hours=1))
    assert h.texts_to(G1) == ["明早提醒"]


# --------------------------------------------------------------------------- undelivered urgent alerts
async def test_undeliverable_urgent_alert_escalates_to_community_staff(h):
    h.transport.fail_next(await h.person_id("王网格"), TransportError("对方账号异常"), times=100)
    await h.say(G1, "李四", URGENT)
    await h.advance(minutes=6)
    [escalated] = h.texts_to("陈社区")
    assert escalated.startswith("【紧急·转报】") and "王网格" in escalated and "电梯" in escalated
    async with h.session() as s:
        events = (await s.execute(select(Event).where(Event.action == "alert_escalated"))).scalars().all()
    assert [e.note for e in events] == ["陈社区"]


async def test_urgent_alert_is_not_given_up_while_undeliverable(h):
    h.transport.fail_next(await h.person_id("王网格"), TransportError("对方账号异常"), times=100)
    await h.say(G1, "李四", URGENT)
    await h.advance(hours=1)
    [alert] = [r for r in await rows(h) if r.text.startswith("【紧急】") and r.status != OutboxStatus.SENT]
    assert alert.status == OutboxStatus.PENDING


# --------------------------------------------------------------------------- visibility
async def test_outbox_report_lists_waiting_and_failed_rows_with_reasons(h):
    h.transport.disconnect()
    waiting = await enqueue(h, "等待中")
    async with h.session() as s:
        person = Person(name="无微信", created_at=h.now, roles=[])
        s.add(person)
        await s.flush()
        h.bot.outbox.enqueue(s, "你好", person_id=person.id)
        await s.commit()
    failed = (await rows(h))[-1]
    h.transport.reconnect()
    await h.drain()
    h.transport.disconnect()
    await h.drain()
    async with h.session() as s:
        report = await outbox_report(s, h.now)
    assert [(r.id, r.kind) for r in report.problems] == [(failed.id, "person/reply")]
    assert "未关联" in report.problems[0].reason
    assert report.counts[OutboxStatus.FAILED] == 1 and waiting not in [r.id for r in report.problems]


async def test_outbox_report_shows_a_pause_and_late_urgent_rows(h):
    h.transport.rate_limit_next("room-yg-1", retry_after=600)
    await enqueue(h, "紧急", priority=Priority.URGENT)
    await h.drain()
    h.clock.advance(timedelta(minutes=6))
    async with h.session() as s:
        report = await outbox_report(s, h.now)
    assert list(report.paused) == ["sim"] and report.undelivered_urgent == 1
    assert [r.kind for r in report.waiting] == ["group/urgent"] and "限速" in report.waiting[0].reason


async def test_failed_delivery_is_logged_at_warning_with_row_kind_and_reason(h, caplog):
    h.transport.gone.add("room-yg-1")
    row_id = await enqueue(h, "发不出去")
    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        await h.drain()
    assert any(r.levelno == logging.WARNING and f"outbox row {row_id}" in r.getMessage()
               and "group/reply" in r.getMessage() and "gone" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- several accounts
class CountingClock(FakeClock):
    """Fails a drain that loops without the clock moving (it would spin forever)."""

    def __init__(self) -> None:
        super().__init__()
        self.idle_sleeps = 0

    async def sleep(self, seconds: float) -> None:
        self.idle_sleeps += seconds <= 0
        assert self.idle_sleeps < 100, "the drain spins without waiting"
        await super().sleep(seconds)


async def test_an_idle_account_that_cannot_serve_a_row_does_not_make_the_drain_spin(h):
    clock = CountingClock()
    clock.set(h.now)
    other = FakeTransport(account="sim2", now=clock.now)
    sender = OutboxSender(h.bot.sessions, h.bot.outbox, {"sim": h.transport, "sim2": other}, clock,
                          random.Random(0))
    await enqueue(h, "一")  # both to a group served by "sim": the second waits for its spacing
    await enqueue(h, "二")
    await sender.drain()
    assert [s.text for s in h.sent] == ["一", "二"] and other.sent == []


# --------------------------------------------------------------------------- PostgreSQL
@pytest.mark.postgres
async def test_limits_and_in_flight_rows_are_rebuilt_from_postgres(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        h.transport.rate_limit_next("room-lt-1", retry_after=600)
        await enqueue(h, "被限速", group="兰亭水岸邻里群")
        await h.drain()
        stuck = await enqueue(h, "紧急", person="王网格", priority=Priority.URGENT)
        await crash_during_send(h, stuck)
        await h.restart()
        assert h.sent == []  # the pause holds across the restart; the repeat waits behind it
        await h.advance(minutes=11)
        assert sorted(s.text for s in h.sent) == ["被限速", "（重发）紧急"]


async def test_outbox_report_preview_shows_no_digits_of_a_phone_number_cut_at_its_end(h):
    """Previews are masked before they are cut: a number the cut ends inside would no longer be
    recognised as a number, and its first digits would show to whoever reads the report."""
    h.transport.disconnect()
    person = "张三"
    await enqueue(h, "请联系" + "。" * 52 + "13812345678", person=person)
    async with h.session() as s:
        report = await outbox_report(s, h.now)
    [row] = [r for r in report.waiting if r.person_id is not None]
    assert "1381" not in row.preview  # masked as 138****5678 before the cut, never its raw digits
