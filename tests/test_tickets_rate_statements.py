"""A reporter's rating reads the ticket's reporters once (the rater's row and whether everyone
has rated come from the same read), whether it closes or reopens the ticket."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from bot.models import Person
from bot.models.tickets import Rating, Ticket, TicketReporter, TicketState
from bot.roles import Roles
from bot.services import Actor, Deps
from bot.services.tickets import resolution

G1 = "阳光花园业主1群"


@pytest.mark.parametrize("rating, state", [(Rating.SATISFIED, TicketState.CLOSED),
                                           (Rating.UNSATISFIED, TicketState.ASSIGNED)])
async def test_rating_reads_the_reporters_once(h, rating, state):
    await h.say(G1, "张三", "3号楼2单元楼道灯坏了好几天了")
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("周经理", "办结 0001 已更换楼道灯")
    seen: list[str] = []
    engine = h.bot.engine.sync_engine

    def listener(_conn, _cursor, statement, *_args):  # noqa: ANN001, ANN202
        seen.append(" ".join(statement.split()))

    async with h.session() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.number == 1))).scalars().one()
        person = (await session.execute(select(Person).where(Person.name == "张三"))).scalars().one()
        actor = Actor(name=person.name, roles=Roles.from_rows(person.roles, h.bot.org.community_of),
                      person_id=person.id)
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            await resolution.rate(deps, actor, ticket, rating, "")
            await session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert len([q for q in seen if q.startswith("SELECT") and "FROM ticket_reporters" in q]) == 1, seen
        [row] = (await session.execute(select(TicketReporter).where(TicketReporter.ticket_id == ticket.id))).scalars()
        assert ticket.state == state and row.rating == rating
        assert (row.confirm_asked_at is None) == (rating == Rating.UNSATISFIED)
