"""An assignee's bare 收到 to an assignment is their acknowledgement (接单), not a progress
note: recorded once, answered briefly, and reporters hear "已有人接单" at most once."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import Compound, Event
from bot.models.tickets import Ticket
from bot.texts import tickets as T

G1 = "阳光花园业主1群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"
CODE = "阳光花园-0001"


async def assigned(h) -> None:
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 物业")


async def ticket_events(h, action: str) -> list[Event]:
    async with h.session() as s:
        ticket = (await s.execute(select(Ticket).where(Ticket.number == 1))).scalars().first()
        return list((await s.execute(select(Event).where(
            Event.subject_kind == "ticket", Event.subject_id == ticket.id, Event.action == action))).scalars())


def taken(h) -> list[str]:
    return [t for t in h.texts_to("张三") if t == T.REPORTER_TAKEN.format(code=CODE)]


@pytest.mark.parametrize("text", ["收到", "好的", "收到👍"])
async def test_assignees_bare_ack_is_answered_as_taking_the_ticket(h, text):
    await assigned(h)
    await h.dm("周经理", text)
    assert h.texts_to("周经理")[-1] == T.ASSIGNEE_ACKED.format(codes="0001")


async def test_assignees_bare_ack_is_recorded_as_an_acknowledgement_not_a_note(h):
    await assigned(h)
    await h.dm("周经理", "收到")
    assert len(await ticket_events(h, "acknowledged")) == 1
    assert await ticket_events(h, "noted") == []


async def test_assignees_bare_ack_is_not_broadcast_to_reporters_as_progress(h):
    await assigned(h)
    await h.dm("周经理", "收到")
    assert not any(t.startswith(T.REPORTER_PROGRESS.split("{")[0]) and "有新进展" in t for t in h.texts_to("张三"))
    assert len(taken(h)) == 1


async def test_reporters_hear_the_ticket_was_taken_only_once(h):
    await assigned(h)
    await h.dm("周经理", "收到")
    await h.dm("周经理", "好的👌")
    assert len(taken(h)) == 1
    assert h.texts_to("周经理")[-1] == T.ASSIGNEE_ACKED_AGAIN
    assert len(await ticket_events(h, "acknowledged")) == 1


async def test_reporters_are_not_told_of_the_ack_when_the_compound_turns_it_off(h):
    await assigned(h)
    async with h.session() as s:
        row = (await s.execute(select(Compound).where(Compound.name == "阳光花园"))).scalar_one()
        row.settings = {**(row.settings or {}), "tell_reporters": False}
        await s.commit()
    await h.bot.refresh_org()
    await h.dm("周经理", "收到")
    assert taken(h) == []
    assert len(await ticket_events(h, "acknowledged")) == 1


async def test_assignee_ack_with_words_after_it_is_still_a_progress_note(h):
    await assigned(h)
    await h.dm("周经理", "收到，明天上午安排电工师傅去换")
    assert h.texts_to("周经理")[-1] == T.ASSIGNEE_NOTED.format(code=CODE)
    assert await ticket_events(h, "acknowledged") == []


async def test_assignees_ack_is_the_first_response_when_nobody_answered_before(h):
    await assigned(h)
    async with h.session() as s:  # as if the assignment came without a response (e.g. from the dashboard's system user)
        row = (await s.execute(select(Ticket).where(Ticket.number == 1))).scalars().first()
        row.first_response_at = None
        await s.commit()
    await h.dm("周经理", "收到")
    async with h.session() as s:
        row = (await s.execute(select(Ticket).where(Ticket.number == 1))).scalars().first()
        assert row.first_response_at is not None
