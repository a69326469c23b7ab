"""bot.db's helpers for the hot paths: ``add_now`` writes a new row by one INSERT at once and
leaves an ordinary persistent object (every column loaded, later changes flushed as usual);
``connection_of`` asks the session for its connection once per transaction."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import add_now, read
from bot.audit import record_event
from bot.models import Compound, Event
from bot.models.tickets import Ticket


async def test_a_row_added_now_is_persistent_with_every_column_loaded(h):
    async with h.session() as s:
        compound_id = (await s.execute(select(Compound.id).limit(1))).scalar_one()
        ticket = Ticket(compound_id=compound_id, number=901, text="3号楼楼道灯坏了", created_at=h.now, updated_at=h.now)
        await add_now(s, ticket)
        state = inspect(ticket)
        assert state.persistent and not state.unloaded and ticket.id is not None
        assert (ticket.state, ticket.location_parts, ticket.reopen_count, ticket.resolved_at) == ("new", {}, 0, None)
        ticket.state = "assigned"  # a change after the insert is flushed like any other
        await s.commit()
    async with h.session() as s:
        stored = await s.get(Ticket, ticket.id)
        assert (stored.state, stored.location_parts, stored.text) == ("assigned", {}, "3号楼楼道灯坏了")


async def test_a_transaction_asks_its_session_for_the_connection_once(h, monkeypatch):
    asked: list[int] = []
    connection = AsyncSession.connection

    async def counted(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        asked.append(id(self))
        return await connection(self, *args, **kwargs)

    monkeypatch.setattr(AsyncSession, "connection", counted)
    async with h.session() as s:
        for _ in range(3):
            await read(s, select(Compound.id).limit(1))
        assert len(asked) == 1
        await s.commit()
        await read(s, select(Compound.id).limit(1))  # a new transaction: its own connection
        assert len(asked) == 2


async def test_a_row_added_now_is_transient_again_after_a_rollback(h):
    async with h.session() as s:
        compound_id = (await s.execute(select(Compound.id).limit(1))).scalar_one()
        ticket = Ticket(compound_id=compound_id, number=902, text="x", created_at=h.now, updated_at=h.now)
        await add_now(s, ticket)
        await s.rollback()
        assert inspect(ticket).transient and ticket not in s
        assert (await s.execute(select(Ticket).where(Ticket.number == 902))).first() is None


async def test_a_read_sees_the_rows_its_session_queued(h):
    async with h.session() as s:
        record_event(s, "ticket", 4242, "noted", h.now, note="queued")
        rows = (await read(s, select(Event.note).where(Event.subject_id == 4242))).all()
        assert [r.note for r in rows] == ["queued"]


async def test_a_failed_transaction_is_not_served_its_cached_connection(h):
    async with h.session() as s:
        await read(s, select(Compound.id).limit(1))
        s.add(Compound(id=1, name="重复的小区"))  # the primary key is taken: the flush fails
        with pytest.raises(IntegrityError):
            await s.flush()
        with pytest.raises(PendingRollbackError):
            await read(s, select(Compound.id).limit(1))
