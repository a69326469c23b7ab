"""The groups service (bot/services/groups.py): binding, relink confirmation, rooms joined, left, renamed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import ChatGroup, Event
from bot.roles import Roles
from bot.services import Actor, Deps, ServiceError
from bot.services import groups
from bot.texts import core as T
from bot.transports.base import RoomTopicChanged

YG_GROUP = "阳光花园业主1群"


async def group_named(session, topic: str) -> ChatGroup:
    return (await session.execute(select(ChatGroup).where(ChatGroup.topic == topic))).scalar_one()


async def group_events(session, group_id: int) -> list[Event]:
    return list((await session.execute(select(Event).where(
        Event.subject_kind == "group", Event.subject_id == group_id).order_by(Event.id))).scalars())


def deps_of(h, session) -> Deps:
    return Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)


def resident() -> Actor:
    return Actor(name="张三", roles=Roles.from_rows([], {}), person_id=None)


async def test_binding_to_the_same_compound_again_changes_nothing_and_records_nothing(h) -> None:
    async with h.session() as session:
        group = await group_named(session, YG_GROUP)
        before = len(await group_events(session, group.id))
        assert groups.bind(session, h.bot.org, group, group.compound_id, h.now) is False
        assert len(await group_events(session, group.id)) == before


async def test_unbinding_records_one_unbound_event_and_clears_the_binding_time(h) -> None:
    async with h.session() as session:
        group = await group_named(session, YG_GROUP)
        compound = group.compound_id
        assert groups.bind(session, h.bot.org, group, None, h.now) is True
        await session.flush()
        [event] = [e for e in await group_events(session, group.id) if e.action == "unbound"]
    assert group.compound_id is None and group.bound_at is None
    assert event.from_state == str(compound) and event.note == h.bot.org.name_of(compound)


async def test_binding_from_chat_is_refused_to_someone_not_staff_of_the_compound(h) -> None:
    async with h.session() as session:
        group = await group_named(session, YG_GROUP)
        with pytest.raises(ServiceError) as refused:
            groups.bind_from_chat(deps_of(h, session), resident(), group, h.bot.org.find("兰亭水岸").id)
    assert str(refused.value) == T.BIND_NOT_SECRETARY.format(compound="兰亭水岸")


async def test_the_secretary_binding_a_guessed_group_again_confirms_it(h) -> None:
    async with h.session() as session:
        group = await group_named(session, YG_GROUP)
        group.relink_pending = True
        await session.commit()
    await h.say(YG_GROUP, "李书记", "绑定 阳光花园")
    assert h.texts_to(YG_GROUP)[-1] == T.BIND_CONFIRMED.format(compound="阳光花园")
    async with h.session() as session:
        group = await group_named(session, YG_GROUP)
        actions = [e.action for e in await group_events(session, group.id)]
    assert not group.relink_pending and actions.count("relink_confirmed") == 1


async def test_a_renamed_room_is_recorded_once(h) -> None:
    room_id = await h.group_id(YG_GROUP)
    for _ in range(2):  # the platform may report the same name twice
        await h.bot.on_room_topic(RoomTopicChanged(h.transport.account, room_id, YG_GROUP, "阳光花园业主一群", at=h.now))
    async with h.session() as session:
        group = await group_named(session, "阳光花园业主一群")
        renamed = [e for e in await group_events(session, group.id) if e.action == "renamed"]
    assert [e.note for e in renamed] == [f"{YG_GROUP} → 阳光花园业主一群"]


async def test_the_bot_joining_a_bound_group_introduces_itself(h) -> None:
    await h.bot_joins(YG_GROUP)
    assert h.texts_to(YG_GROUP)[-1] == T.SELF_INTRO.format(
        bot_name=T.BOT_NAME, compound="阳光花园", days=h.settings.retention_days)
