"""The one audit helper: rows land in the caller's transaction with the actor's columns."""
from __future__ import annotations

from sqlalchemy import select

from bot.audit import record_event
from bot.models import Event, Person
from bot.roles import Roles
from bot.services import Actor


async def test_record_event_takes_the_actor_columns_from_the_actor(h):
    async with h.session() as s:
        person = (await s.execute(select(Person).where(Person.name == "李书记"))).scalars().one()
        actor = Actor(name=person.name, roles=Roles((), {}), person_id=person.id, web_user="li")
        record_event(s, "group", 7, "bound", h.now, actor=actor, note="阳光花园")
        await s.commit()
    async with h.session() as s:
        row = (await s.execute(select(Event).where(Event.subject_kind == "group", Event.action == "bound",
                                                   Event.subject_id == 7))).scalars().one()
    assert (row.actor_person_id, row.actor_web_user, row.note, row.at) == (person.id, "li", "阳光花园", h.now)
