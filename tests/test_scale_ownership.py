"""Two processes (two BotApps, accounts east and west) on one PostgreSQL database: every outbox
row is addressed to the account that sends it, and only that account's process claims it."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.app import BotApp
from bot.models import Identity, OutboxMessage, OutboxStatus, Person, Priority
from bot.models.schedules import DigestRun
from bot.testing import BotHarness, fixed_part
from bot.texts import digests as DT
from bot.transports.base import Incoming
from bot.transports.fake import FakeTransport

pytestmark = pytest.mark.postgres

FAST = {"outbox": {"min_interval_seconds": 0, "jitter_seconds": 0}}


async def west_process(h: BotHarness) -> tuple[BotApp, FakeTransport]:
    transport = FakeTransport(account="west", now=h.clock.now)
    app = BotApp(h.settings, transports=[transport], clock=h.clock)
    await app.open()
    await transport.start(app)
    return app, transport


async def drain_both(h: BotHarness, west: BotApp) -> None:
    """Both senders at once, until neither has anything left (the race the claim must win)."""
    for _ in range(20):
        sent = await asyncio.gather(h.bot.sender.drain(), west.sender.drain())
        if not any(sent):
            return


def private_to(transport: FakeTransport) -> list[str]:
    return [s.to.platform_id for s in transport.sent if s.to.kind == "person"]


async def person_with_identities(h: BotHarness, name: str, seen: dict[str, datetime]) -> int:
    async with h.session() as session:
        person = Person(name=name, created_at=h.now, roles=[])
        session.add(person)
        await session.flush()
        for account, at in seen.items():
            session.add(Identity(person_id=person.id, account=account, platform_id=f"wxid-{name}-{account}",
                                 display_name=name, first_seen_at=at, last_seen_at=at))
        await session.commit()
        return person.id


async def alert(h: BotHarness, person_id: int, text: str) -> None:
    """A text with no account of its own (an alert, a digest): the outbox addresses it."""
    async with h.session() as session:
        h.bot.outbox.enqueue(session, text, person_id=person_id, priority=Priority.URGENT)
        await session.commit()


async def test_private_replies_across_two_processes_go_out_once_each_from_the_account_written_on(pg_url):
    async with BotHarness(database_url=pg_url, account="east", settings=FAST) as h:
        west, west_transport = await west_process(h)
        try:
            for i in range(50):
                for app, account in ((h.bot, "east"), (west, "west")):
                    await app.on_message(Incoming(
                        account=account, message_id=f"{account}-{i}", sender_id=f"wxid-{account}-{i}",
                        sender_name=f"居民{account}{i}", text="我的身份", sent_at=h.now))
            await drain_both(h, west)
            east_sent, west_sent = private_to(h.transport), private_to(west_transport)
            assert len(east_sent) + len(west_sent) == 100
            assert sorted(east_sent) == sorted(f"wxid-east-{i}" for i in range(50))
            assert sorted(west_sent) == sorted(f"wxid-west-{i}" for i in range(50))
        finally:
            await west.stop()


async def test_a_text_to_a_person_goes_from_the_live_account_they_last_spoke_through(pg_url):
    async with BotHarness(database_url=pg_url, account="east", settings=FAST) as h:
        west, west_transport = await west_process(h)
        try:
            pid = await person_with_identities(h, "两号居民", {"east": h.now - timedelta(days=3),
                                                              "west": h.now - timedelta(hours=1)})
            await alert(h, pid, "电梯困人，请马上处理")
            await h.bot.sender.drain()  # east first: it can reach her too, but she uses west
            await west.sender.drain()
            assert private_to(h.transport) == []
            assert private_to(west_transport) == ["wxid-两号居民-west"]
        finally:
            await west.stop()


async def test_a_row_for_a_person_reachable_only_on_the_other_account_is_sent_by_the_other_process(pg_url):
    async with BotHarness(database_url=pg_url, account="east", settings=FAST) as h:
        west, west_transport = await west_process(h)
        try:
            pid = await person_with_identities(h, "西区书记", {"west": h.now})
            await alert(h, pid, "新工单 #0007：楼道堆物")
            await h.bot.sender.drain()  # east cannot reach her: it must leave the row alone
            async with h.session() as session:
                row = (await session.execute(select(OutboxMessage))).scalar_one()
            assert row.status == OutboxStatus.PENDING and row.account == "west"
            await west.sender.drain()
            assert private_to(west_transport) == ["wxid-西区书记-west"]
            async with h.session() as session:
                assert (await session.get(OutboxMessage, row.id)).status == OutboxStatus.SENT
        finally:
            await west.stop()


async def test_a_row_waits_while_no_live_account_reaches_the_person_and_goes_when_one_does(pg_url):
    async with BotHarness(database_url=pg_url, account="east", settings=FAST) as h:
        pid = await person_with_identities(h, "西区居民", {"west": h.now})
        await alert(h, pid, "您反映的问题已办结")
        await h.bot.sender.drain()  # west is served by no process yet
        async with h.session() as session:
            row = (await session.execute(select(OutboxMessage))).scalar_one()
        assert row.status == OutboxStatus.PENDING and row.account is None and "等待可用账号" in row.error
        west, west_transport = await west_process(h)  # the account comes online
        try:
            await h.bot.sender.drain()
            await west.sender.drain()
            assert private_to(west_transport) == ["wxid-西区居民-west"]
        finally:
            await west.stop()


async def test_a_digest_is_recorded_sent_only_once_its_text_was_sent(pg_url):
    start = datetime(2026, 12, 1, 7, 0)
    async with BotHarness(database_url=pg_url, account="east", start=start, settings=FAST) as h:
        async with h.session() as session:  # the secretary now talks to the west account only
            await session.execute(update(Identity).where(Identity.display_name == "李书记").values(account="west"))
            await session.commit()
        await h.advance(hours=1, minutes=31)  # the digests are due and queued; east cannot send hers
        async with h.session() as session:
            run = (await session.execute(select(DigestRun).where(
                DigestRun.kind == "daily", DigestRun.scope_id == h.bot.org.by_name["阳光花园"].id))).scalar_one()
        assert run.status == "queued" and run.sent_at is None
        west, west_transport = await west_process(h)
        try:
            await west.sender.drain()
            assert any(fixed_part(DT.DAILY_HEADER) in s.text for s in west_transport.sent)
            async with h.session() as session:
                run = await session.get(DigestRun, run.id)
            assert run.status == "sent" and run.sent_at is not None
        finally:
            await west.stop()
