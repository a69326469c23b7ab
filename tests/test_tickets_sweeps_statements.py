"""The unconfirmed-resolution sweep reads every due ticket's answers in one query, and each
ticket still closes with its own worst rating and its own count of silent reporters."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from bot.models import Event, Person
from bot.models.tickets import Ticket, TicketReporter, TicketState
from bot.services import Deps
from bot.services.tickets import sweeps


async def test_close_unconfirmed_reads_the_answers_of_every_ticket_at_once(h):
    now = h.clock.now()
    asked = now - timedelta(days=4)
    async with h.session() as session:
        people = {p.name: p.id for p in (await session.execute(select(Person))).scalars()}
        cid = h.bot.org.by_name["阳光花园"].id
        tickets = []
        for number in (1, 2, 3):
            ticket = Ticket(compound_id=cid, number=number, state=TicketState.RESOLVED, text=f"事{number}",
                            category="other", created_at=asked, updated_at=asked, resolved_at=asked,
                            confirm_due=now - timedelta(days=1))
            session.add(ticket)
            tickets.append(ticket)
        await session.flush()
        answers = {0: [("张三", "basic"), ("王奶奶", None)], 1: [("李四", None)], 2: [("张三", "satisfied")]}
        for index, rows in answers.items():
            for name, rating in rows:
                session.add(TicketReporter(ticket_id=tickets[index].id, person_id=people[name], reported_at=asked,
                                           confirm_asked_at=asked, rating=rating))
        await session.commit()
        ids = [t.id for t in tickets]

    seen: list[str] = []
    engine = h.bot.engine.sync_engine

    def listener(_conn, _cursor, statement, *_args):  # noqa: ANN001, ANN202
        seen.append(" ".join(statement.split()))

    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert await sweeps.close_unconfirmed(deps, now) == 3
            await session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert len([q for q in seen if q.startswith("SELECT") and "FROM ticket_reporters" in q]) == 1, seen
        closed = {t.id: t for t in (await session.execute(select(Ticket).where(Ticket.id.in_(ids)))).scalars()}
        assert [(closed[i].state, closed[i].satisfaction) for i in ids] == [
            (TicketState.CLOSED, "basic"), (TicketState.CLOSED, "default"), (TicketState.CLOSED, "satisfied")]
        data = {e.subject_id: e.data for e in (await session.execute(select(Event).where(
            Event.action == "auto_closed", Event.subject_id.in_(ids)))).scalars()}
        assert [data[i]["defaulted"] for i in ids] == [1, 1, 0]
