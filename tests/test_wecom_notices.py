"""Notices into WeCom customer groups: a 客户联系 group-send task the owner confirms, followed
until WeCom reports the result, which lands on the notice's delivery record."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.models import Event
from bot.models.notices import DeliveryStatus, Notice, NoticeDelivery
from bot.transports.wecom.customer import GroupSendTracker
from fake_wecom import WecomHarness, fake  # noqa: F401  (fake: the server fixture)

CHAT = "wrCustomer01"
CUSTOMER = {"corp_id": "ww-corp", "customer_contact": {
    "secret": "cc-secret", "sender": "WangQunZhu",
    "groups": [{"chat_id": CHAT, "topic": "阳光花园业主群（企业微信）", "compound": "阳光花园"}]}}


@pytest.fixture
async def wh(fake):
    async with WecomHarness(fake, CUSTOMER) as harness:
        yield harness


async def send_notice(h) -> None:
    await h.dm("李书记", "通知 本周六上午9点小区消杀，请关好门窗")
    await h.dm("李书记", "确认")


async def customer_delivery(h) -> NoticeDelivery:
    async with h.session() as s:
        return (await s.execute(select(NoticeDelivery).where(
            NoticeDelivery.label == "阳光花园业主群（企业微信）"))).scalar_one()


async def events(h, delivery_id: int) -> list[str]:
    async with h.session() as s:
        return list((await s.execute(select(Event.action).where(
            Event.subject_kind == "notice_delivery", Event.subject_id == delivery_id).order_by(Event.id))).scalars())


async def test_a_compound_notice_creates_a_group_send_task_for_its_customer_group(wh, fake):
    await send_notice(wh)
    tasks = fake.calls_to("/cgi-bin/externalcontact/add_msg_template")
    assert len(tasks) == 1
    assert tasks[0]["chat_type"] == "group" and tasks[0]["chat_id_list"] == [CHAT]
    assert tasks[0]["sender"] == "WangQunZhu" and "小区消杀" in tasks[0]["text"]["content"]


async def test_the_delivery_stays_pending_until_the_owner_confirms_and_the_author_is_told(wh, fake):
    await send_notice(wh)
    await GroupSendTracker(wh.bot).run_once()
    await wh.drain()
    delivery = await customer_delivery(wh)
    assert delivery.status == DeliveryStatus.PENDING and "等待WangQunZhu在企业微信中确认" in delivery.error
    assert await events(wh, delivery.id) == ["wecom_task_created"]
    assert any("请确认群发" in t and "群发助手" in t for t in wh.texts_to("李书记"))


async def test_the_result_reported_by_wecom_is_recorded_on_the_delivery(wh, fake):
    await send_notice(wh)
    tracker = GroupSendTracker(wh.bot)
    await tracker.run_once()
    msgid = next(iter(fake.send_results))
    sent_at = int((wh.now + timedelta(minutes=20)).timestamp())
    fake.send_results[msgid][CHAT] = (1, sent_at)
    await wh.advance(minutes=30)
    assert await tracker.run_once() == 1
    delivery = await customer_delivery(wh)
    assert delivery.status == DeliveryStatus.SENT and delivery.error is None
    assert int(delivery.sent_at.timestamp()) == sent_at or delivery.sent_at.replace(
        tzinfo=wh.now.tzinfo).timestamp() == sent_at
    assert await events(wh, delivery.id) == ["wecom_task_created", "wecom_task_sent"]
    async with wh.session() as s:
        notice = (await s.execute(select(Notice))).scalar_one()
    assert notice.settled_at is not None


async def test_a_group_over_its_monthly_quota_is_recorded_as_failed(wh, fake):
    await send_notice(wh)
    msgid = "msgGS1"
    fake.send_results[msgid][CHAT] = (3, 0)
    await GroupSendTracker(wh.bot).run_once()
    delivery = await customer_delivery(wh)
    assert delivery.status == DeliveryStatus.FAILED and "上限" in delivery.error


async def test_an_unconfirmed_task_is_reminded_at_most_three_times_a_day(fake):
    hourly = {**CUSTOMER, "customer_contact": {**CUSTOMER["customer_contact"], "remind_after_hours": 1}}
    async with WecomHarness(fake, hourly) as wh:
        await send_notice(wh)
        tracker = GroupSendTracker(wh.bot)
        for _ in range(12):  # 09:00 to 07:00 the next day, a round every 2 hours
            await tracker.run_once()
            wh.clock.set(wh.now + timedelta(hours=2))
        days = await reminder_days(wh)
    assert len(fake.calls_to("/cgi-bin/externalcontact/remind_groupmsg_send")) == 6
    assert sorted(days.count(d) for d in set(days)) == [3, 3]


async def reminder_days(h) -> list:
    async with h.session() as s:
        times = (await s.execute(select(Event.at).where(Event.action == "wecom_task_reminded"))).scalars()
        return [h.clock.local(t if t.tzinfo else t.replace(tzinfo=h.now.tzinfo)).date() for t in times]


async def test_a_task_nobody_confirms_fails_after_the_configured_time(wh, fake):
    await send_notice(wh)
    tracker = GroupSendTracker(wh.bot)
    await tracker.run_once()
    wh.clock.set(wh.now + timedelta(hours=73))
    await tracker.run_once()
    delivery = await customer_delivery(wh)
    assert delivery.status == DeliveryStatus.FAILED and "72 小时内未确认" in delivery.error
