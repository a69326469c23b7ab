"""Who the bot asked "哪栋楼？" is known from memory: plain chatter asks the database nothing
about it, and a ticket without a place is asked about as soon as it is committed."""
from __future__ import annotations

import asyncio

from types import SimpleNamespace

from sqlalchemy import event, select

from bot.models import ChatGroup, Person
from bot.models.tickets import Ticket, TicketState
from bot.services import ticket_talk as talk
from bot.texts import tickets as T

G1 = "阳光花园业主1群"
NO_PLACE = "楼道灯坏了好几天了，晚上黑乎乎的"


def ticket_queries(h) -> list[str]:
    seen: list[str] = []

    @event.listens_for(h.bot.engine.sync_engine, "before_cursor_execute")
    def _note(_conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001
        if "FROM tickets" in statement:
            seen.append(statement)
    return seen


async def test_group_chatter_reads_no_tickets(h):
    await h.say(G1, "张三", "今天团购的草莓到了吗")  # people and group now known and cached
    await h.say(G1, "张三", "早上好")  # the pairs read once, within the few seconds they are kept
    seen = ticket_queries(h)
    await h.say(G1, "李四", "有人拼车去火车站吗")
    await h.say(G1, "张三", "明天几点停水来着")
    assert seen == []


async def test_answer_to_where_is_found_right_after_the_report(h):
    await h.say(G1, "路人甲", "早上好")  # the pairs are read (none) and kept
    await h.say(G1, "路人甲", NO_PLACE)
    await h.say(G1, "路人甲", "5号楼1单元")
    async with h.session() as s:
        ticket = (await s.execute(select(Ticket))).scalar_one()
    assert ticket.location.startswith("5号楼")
    assert T.LOCATED_OK.format(location=ticket.location, short="#0001") in h.texts_to(G1)[-1]


async def test_ticket_read_while_uncommitted_is_asked_about_once_committed(h):
    await h.say(G1, "路人甲", "早上好")
    async with h.session() as s:
        person_id = (await s.execute(select(Person.id).where(Person.name == "路人甲"))).scalar_one()
        group = (await s.execute(select(ChatGroup).where(ChatGroup.topic == G1))).scalar_one()
    async with h.session() as writer, h.session() as reader:
        now = h.now
        writer.add(Ticket(compound_id=group.compound_id, number=1, state=TicketState.NEW, channel="group",
                          text=NO_PLACE, category="utilities", location="", reporter_person_id=person_id,
                          group_id=group.id, reporters_count=1, created_at=now, updated_at=now,
                          first_response_due=now, resolve_due=now))
        await writer.flush()
        # Another message (on a task of its own) reads the pairs between the flush and the
        # commit: it cannot see the ticket.
        deps = SimpleNamespace(session=reader, clock=h.clock)
        assert (person_id, group.id) not in await asyncio.create_task(talk.asking_location.get(deps))
        await writer.commit()
        assert (person_id, group.id) in await talk.asking_location.get(deps)


async def test_report_with_no_photo_waiting_reads_no_media(h):
    await h.say(G1, "张三", "3号楼2单元楼道灯坏了好几天了")  # the answer "none waiting" is read and kept
    seen: list[str] = []

    @event.listens_for(h.bot.engine.sync_engine, "before_cursor_execute")
    def _note(_conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001
        if "FROM ticket_media" in statement:
            seen.append(statement)
    await h.say(G1, "李四", "5号楼门口的垃圾好几天没人清运了，味道很大")
    async with h.session() as s:
        assert len((await s.execute(select(Ticket.id))).all()) == 2
    assert seen == []
