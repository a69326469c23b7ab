"""Micro-wishes through chat: post, claim (and its race), privacy, progress, done, confirm, give up."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.models import Person
from bot.models.members import ServicePoint
from bot.models.wishes import Wish, WishClaim
from bot.roles import Roles
from bot.services import Actor, Deps, ServiceError
from bot.services import wishes as W
from bot.transports.base import Incoming

G = "阳光花园业主1群"
PHONE = "13812345678"
WISH = f"微心愿 家里轮椅刹车坏了，想找人帮忙修一下，住2号楼1单元101，电话{PHONE}"


async def _wish(h, **changes) -> Wish:
    async with h.session() as session:
        return (await session.execute(select(Wish).order_by(Wish.id.desc()))).scalars().first()


async def _post(h, text: str = WISH, sender: str = "王奶奶") -> None:
    await h.say(G, sender, text)
    h.new_sent()


async def test_resident_posts_wish_and_group_sees_only_the_summary(h):
    await h.say(G, "王奶奶", WISH)
    group = h.texts_to(G)
    assert len(group) == 1 and "W1" in group[0] and "轮椅" in group[0]
    assert PHONE not in group[0] and "138****5678" not in group[0] and "101" not in group[0]
    wish = await _wish(h)
    assert wish.contact_phone == PHONE and wish.address == "2号楼1单元101" and wish.building == "2"


async def test_secretary_is_told_privately_with_the_details(h):
    await h.say(G, "王奶奶", WISH)
    to_secretary = h.texts_to("李书记")
    assert any("新微心愿" in t and PHONE in t and "2号楼1单元101" in t for t in to_secretary)


async def test_claimer_gets_private_details_and_group_does_not(h):
    await _post(h)
    await h.say(G, "张党员", "认领 W1")
    sent = h.new_sent()
    group = [s.text for s in sent if s.group == G]
    private = [s.text for s in sent if s.person == "张党员"]
    assert any("张党员认领了微心愿 W1" in t for t in group)
    assert all(PHONE not in t and "1单元101" not in t for t in group)
    assert any(PHONE in t and "2号楼1单元101" in t for t in private)


async def test_wisher_is_told_who_will_help_in_plain_words(h):
    await _post(h)
    await h.say(G, "张党员", "认领 W1")
    told = [s.text for s in h.new_sent() if s.person == "王奶奶"]
    assert len(told) == 1
    assert "张党员" in told[0] and "您好" in told[0] and "帮您" in told[0]
    assert "W1" not in told[0] and "认领" not in told[0]


async def test_non_member_claim_is_refused_with_an_explanation(h):
    await _post(h)
    await h.say(G, "李四", "认领 W1")
    reply = h.texts_to(G)[-1]
    assert "党员或志愿者" in reply and "亮身份" in reply
    async with h.session() as session:
        assert (await session.execute(select(WishClaim))).scalars().all() == []
        assert (await session.get(Wish, 1)).state == "open"


async def test_apply_approve_then_claim(h):
    await _post(h)
    await h.say(G, "李四", "亮身份 党员 3号楼1单元")
    assert any("R1" in t for t in h.texts_to("李书记"))
    await h.say(G, "李四", "认领 W1")
    assert "等支部书记确认" in h.texts_to(G)[-1]
    await h.dm("李书记", "同意 R1")
    assert any("申请已通过" in t for t in h.texts_to("李四"))
    h.new_sent()
    await h.say(G, "李四", "认领 W1")
    assert any("李四认领了微心愿 W1" in s.text for s in h.new_sent() if s.group == G)
    async with h.session() as session:
        wish = await session.get(Wish, 1)
        assert wish.state == "claimed" and wish.claimer_count == 1


def _incoming(h, sender_id: str, name: str, text: str, chat_id: str, n: int) -> Incoming:
    return Incoming(account=h.transport.account, message_id=f"race-{n}", sender_id=sender_id, sender_name=name,
                    text=text, sent_at=h.now, chat_id=chat_id, chat_topic=G)


async def test_two_members_racing_for_one_wish_exactly_one_wins_and_the_other_is_told(h):
    await _post(h)
    chat = await h.group_id(G)
    a = _incoming(h, await h.person_id("张党员"), "张党员", "认领 W1", chat, 1)
    b = _incoming(h, await h.person_id("赵楼长"), "赵楼长", "认领 W1", chat, 2)
    await asyncio.gather(h.bot.on_message(a), h.bot.on_message(b))
    await h.drain()
    group = h.texts_to(G)
    wins = [t for t in group if "认领了微心愿 W1" in t]
    losses = [t for t in group if "慢了一步" in t]
    assert len(wins) == 1 and len(losses) == 1
    winner = "张党员" if "张党员认领" in wins[0] else "赵楼长"
    assert winner in losses[0]
    async with h.session() as session:
        claims = (await session.execute(select(WishClaim))).scalars().all()
        assert len(claims) == 1 and (await session.get(Wish, 1)).claimer_count == 1


async def _actor(session, name: str, org) -> Actor:  # noqa: ANN001
    person = (await session.execute(select(Person).where(Person.name == name))).scalar_one()
    return Actor(name=name, roles=Roles.from_rows(person.roles, org.community_of), person_id=person.id)


async def test_claim_race_is_decided_by_the_conditional_update_not_by_the_earlier_read(h):
    await _post(h)
    app = h.bot
    both_saw_it_open, first_committed = asyncio.Barrier(2), asyncio.Event()

    async def claimant(name: str, first: bool) -> None:  # one message's handling, on its own task
        async with h.session() as session:
            deps = Deps(session, app.clock, app.outbox, app.org, app.settings)
            actor = await _actor(session, name, app.org)
            assert (await session.get(Wish, 1)).state == "open"
            await both_saw_it_open.wait()
            if first:
                await W.claim(deps, actor, 1)
                await session.commit()
                first_committed.set()
                return
            await first_committed.wait()
            with pytest.raises(ServiceError, match="慢了一步"):
                await W.claim(deps, actor, 1)
            await session.rollback()

    await asyncio.gather(claimant("张党员", True), claimant("赵楼长", False))
    async with h.session() as session:
        assert (await session.get(Wish, 1)).claimer_count == 1


async def test_team_wish_takes_up_to_max_claimers(h):
    await _post(h, "微心愿 帮忙搬一个旧衣柜下楼 人数：2")
    await h.say(G, "张党员", "认领 W1")
    assert "还差1人" in h.texts_to(G)[-1]
    await h.say(G, "赵楼长", "认领 W1")
    await h.say(G, "李书记", "认领 W1")
    assert "慢了一步" in h.texts_to(G)[-1]
    async with h.session() as session:
        wish = await session.get(Wish, 1)
        assert wish.state == "claimed" and wish.claimer_count == 2


async def test_claimer_cannot_claim_twice_and_wisher_cannot_claim_own_wish(h):
    await _post(h, "微心愿 想请人教我用手机视频", sender="张党员")
    await h.say(G, "张党员", "认领 W1")
    assert "自己的心愿" in h.texts_to(G)[-1]
    await h.say(G, "赵楼长", "认领 W1")
    await h.say(G, "赵楼长", "认领 W1")
    assert "已经认领了" in h.texts_to(G)[-1]


async def test_progress_is_passed_on_to_the_wisher(h):
    await _post(h)
    await h.dm("张党员", "认领 W1")
    await h.dm("张党员", "心愿进度 W1 已电话联系，周六上午上门")
    assert "周六上午上门" in h.texts_to("王奶奶")[-1]
    assert h.texts_to("张党员")[-1] == "已记下进展，也告诉了对方。"


async def test_done_then_wisher_confirms_and_member_gets_points(h):
    await _post(h)
    await h.dm("张党员", "认领 W1")
    await h.dm("张党员", "完成 W1 已换好刹车")
    ask = h.texts_to("王奶奶")[-1]
    assert "办好了" in ask and "确认 W1" in ask
    await h.dm("王奶奶", "确认")
    assert "谢谢您的确认" in h.texts_to("王奶奶")[-1]
    assert "+10分" in h.texts_to("张党员")[-1]
    async with h.session() as session:
        assert (await session.get(Wish, 1)).state == "confirmed"
        points = (await session.execute(select(ServicePoint))).scalars().all()
        assert [(p.kind, p.points) for p in points] == [("wish", 10)]
    assert not any("微心愿实现" in t for t in h.texts_to(G))  # no public thanks unless the wisher agrees


async def test_confirm_with_public_thanks_posts_in_the_group(h):
    await _post(h)
    await h.dm("张党员", "认领 W1")
    await h.dm("张党员", "完成 W1")
    await h.dm("王奶奶", "确认 W1 公开")
    thanks = [t for t in h.texts_to(G) if "微心愿实现" in t]
    assert len(thanks) == 1 and "张党员" in thanks[0] and PHONE not in thanks[0]


async def test_a_second_confirmation_credits_nothing_more(h):
    await _post(h)
    await h.dm("张党员", "认领 W1")
    await h.dm("张党员", "完成 W1")
    await h.dm("王奶奶", "确认 W1")
    await h.dm("李书记", "确认 W1")
    assert "已实现" in h.texts_to("李书记")[-1]
    async with h.session() as session:
        assert len((await session.execute(select(ServicePoint))).scalars().all()) == 1


async def test_bare_confirm_is_left_to_others_when_no_wish_waits(h):
    await _post(h)
    await h.dm("张党员", "认领 W1")
    await h.dm("张党员", "完成 W1")
    await h.dm("李四", "确认")
    assert "只有发这个心愿" not in h.texts_to("李四")[-1] and "谢谢您的确认" not in h.texts_to("李四")[-1]
    async with h.session() as session:
        assert (await session.get(Wish, 1)).state == "done"
    await h.dm("王奶奶", "确认心愿 W1")
    assert "谢谢您的确认" in h.texts_to("王奶奶")[-1]


async def test_not_done_goes_back_to_the_claimer(h):
    await _post(h)
    await h.dm("张党员", "认领 W1")
    await h.dm("张党员", "完成 W1")
    await h.dm("王奶奶", "没办好 W1 刹车还是松的")
    assert "刹车还是松的" in h.texts_to("张党员")[-1]
    async with h.session() as session:
        assert (await session.get(Wish, 1)).state == "claimed"
    await h.dm("张党员", "完成 W1 重新调好了")
    assert "办好了" in h.texts_to("王奶奶")[-1]


async def test_give_up_returns_the_wish_and_tells_the_wisher(h):
    await _post(h)
    await h.dm("张党员", "认领 W1")
    h.new_sent()
    await h.dm("张党员", "放弃 W1 临时出差")
    assert "回到了待认领列表" in h.texts_to("张党员")[-1]
    told = h.texts_to("王奶奶")[-1]
    assert "另找人" in told and "W1" not in told
    async with h.session() as session:
        wish = await session.get(Wish, 1)
        assert wish.state == "open" and wish.claimer_count == 0
    await h.dm("赵楼长", "认领 W1")
    assert "您认领了微心愿 W1" in h.texts_to("赵楼长")[-1]


async def test_others_cannot_confirm_or_progress_someone_elses_wish(h):
    await _post(h)
    await h.dm("张党员", "认领 W1")
    await h.dm("赵楼长", "完成 W1")
    assert "没有在办" in h.texts_to("赵楼长")[-1]
    await h.dm("张党员", "完成 W1")
    await h.dm("李四", "确认 W1")
    assert "只有发这个心愿的人或支部书记" in h.texts_to("李四")[-1]


async def test_social_worker_posts_on_behalf_and_relays_news(h):
    await h.dm("刘社工", "代发心愿 孙大爷 想找人帮忙理发 地址：5号楼1单元202 电话：13900001111")
    assert "已替孙大爷登记微心愿" in h.texts_to("刘社工")[-1]
    await h.dm("张党员", "认领 W1")
    relay = h.texts_to("刘社工")[-1]
    assert "孙大爷" in relay and "张党员" in relay and "转告" in relay
    assert "13900001111" in h.texts_to("张党员")[-1] and "孙大爷" in h.texts_to("张党员")[-1]
    await h.dm("张党员", "完成 W1")
    await h.dm("刘社工", "确认 W1")
    async with h.session() as session:
        assert (await session.get(Wish, 1)).state == "confirmed"


async def test_resident_cannot_post_on_behalf(h):
    await h.dm("李四", "代发心愿 孙大爷 想找人帮忙理发")
    assert "需要" in h.texts_to("李四")[-1]
    async with h.session() as session:
        assert (await session.execute(select(Wish))).scalars().all() == []


async def test_listing_filters_by_building_and_shows_no_private_details(h):
    await _post(h)
    await _post(h, "微心愿 想请人帮忙换个灯泡 3号楼2单元601", sender="李四")
    await h.say(G, "张党员", "心愿")
    listing = h.texts_to(G)[-1]
    assert "W1" in listing and "W2" in listing and PHONE not in listing and "601" not in listing
    await h.say(G, "张党员", "心愿 3号楼")
    listing = h.texts_to(G)[-1]
    assert "W2" in listing and "W1" not in listing


async def test_wish_detail_private_part_only_for_those_who_may_see_it(h):
    await _post(h)
    await h.dm("李四", "心愿 W1")
    assert PHONE not in h.texts_to("李四")[-1]
    await h.dm("李书记", "心愿 W1")
    assert PHONE in h.texts_to("李书记")[-1]


async def test_private_details_added_later_reach_the_claimer(h):
    await _post(h, "微心愿 想请人帮忙修轮椅")
    await h.dm("张党员", "认领 W1")
    await h.dm("王奶奶", "心愿补充 W1 住2号楼1单元101，电话13812345678")
    assert PHONE in h.texts_to("张党员")[-1]
    assert "只有认领的党员和支部书记能看到" in h.texts_to("王奶奶")[-1]


async def test_cancelled_wish_tells_its_claimer(h):
    await _post(h)
    await h.dm("张党员", "认领 W1")
    await h.dm("王奶奶", "取消心愿 W1")
    assert "已经撤回" in h.texts_to("张党员")[-1]
    await h.dm("赵楼长", "认领 W1")
    assert "已撤回" in h.texts_to("赵楼长")[-1]


@pytest.mark.parametrize("text, expected", [
    ("微心愿", "用法"),
    ("认领", "用法"),
    ("认领 abc", "用法"),
    ("认领 W999", "没有找到微心愿 W999"),
    ("认领 Ｗ９９９", "没有找到微心愿 W999"),
    ("心愿进度", "用法"),
    ("确认心愿", "用法"),
    ("代发心愿 王奶奶", "用法"),
    ("微心愿 修轮椅：" + "情况" * 600, "太长"),
    ("微心愿 修轮椅 截止：13月40日", "截止日期看不懂"),
    ("微心愿 修轮椅 人数：很多", "人数"),
])
async def test_malformed_wish_commands_are_answered_with_usage(h, text, expected):
    await h.dm("刘社工", text)
    assert expected in h.texts_to("刘社工")[-1]


async def test_a_helper_cannot_confirm_their_own_work(h):
    await h.dm("赵楼长", "代发心愿 孙大爷 想找人帮忙理发")
    await h.dm("赵楼长", "认领 W1")
    await h.dm("赵楼长", "完成 W1")
    assert any("确认 W1" in t for t in h.texts_to("李书记"))  # the branch is asked instead
    await h.dm("赵楼长", "确认 W1")
    assert "请由对方或支部书记来确认" in h.texts_to("赵楼长")[-1]
    await h.dm("李书记", "确认 W1")
    assert "+10分" in h.texts_to("赵楼长")[-1]


@pytest.mark.parametrize("text", ["#微心愿 想找人帮忙修轮椅", "＃微心愿 想找人帮忙修轮椅", "发心愿 想找人帮忙修轮椅"])
async def test_hash_tagged_wish_is_posted(h, text):
    await h.say(G, "王奶奶", text)
    assert "已登记微心愿：W1 想找人帮忙修轮椅" in h.texts_to(G)[-1]


async def test_every_state_change_is_an_event(h):
    from bot.models import Event

    await _post(h)
    await h.dm("张党员", "认领 W1")
    await h.dm("张党员", "放弃 W1")
    await h.dm("赵楼长", "认领 W1")
    await h.dm("赵楼长", "完成 W1")
    await h.dm("王奶奶", "没办好 W1 还没修")
    await h.dm("赵楼长", "完成 W1")
    await h.dm("王奶奶", "确认 W1")
    async with h.session() as session:
        rows = (await session.execute(select(Event).where(Event.subject_kind == "wish", Event.subject_id == 1)
                                      .order_by(Event.id))).scalars().all()
    assert [(e.action, e.from_state, e.to_state) for e in rows] == [
        ("posted", None, "open"), ("claimed", "open", "claimed"), ("gave_up", "claimed", "open"),
        ("claimed", "open", "claimed"), ("done", "claimed", "done"), ("not_done", "done", "claimed"),
        ("done", "claimed", "done"), ("confirmed", "done", "confirmed"),
    ]
    assert all(e.actor_person_id for e in rows)
