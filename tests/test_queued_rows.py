"""Rows a session queues (outbox texts, audit events, a ticket's reporters) are written together
at its commit (bot/queued_rows.py): one INSERT per kind, in the order queued, seen by the
session's own queries before that, dropped by a rollback, and written with the marks a caller
gave them."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from bot.audit import record_event
from bot.identity import has_writes
from bot.models import ChatGroup, Event, OutboxMessage, Person
from bot.models.tickets import Ticket
from bot.services.tickets.people import add_reporter

G1 = "阳光花园业主1群"


async def _ids(h) -> tuple[int, int]:  # noqa: ANN001
    async with h.session() as s:
        group_id = (await s.execute(select(ChatGroup.id).where(ChatGroup.topic == G1))).scalar_one()
        person_id = (await s.execute(select(Person.id).where(Person.name == "李书记"))).scalar_one()
    return group_id, person_id


async def _texts(h) -> list[str]:  # noqa: ANN001
    async with h.session() as s:
        return list((await s.execute(select(OutboxMessage.text).order_by(OutboxMessage.id))).scalars())


def _inserts_into(h, table: str) -> list[bool]:  # noqa: ANN001
    """Each INSERT into ``table`` from now on: whether it was one executemany."""
    inserts: list[bool] = []

    @event.listens_for(h.bot.engine.sync_engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, _params, _context, executemany):  # noqa: ANN001, ANN202
        if statement.startswith(f"INSERT INTO {table} "):
            inserts.append(executemany)
    return inserts


async def test_a_reports_acknowledgement_and_notice_are_written_by_one_insert(h):
    inserts = _inserts_into(h, "outbox")
    await h.say(G1, "张三", "3号楼2单元电梯坏了，困在里面出不来")
    assert len(h.sent) >= 2  # the group's acknowledgement and the branch's alert
    assert inserts == [True]


async def test_an_urgent_reports_two_events_are_written_by_one_insert(h):
    inserts = _inserts_into(h, "events")
    await h.say(G1, "张三", "3号楼2单元电梯坏了，困在里面出不来")
    async with h.session() as s:
        actions = list((await s.execute(select(Event.action).where(Event.subject_kind == "ticket")
                                        .order_by(Event.id))).scalars())
    assert actions == ["created", "urgent_alert"]  # in the order recorded
    assert inserts == [True]


async def test_the_sessions_own_query_sees_the_rows_it_queued(h):
    group_id, _ = await _ids(h)
    async with h.session() as s:
        h.bot.outbox.enqueue(s, "排队中的回复", group_id=group_id)
        seen = (await s.execute(select(OutboxMessage.text).where(OutboxMessage.text == "排队中的回复"))).all()
        assert len(seen) == 1
        await s.commit()
    assert (await _texts(h)).count("排队中的回复") == 1  # written once, not again at the commit


async def test_a_rollback_drops_the_queued_rows(h):
    group_id, _ = await _ids(h)
    async with h.session() as s:
        h.bot.outbox.enqueue(s, "撤回的回复", group_id=group_id)
        await s.rollback()
        h.bot.outbox.enqueue(s, "之后的回复", group_id=group_id)
        await s.commit()
    texts = await _texts(h)
    assert "撤回的回复" not in texts and "之后的回复" in texts


async def test_a_session_closed_without_a_commit_writes_nothing(h):
    group_id, _ = await _ids(h)
    async with h.session() as s:
        h.bot.outbox.enqueue(s, "没提交的回复", group_id=group_id)
    assert "没提交的回复" not in await _texts(h)


async def test_a_row_marked_after_queueing_is_written_with_its_mark(h):
    _, person_id = await _ids(h)
    async with h.session() as s:
        [row] = h.bot.outbox.enqueue(s, "关于工单的通知", person_id=person_id)
        row.ref_kind, row.ref_id = "ticket", 42
        await s.commit()
    async with h.session() as s:
        written = (await s.execute(select(OutboxMessage).where(OutboxMessage.text == "关于工单的通知"))).scalar_one()
    assert (written.ref_kind, written.ref_id, written.status, written.attempts) == ("ticket", 42, "pending", 0)


async def test_a_session_with_only_queued_rows_has_writes_to_commit(h):
    group_id, _ = await _ids(h)
    async with h.session() as s:
        assert not has_writes(s)
        h.bot.outbox.enqueue(s, "只有回复", group_id=group_id)
        assert has_writes(s)  # the dispatcher commits it, even for a message that was chatter
        await s.rollback()


async def test_a_session_whose_rows_were_written_before_a_query_still_has_writes_to_commit(h):
    group_id, _ = await _ids(h)
    async with h.session() as s:
        h.bot.outbox.enqueue(s, "先写入的回复", group_id=group_id)
        await s.execute(select(ChatGroup.id))  # writes the queued row first
        assert has_writes(s)  # or the dispatcher would close the session on a reply without committing it
        await s.commit()
    assert "先写入的回复" in await _texts(h)


async def test_a_failed_insert_keeps_only_the_rows_not_written(h):
    await h.say(G1, "张三", "3号楼2单元楼道灯坏了好几天了")
    group_id, person_id = await _ids(h)
    async with h.session() as s:
        ticket_id = (await s.execute(select(Ticket.id))).scalar_one()
        record_event(s, "ticket", ticket_id, "noted", h.now, note="once")
        for _ in range(2):  # the same reporter twice: their INSERT is refused
            add_reporter(s, ticket_id, person_id, group_id=group_id, message_id=None, text="x", at=h.now)
        with pytest.raises(IntegrityError):
            await s.execute(select(Event.id).limit(1))
        assert has_writes(s)  # the event was written
        with pytest.raises(IntegrityError):  # the refused rows stay queued, the event does not
            await s.execute(select(Event.id).limit(1))
        connection = await s.connection()  # a plain statement: nothing queued is written before it
        notes = (await connection.execute(select(func.count()).select_from(Event).where(Event.note == "once"))).scalar_one()
    assert notes == 1
