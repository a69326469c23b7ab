"""Re-linking people and groups after a login (bot/relink.py), resolving unknown senders (bot/identity.py)
and writing alias markers (bot/markers.py, bot/marker_writer.py), on the sample organisation."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot import identity, markers, relink
from bot.models import ChatGroup, Event, Identity, Person, Role
from bot.transports.base import LoggedIn, MemberInfo, NotAFriend, RoomInfo


async def person(h, name: str) -> Person:
    async with h.session() as session:
        return (await session.execute(select(Person).where(Person.name == name, Person.on_roster.is_(True))
                                      )).scalars().one()


async def group_by_topic(h, topic: str) -> ChatGroup:
    async with h.session() as session:
        return (await session.execute(select(ChatGroup).where(ChatGroup.topic == topic)
                                      .order_by(ChatGroup.id))).scalars().first()


def members_of(h, mapping: dict[str, list[MemberInfo]]) -> None:
    async def room_members(room_id: str) -> list[MemberInfo]:
        return mapping.get(room_id, [])

    h.transport.room_members = room_members  # the FakeTransport knows no members


async def login(h, rooms: list[RoomInfo], *, self_id: str = "wxid_bot", stable: bool = True) -> None:
    await h.bot.on_login(LoggedIn(h.transport.account, self_id, "支部助手", tuple(rooms), ids_stable=stable))
    await h.drain()


def test_markers() -> None:
    assert markers.marker_for("李书记", 12) == "李书记#zb12"
    assert markers.parse_marker("李书记#zb12") == 12
    assert markers.parse_marker("李书记 3号楼") is None and markers.parse_marker(None) is None
    assert len(markers.marker_for("很" * 40, 123456)) <= 64


async def test_stable_ids_match_and_renames_are_tracked(h) -> None:
    await login(h, [
        RoomInfo("room-yg-1", "阳光花园业主1群（新）", 3, ("张三", "李书记", "李四")),
        RoomInfo("room-new", "新来的群", 2, ("王奶奶",)),
    ])
    renamed = await group_by_topic(h, "阳光花园业主1群（新）")
    assert renamed.platform_id == "room-yg-1" and renamed.compound_id is not None
    assert renamed.member_names == ["张三", "李书记", "李四"] and not renamed.relink_pending
    fresh = await group_by_topic(h, "新来的群")
    assert fresh.compound_id is None and fresh.active
    async with h.session() as session:
        actions = (await session.execute(select(Event.action).where(Event.subject_kind == "group"))).scalars().all()
    assert "renamed" in actions
    # untouched on a stable puppet: the other org groups stay as they were
    assert (await group_by_topic(h, "兰亭水岸邻里群")).active


async def test_web_login_guesses_the_group_keeps_its_compound_and_asks_the_secretary(h) -> None:
    old = await group_by_topic(h, "阳光花园业主1群")
    await login(h, [RoomInfo("@@new1", "阳光花园业主1群", 4, ("张三", "李四", "王奶奶"))],
                self_id="@bot1", stable=False)
    group = await group_by_topic(h, "阳光花园业主1群")
    assert group.id == old.id and group.platform_id == "@@new1"
    assert group.compound_id == old.compound_id and group.relink_pending and group.active
    assert group.member_names == ["张三", "李四", "王奶奶"]
    asks = h.texts_to("李书记")
    assert len(asks) == 1 and "请确认" in asks[0] and "阳光花园业主1群" in asks[0]
    # the web login's dead ids: groups that matched nothing are inactive now
    assert not (await group_by_topic(h, "兰亭水岸邻里群")).active
    # a resident in the guessed group is served (the group is bound), and gains nothing
    await h.say("阳光花园业主1群", "张三", "帮助", sender_id="@zhangsan2")
    assert h.texts_to("阳光花园业主1群")


async def test_a_group_renamed_while_away_is_found_by_its_members(h) -> None:
    await login(h, [RoomInfo("@@a", "阳光花园业主1群", 5, ("甲", "乙", "丙", "丁"))], self_id="@b", stable=False)
    await login(h, [RoomInfo("@@b", "阳光花园1群（改名）", 5, ("甲", "乙", "丙", "丁"))], self_id="@c", stable=False)
    group = await group_by_topic(h, "阳光花园1群（改名）")
    assert group.platform_id == "@@b" and group.compound_id is not None


async def test_an_ambiguous_guess_is_not_made(h) -> None:
    async with h.session() as session:
        compound = (await session.execute(select(ChatGroup.compound_id).where(
            ChatGroup.platform_id == "room-yg-1"))).scalar_one()
        session.add(ChatGroup(account=h.transport.account, platform_id="room-dup", topic="阳光花园业主1群",
                              compound_id=compound))
        await session.commit()
    await login(h, [RoomInfo("@@x", "阳光花园业主1群", 3, ("张三",))], self_id="@b", stable=False)
    async with h.session() as session:
        new = (await session.execute(select(ChatGroup).where(ChatGroup.platform_id == "@@x"))).scalar_one()
    assert new.compound_id is None and not new.relink_pending  # a new, unbound (silent) group


async def test_people_follow_the_alias_marker_and_keep_their_roles(h) -> None:
    secretary = await person(h, "李书记")
    members_of(h, {"@@new1": [
        MemberInfo("@li-new", "李书记", alias=markers.marker_for("李书记", secretary.id)),
        MemberInfo("@zhang-new", "张三"),
    ]})
    await login(h, [RoomInfo("@@new1", "阳光花园业主1群", 3, ("张三", "李书记"))], self_id="@bot", stable=False)
    async with h.session() as session:
        ident = (await session.execute(select(Identity).where(Identity.platform_id == "@li-new"))).scalar_one()
        assert ident.person_id == secretary.id
        assert not (await session.execute(select(Identity).where(Identity.platform_id == "@zhang-new"))).first()
    await h.dm("李书记", "我的身份", sender_id="@li-new")
    assert "支部书记" in h.texts_to("李书记")[-1]


async def test_nobody_gains_a_role_from_a_name(h) -> None:
    members_of(h, {"@@new1": [MemberInfo("@li-fake", "李书记")]})  # same name, no marker
    await login(h, [RoomInfo("@@new1", "阳光花园业主1群", 2, ("李书记",))], self_id="@bot", stable=False)
    await h.dm("李书记", "我的身份", sender_id="@li-fake")
    async with h.session() as session:
        ident = (await session.execute(select(Identity).where(Identity.platform_id == "@li-fake"))).scalar_one()
        roles = (await session.execute(select(Role).where(Role.person_id == ident.person_id))).scalars().all()
    assert roles == []


async def test_same_id_on_another_account_is_the_same_person(h) -> None:
    secretary = await person(h, "李书记")
    async with h.session() as session:
        found = await identity.resolve_unknown_sender(session, "east", "wxid_li_shuji", "李书记", None, h.now)
        assert found is not None and found.id == secretary.id
        by_marker = await identity.resolve_unknown_sender(session, "east", "@new", "李书记",
                                                        markers.marker_for("李书记", secretary.id), h.now)
        assert by_marker is not None and by_marker.id == secretary.id
        assert await identity.resolve_unknown_sender(session, "east", "@who", "李书记", None, h.now) is None
        await session.commit()


async def test_a_group_is_served_by_the_account_that_is_in_it(h) -> None:
    account = h.transport.account  # "sim": the org file put every group under it
    async with h.session() as session:
        # account "east" logs in first and sees 兰亭水岸邻里群; "sim" has not logged in yet
        await relink.sync_groups(session, LoggedIn("east", "wxid_e", "支部助手", (
            RoomInfo("room-lt-1", "兰亭水岸邻里群", 3, ("孙书记",)),)), h.now)
        rows = {g.account: g for g in (await session.execute(
            select(ChatGroup).where(ChatGroup.platform_id == "room-lt-1"))).scalars()}
        assert rows[account].active and not rows["east"].active  # not known yet: the old account serves
        # now "sim" logs in without that room: "east" takes the binding over
        await relink.sync_groups(session, LoggedIn(account, "wxid_s", "支部助手", (
            RoomInfo("room-yg-1", "阳光花园业主1群", 3, ()),)), h.now, other_rooms={"east": {"room-lt-1"}})
        await session.commit()
        rows = {g.account: g for g in (await session.execute(
            select(ChatGroup).where(ChatGroup.platform_id == "room-lt-1"))).scalars()}
        assert rows["east"].active and rows["east"].compound_id == rows[account].compound_id
        assert not rows[account].active


async def test_a_room_another_account_serves_stays_silent_here(h) -> None:
    account = h.transport.account
    async with h.session() as session:
        await relink.sync_groups(session, LoggedIn("east", "wxid_e", "支部助手", (
            RoomInfo("room-yg-1", "阳光花园业主1群", 3, ()),)), h.now, other_rooms={account: {"room-yg-1"}})
        await session.commit()
        east = (await session.execute(select(ChatGroup).where(
            ChatGroup.platform_id == "room-yg-1", ChatGroup.account == "east"))).scalar_one()
    assert not east.active and east.compound_id is None


async def test_markers_are_written_for_role_holders(h) -> None:
    h.bot.markers.spacing_seconds = 0
    marked = await h.bot.markers.mark(h.transport.account)
    assert marked > 0
    secretary = await person(h, "李书记")
    assert h.transport.aliases["wxid_li_shuji"] == markers.marker_for("李书记", secretary.id)
    async with h.session() as session:
        ident = (await session.execute(select(Identity).where(Identity.platform_id == "wxid_li_shuji"))).scalar_one()
    assert ident.alias == markers.marker_for("李书记", secretary.id)
    assert await h.bot.markers.mark(h.transport.account) == 0  # nothing left to do


def test_guess_score() -> None:
    group = ChatGroup(topic="A群", member_names=["甲", "乙", "丙"], member_count=4)
    assert relink.guess_score(RoomInfo("x", "A群", 4, ("甲", "乙", "丙")), group) == pytest.approx(3.0)
    assert relink.guess_score(RoomInfo("x", "A群", 4, ("丁", "戊", "己")), group) is None
    assert relink.guess_score(RoomInfo("x", "B群", 4, ("甲", "乙", "丙")), group) == pytest.approx(2.0)
    assert relink.guess_score(RoomInfo("x", "B群", 40, ("甲", "乙", "丙")), group) is None


class NotAFriendTransport:
    """What the Wechaty transport does for a marker: friends only (contacts()), NotAFriend else."""

    def __init__(self, fake, friends: set[str], refuse: set[str] = frozenset()) -> None:
        self.fake, self.friends, self.refuse = fake, friends, refuse
        self.asked: list[str] = []

    async def contacts(self) -> list[MemberInfo]:
        return [MemberInfo(platform_id, platform_id) for platform_id in sorted(self.friends)]

    async def set_alias(self, contact_id: str, alias: str) -> None:
        self.asked.append(contact_id)
        if contact_id not in self.friends or contact_id in self.refuse:
            raise NotAFriend(f"{contact_id} is not a friend")
        self.fake.aliases[contact_id] = alias


async def identity_alias(h, platform_id: str) -> str | None:
    async with h.session() as session:
        return (await session.execute(select(Identity.alias).where(Identity.platform_id == platform_id))).scalar_one()


async def test_markers_are_written_only_for_friends_and_a_refusal_is_quiet(h, monkeypatch, caplog) -> None:
    h.bot.markers.spacing_seconds = 0
    # 李书记 is a friend; 王书记 was one when the list was read but refuses now (unfriended since)
    async with h.session() as session:
        wang = (await session.execute(select(Identity.platform_id).join(Person, Person.id == Identity.person_id)
                                      .where(Person.name != "李书记", Person.on_roster.is_(True))
                                      .order_by(Identity.id))).scalars().first()
    assert wang is not None
    fake = NotAFriendTransport(h.transport, friends={"wxid_li_shuji", wang}, refuse={wang})
    monkeypatch.setattr(h.transport, "contacts", fake.contacts, raising=False)
    monkeypatch.setattr(h.transport, "set_alias", fake.set_alias)
    with caplog.at_level("INFO", logger="bot.marker_writer"):
        marked = await h.bot.markers.mark(h.transport.account)
    assert marked == 1
    assert sorted(fake.asked) == sorted(["wxid_li_shuji", wang])  # nobody who is not a friend was asked
    secretary = await person(h, "李书记")
    assert await identity_alias(h, "wxid_li_shuji") == markers.marker_for("李书记", secretary.id)
    assert markers.parse_marker(await identity_alias(h, wang)) is None  # refused: no marker recorded
    assert [r for r in caplog.records if r.name == "bot.marker_writer" and r.levelno >= logging.INFO
            and wang in r.getMessage()] == []  # an expected refusal is not news in the log
