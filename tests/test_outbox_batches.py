"""Sends that may go back to back (no spacing configured) are claimed and marked sent in
batches: commits per batch, not per row, with the outbox's guarantees unchanged."""
from __future__ import annotations

from sqlalchemy import event, select

from bot.models import ChatGroup, OutboxMessage, OutboxStatus
from bot.testing import BotHarness
from bot.transports.base import TransportError

G1, G2 = "阳光花园业主1群", "兰亭水岸邻里群"
UNSPACED = {"outbox": {"min_interval_seconds": 0, "jitter_seconds": 0, "group_per_minute": 1000}}


async def queue(h, texts, group=G1) -> None:
    async with h.session() as s:
        gid = (await s.execute(select(ChatGroup.id).where(ChatGroup.topic == group))).scalar_one()
        for text in texts:
            h.bot.outbox.enqueue(s, text, group_id=gid)
        await s.commit()


async def statuses(h) -> list[str]:
    async with h.session() as s:
        return list((await s.execute(select(OutboxMessage.status).order_by(OutboxMessage.id))).scalars())


def statuses_at_each_send(h) -> list[list[str]]:
    """Every row's status as the transport is handed each text."""
    seen: list[list[str]] = []
    original = h.transport.send_text

    async def spy(to, text, mention_ids=()):
        seen.append(await statuses(h))
        return await original(to, text, mention_ids)

    h.transport.send_text = spy
    return seen


def count_commits(h) -> list[int]:
    commits = [0]
    event.listen(h.bot.engine.sync_engine, "commit", lambda _conn: commits.__setitem__(0, commits[0] + 1))
    return commits


async def test_unspaced_sends_share_their_commits():
    async with BotHarness(settings=UNSPACED) as h:
        await h.drain()
        await queue(h, [f"第{i}条" for i in range(10)])
        commits = count_commits(h)
        await h.bot.sender.drain()
        assert h.texts_to(G1) == [f"第{i}条" for i in range(10)]
        assert await statuses(h) == [OutboxStatus.SENT] * 10
        assert commits[0] <= 4  # claim, sent marks (and addressing): was two per row


async def test_spaced_sends_are_claimed_one_at_a_time(h):
    await queue(h, ["一", "二"])
    seen = statuses_at_each_send(h)
    await h.drain()
    # With spacing (the default) the second row is still pending while the first is in flight.
    assert seen[0] == [OutboxStatus.SENDING, OutboxStatus.PENDING]


async def test_a_platform_transport_is_handed_one_row_a_claim_even_unspaced():
    """To WeChat or WeCom a crash mid-batch would leave every claimed row in doubt."""
    async with BotHarness(settings=UNSPACED) as h:
        await h.drain()
        await queue(h, ["一", "二"])
        h.transport.delivers_in_process = False  # as the Wechaty and WeCom transports
        seen = statuses_at_each_send(h)
        await h.bot.sender.drain()
        assert seen[0][-2:] == [OutboxStatus.SENDING, OutboxStatus.PENDING]
        assert h.texts_to(G1)[-2:] == ["一", "二"]


async def test_a_failed_send_gives_the_rest_of_the_batch_back_unattempted():
    async with BotHarness(settings=UNSPACED) as h:
        await h.drain()
        await queue(h, ["一", "二", "三"])
        h.transport.fail_next("room-yg-1", TransportError("timeout"), times=1)
        seen = statuses_at_each_send(h)
        await h.bot.sender.drain()
        assert seen[0] == [OutboxStatus.SENDING] * 3  # all three claimed together
        # The first failed: the other two went back to pending and were claimed afresh.
        assert seen[1] == [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENDING]
        async with h.session() as s:
            rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        # Given back unattempted: only the failed row spent an attempt more.
        assert [(r.text, r.status, r.attempts) for r in rows] == [("一", "sent", 2), ("二", "sent", 1), ("三", "sent", 1)]
        assert h.texts_to(G1) == ["二", "三", "一"]


async def test_a_stop_during_a_batch_gives_the_unsent_rows_back():
    async with BotHarness(settings=UNSPACED) as h:
        await h.drain()
        await queue(h, ["一", "二", "三"])
        original = h.transport.send_text

        async def stop_after_first(to, text, mention_ids=()):
            h.bot.sender.stop()
            return await original(to, text, mention_ids)

        h.transport.send_text = stop_after_first
        await h.bot.sender.drain()
        assert await statuses(h) == [OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.PENDING]
