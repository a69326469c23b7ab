"""Delivery records tell the truth: a notice row that expired unsent is a failed delivery, and a
clean stop lets a send in flight finish instead of leaving it in doubt."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.models import ChatGroup, Identity, OutboxMessage, OutboxStatus, Priority
from bot.models.notices import NoticeDelivery
from bot.testing import BotHarness


async def test_a_notice_row_that_expired_unsent_is_a_failed_delivery_with_its_reason(h):
    h.transport.disconnect()  # the account is offline for longer than a broadcast stays fresh
    await h.dm("李书记", "通知 明天停水")
    await h.dm("李书记", "确认")
    await h.advance(hours=25, step=timedelta(hours=1))
    h.transport.reconnect()
    await h.advance(minutes=2)
    async with h.session() as session:
        deliveries = (await session.execute(select(NoticeDelivery))).scalars().all()
    assert deliveries and all(d.status == "failed" for d in deliveries)
    assert all("已过时" in d.error for d in deliveries)


async def test_a_clean_stop_lets_a_send_in_flight_finish_and_records_it_sent():
    async with BotHarness() as h:
        entered, release, cancelled = asyncio.Event(), asyncio.Event(), asyncio.Event()
        send = h.transport.send_text

        async def slow_send(to, text, mention_ids=()):  # noqa: ANN001, ANN202
            entered.set()
            try:
                await release.wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return await send(to, text, mention_ids)

        h.transport.send_text = slow_send
        await h.bot.start()
        async with h.session() as session:
            person_id = (await session.execute(select(Identity.person_id).where(
                Identity.display_name == "李书记"))).scalars().first()
            h.bot.outbox.enqueue(session, "您的工单已办结", person_id=person_id, priority=Priority.REPLY)
            await session.commit()
        h.bot.outbox.notify()
        waiting = asyncio.Event()
        wait_send_finished = h.bot.sender.wait_send_finished

        async def waited(timeout: float) -> bool:
            waiting.set()
            return await wait_send_finished(timeout)

        h.bot.sender.wait_send_finished = waited
        await asyncio.wait_for(entered.wait(), 10)
        stopping = asyncio.create_task(h.bot.stop())
        # The old stop cancelled the sender inside the transport call: either that happens, or
        # stop gets as far as waiting for the send (no wall-clock wait on the good path).
        await asyncio.wait([asyncio.create_task(cancelled.wait()), asyncio.create_task(waiting.wait())],
                           timeout=10, return_when=asyncio.FIRST_COMPLETED)
        for _ in range(10):  # a cancellation already requested is delivered within a few loop turns
            await asyncio.sleep(0)
        release.set()
        await stopping
        assert not cancelled.is_set()
        async with h.bot.sessions() as session:
            status = (await session.execute(select(OutboxMessage.status).where(
                OutboxMessage.text == "您的工单已办结"))).scalar_one()
        assert status == OutboxStatus.SENT


async def test_a_reply_queued_during_a_long_broadcast_goes_out_before_the_broadcast_ends(h):
    async with h.session() as session:
        compound_id = h.bot.org.by_name["阳光花园"].id
        for i in range(30):
            session.add(ChatGroup(account="sim", platform_id=f"room-extra-{i}", topic=f"阳光花园楼栋群{i}",
                                  compound_id=compound_id, first_seen_at=h.now))
        await session.commit()
    send, calls = h.transport.send_text, []

    async def send_and_resident_writes(to, text, mention_ids=()):  # noqa: ANN001, ANN202
        calls.append(text if to.kind == "group" else "")
        if len(calls) == 5:  # mid-broadcast a resident's question gets its answer queued
            async with h.session() as session:
                group_id = (await session.execute(select(ChatGroup.id).where(
                    ChatGroup.platform_id == "room-yg-1"))).scalar_one()
                h.bot.outbox.enqueue(session, "答复：明天上午九点停水", group_id=group_id, priority=Priority.REPLY)
                await session.commit()
        return await send(to, text, mention_ids)

    h.transport.send_text = send_and_resident_writes
    await h.dm("李书记", "通知 明天停水")
    await h.dm("李书记", "确认")
    broadcast = [i for i, t in enumerate(calls) if "明天停水" in t and not t.startswith("答复")]
    answer = calls.index("答复：明天上午九点停水")
    assert len(broadcast) == 32 and answer < broadcast[-1]


async def test_the_doctor_names_texts_waiting_for_an_account_that_no_process_serves(h):
    from bot.doctor import check_outbox
    from bot.models import Person

    async with h.session() as session:  # she talks to the bot on the "west" account only
        person = Person(name="西区居民", created_at=h.now, roles=[])
        session.add(person)
        await session.flush()
        session.add(Identity(person_id=person.id, account="west", platform_id="wxid-west-1", display_name="西区居民",
                             first_seen_at=h.now, last_seen_at=h.now))
        h.bot.outbox.enqueue(session, "您反映的问题已办结", person_id=person.id)
        await session.commit()
    await h.drain()
    async with h.session() as session:
        status = (await session.execute(select(OutboxMessage.status))).scalar_one()
        findings = await check_outbox(session, h.clock)
    assert status == OutboxStatus.PENDING
    assert any(f.level == "warn" and "等待可用账号" in f.zh for f in findings)
