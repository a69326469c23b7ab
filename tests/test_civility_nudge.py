"""Civility nudge: abuse or an escalating quarrel in a group brings a private request to the
group's party members — never a public rebuke; opt-in per compound; rate-limited; recorded."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Compound, Event
from bot.texts import tickets as T

G1 = "阳光花园业主1群"
ABUSE = "你是不是有病啊，天天在群里发这些"


async def opt_in(h, compound: str = "阳光花园", **extra) -> None:
    async with h.session() as s:
        row = (await s.execute(select(Compound).where(Compound.name == compound))).scalar_one()
        row.settings = {**(row.settings or {}), "civility_nudge": True, **extra}
        await s.commit()
    await h.bot.refresh_org()


def nudges(h, person: str) -> list[str]:
    return [t for t in h.texts_to(person) if t.startswith("【文明劝导】")]


async def test_abusive_message_asks_the_groups_party_members_privately(h):
    await opt_in(h)
    await h.say(G1, "张党员", "大家好")  # seen in the group
    await h.say(G1, "李四", ABUSE)
    assert nudges(h, "张党员") == [T.CIVILITY_ABUSIVE.format(group=G1, time=h.clock.local().strftime("%H:%M"))]


async def test_nothing_is_said_in_the_group(h):
    await opt_in(h)
    await h.say(G1, "李四", ABUSE)
    assert not any("文明" in t or "劝导" in t for t in h.texts_to(G1))


async def test_without_opt_in_nobody_is_nudged(h):
    await h.say(G1, "张党员", "大家好")
    await h.say(G1, "李四", ABUSE)
    assert nudges(h, "张党员") == []


async def test_second_abusive_message_soon_after_is_not_nudged_again(h):
    await opt_in(h)
    await h.say(G1, "李四", ABUSE)
    await h.advance(minutes=20)
    await h.say(G1, "李四", "滚，这群没你说话的份")
    assert len(nudges(h, "张党员")) == 1
    await h.advance(hours=2)
    await h.say(G1, "李四", "滚，这群没你说话的份")
    assert len(nudges(h, "张党员")) == 2


async def test_escalating_quarrel_without_insults_nudges(h):
    await opt_in(h)
    await h.say(G1, "李四", "关你什么事？？")
    await h.say(G1, "张三", "你凭什么占我车位")
    assert nudges(h, "张党员") == []
    await h.say(G1, "李四", "有本事你去告啊！！")
    assert nudges(h, "张党员")[0].startswith("【文明劝导】") and "争吵" in nudges(h, "张党员")[0]


async def test_the_abusive_party_member_is_not_asked_to_calm_himself(h):
    await opt_in(h)
    await h.say(G1, "张党员", ABUSE)
    assert nudges(h, "张党员") == []
    assert nudges(h, "赵楼长")  # another party member of the compound


async def test_nudge_is_recorded(h):
    await opt_in(h)
    await h.say(G1, "李四", ABUSE)
    async with h.session() as s:
        [event] = (await s.execute(select(Event).where(Event.action == "civility_nudge"))).scalars().all()
    assert event.subject_kind == "group" and event.note == "abusive" and event.data["told"]


async def test_angry_complaint_is_not_a_civility_matter(h):
    await opt_in(h)
    await h.say(G1, "李四", "物业到底是干什么吃的，水管漏了三天没人来")
    assert nudges(h, "张党员") == []
