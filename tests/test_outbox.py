"""The outbox: rows first, delivered under rate limits, retried, never lost across restarts."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import ChatGroup, OutboxMessage, OutboxStatus, Person, Priority
from bot.testing import BotHarness
from bot.textsplit import split_text
from bot.transports.base import TransportError


async def enqueue(h, text, *, group="阳光花园业主1群", person=None, priority=Priority.REPLY, drain=True):
    async with h.session() as s:
        if person:
            pid = (await s.execute(select(Person.id).where(Person.name == person))).scalars().first()
            h.bot.outbox.enqueue(s, text, person_id=pid, priority=priority)
        else:
            gid = (await s.execute(select(ChatGroup.id).where(ChatGroup.topic == group))).scalar_one()
            h.bot.outbox.enqueue(s, text, group_id=gid, priority=priority)
        await s.commit()
    if drain:
        await h.drain()


async def statuses(h, group="阳光花园业主1群") -> list[str]:
    """Statuses of the texts queued for one group (scheduled jobs may queue others)."""
    async with h.session() as s:
        gid = (await s.execute(select(ChatGroup.id).where(ChatGroup.topic == group))).scalar_one()
        return list((await s.execute(select(OutboxMessage.status).where(OutboxMessage.group_id == gid)
                                     .order_by(OutboxMessage.id))).scalars())


async def test_sends_are_spaced_per_account(h):
    for i in range(4):
        await enqueue(h, f"第{i}条", group=("阳光花园业主1群", "兰亭水岸邻里群")[i % 2], drain=False)
    await h.drain()
    times = [s.at for s in h.sent]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    assert len(times) == 4 and all(g >= 1.5 for g in gaps)


async def test_per_group_cap_holds_within_a_minute(h):
    for i in range(10):
        await enqueue(h, f"消息{i}", drain=False)
    await h.drain()
    assert len(h.sent) == 6  # group_per_minute default
    await h.advance(minutes=2)
    assert len(h.sent) == 10


async def test_capped_group_does_not_block_other_groups(h):
    for i in range(8):
        await enqueue(h, f"群1消息{i}", drain=False)
    await enqueue(h, "群2消息", group="兰亭水岸邻里群", drain=False)
    await h.drain()
    assert "群2消息" in h.texts_to("兰亭水岸邻里群")


async def test_rate_limit_error_pauses_the_whole_account():
    async with BotHarness() as h:
        h.transport.rate_limit_next("room-yg-1")
        await enqueue(h, "第一条")
        await enqueue(h, "别的群", group="兰亭水岸邻里群")
        assert h.sent == []
        await h.advance(minutes=6)
        assert {s.text for s in h.sent} == {"第一条", "别的群"}


async def test_transport_error_is_retried_with_backoff(h):
    h.transport.fail_next("room-yg-1", TransportError("timeout"), times=2)
    await enqueue(h, "重要通知")
    assert h.sent == []
    await h.advance(minutes=1)
    assert h.texts_to("阳光花园业主1群") == ["重要通知"]


async def test_gives_up_after_max_attempts(h):
    h.transport.fail_next("room-yg-1", TransportError("down"), times=10)
    await enqueue(h, "发不出去")
    await h.advance(hours=1)
    assert await statuses(h) == [OutboxStatus.FAILED]


async def test_removed_group_fails_pending_texts_with_reason(h):
    h.transport.gone.add("room-yg-1")
    await enqueue(h, "一", drain=False)
    await enqueue(h, "二", drain=False)
    await h.drain()
    assert await statuses(h) == [OutboxStatus.FAILED, OutboxStatus.FAILED]
    async with h.session() as s:
        group = (await s.execute(select(ChatGroup).where(ChatGroup.platform_id == "room-yg-1"))).scalar_one()
    assert group.active is False


async def test_bot_removed_event_fails_pending_and_deactivates_group(h):
    await enqueue(h, "待发", drain=False)
    await h.bot_removed("阳光花园业主1群")
    async with h.session() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
    assert row.status == OutboxStatus.FAILED and "移出" in row.error


async def test_pending_texts_are_sent_once_after_restart(h):
    await enqueue(h, "重启前排队", drain=False)
    await h.restart()
    await h.restart()
    assert h.texts_to("阳光花园业主1群") == ["重启前排队"]


async def test_urgent_jumps_the_queue(h):
    for i in range(3):
        await enqueue(h, f"广播{i}", priority=Priority.BROADCAST, drain=False)
    await enqueue(h, "紧急：燃气泄漏", priority=Priority.URGENT, drain=False)
    await h.drain()
    assert h.sent[0].text == "紧急：燃气泄漏"


async def test_replies_go_before_queued_broadcasts(h):
    for i in range(3):
        await enqueue(h, f"广播{i}", group="兰亭水岸邻里群", priority=Priority.BROADCAST, drain=False)
    await enqueue(h, "回复", person="张三", drain=False)
    await h.drain()
    assert h.sent[0].text == "回复"


async def test_daily_cap_stops_sending_until_tomorrow():
    async with BotHarness(settings={"outbox": {"daily_cap": 2, "group_per_minute": 100}}) as h:
        for i in range(3):  # broadcasts: a group reply 16 hours late would expire (age policy)
            await enqueue(h, f"第{i}条", priority=Priority.BROADCAST, drain=False)
        await h.drain()
        assert len(h.texts_to("阳光花园业主1群")) == 2
        await h.advance(hours=16)
        assert len(h.texts_to("阳光花园业主1群")) == 3


async def test_daily_cap_survives_restart():
    async with BotHarness(settings={"outbox": {"daily_cap": 2, "group_per_minute": 100}}) as h:
        await enqueue(h, "一")
        await enqueue(h, "二")
        await h.restart()
        await enqueue(h, "三")
        assert len(h.texts_to("阳光花园业主1群")) == 2


async def test_long_text_is_split_on_line_boundaries(h):
    text = "\n".join(f"第{i}行：" + "内容" * 40 for i in range(60))
    await enqueue(h, text)
    parts = h.texts_to("阳光花园业主1群")
    assert len(parts) > 1 and all(len(p) <= 1800 for p in parts)
    assert all(line.startswith("第") for p in parts for line in p.split("\n")[:-1])


def test_split_hard_cuts_a_single_overlong_line():
    assert [len(p) for p in split_text("字" * 250, 100)][:2] == [100, 100]


async def test_phone_numbers_are_masked_in_group_texts(h):
    await enqueue(h, "联系人电话13812345678")
    assert h.texts_to("阳光花园业主1群") == ["联系人电话138****5678"]


async def test_private_texts_keep_numbers_for_their_recipient(h):
    await enqueue(h, "您登记的电话13812345678", person="张三")
    assert h.texts_to("张三") == ["您登记的电话13812345678"]


async def test_person_without_chat_identity_fails_clearly(h):
    async with h.session() as s:
        person = Person(name="无微信", created_at=h.now, roles=[])
        s.add(person)
        await s.flush()
        h.bot.outbox.enqueue(s, "你好", person_id=person.id)
        await s.commit()
    await h.drain()
    async with h.session() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
    assert row.status == OutboxStatus.FAILED and "未关联" in row.error
