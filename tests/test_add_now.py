"""bot.db.add_now: a new row written by one INSERT at once, then an ordinary persistent object of
the session (every column loaded, later changes flushed as usual)."""
from __future__ import annotations

from sqlalchemy import inspect, select

from bot.db import add_now
from bot.models import Compound
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
