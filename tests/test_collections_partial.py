"""Collections that forgive: a partial answer is kept, confirmed, and the missing part asked for."""
from __future__ import annotations

from sqlalchemy import select

from bot.models.notices import CollectionAnswer
from bot.texts import notices as T

SIGNUP = "通知 收集 议事日报名: 楼号 单元 人数 截止 12-05 18:00\n本周六上午9点在党群服务站议事，欢迎报名"
GROUP = "阳光花园业主1群"


async def start(h):  # noqa: ANN001
    await h.dm("李书记", SIGNUP)
    await h.dm("李书记", "确认")
    await h.advance(minutes=1)


async def answers(h):  # noqa: ANN001
    async with h.session() as session:
        return list((await session.execute(select(CollectionAnswer).order_by(CollectionAnswer.id))).scalars())


def partial_prefix(values: str) -> str:
    return T.ANSWER_PARTIAL.split("{missing}")[0].format(title="议事日报名", values=values)


async def test_partial_answer_is_recorded_with_what_it_has(h):
    await start(h)
    await h.say(GROUP, "路人甲", "4栋 1人")
    [answer] = await answers(h)
    assert answer.values == {"楼号": "4", "人数": 1}


async def test_partial_answer_is_confirmed_and_the_missing_part_asked_for(h):
    await start(h)
    await h.say(GROUP, "路人甲", "4栋 1人")
    reply = h.texts_to(GROUP)[-1]
    assert partial_prefix("4号楼 人数1") in reply and "还差单元" in reply
    assert T.ANSWER_ASK.format(example="2单元") in reply


async def test_missing_part_is_suggested_from_the_roster(h):
    await start(h)
    await h.say(GROUP, "张三", "4栋 1人")  # 张三 lives in 4号楼2单元 on the roster
    assert T.ANSWER_ASK_ROSTER.format(hint="2单元") in h.texts_to(GROUP)[-1]


async def test_roster_is_not_suggested_for_another_building(h):
    await start(h)
    await h.say(GROUP, "张三", "5栋 1人")
    reply = h.texts_to(GROUP)[-1]
    assert "名册上" not in reply and "还差单元" in reply


async def test_the_missing_part_completes_the_earlier_answer(h):
    await start(h)
    await h.say(GROUP, "张三", "4栋 1人")
    await h.say(GROUP, "张三", "2单元")
    [answer] = await answers(h)
    assert answer.values == {"楼号": "4", "单元": "2", "人数": 1}
    assert T.ANSWER_UPDATED.format(title="议事日报名", values="4号楼 2单元 人数1") in h.texts_to(GROUP)[-1]


async def test_partial_answer_counts_in_the_tally(h):
    await start(h)
    await h.say(GROUP, "张三", "4栋 1人")
    await h.dm("李书记", "统计 1")
    tally = h.texts_to("李书记")[-1]
    assert "共1条回复，人数合计1" in tally and "· 4号楼：1条，人数1" in tally


async def test_a_report_naming_a_building_is_still_not_an_answer(h):
    await start(h)
    await h.say(GROUP, "张三", "4栋电梯又坏了")
    assert await answers(h) == []


async def test_explicit_signup_with_only_a_head_count_is_kept_and_asked_for_the_place(h):
    await start(h)
    await h.say(GROUP, "路人甲", "报名 我家两口子")
    [answer] = await answers(h)
    assert answer.values == {"人数": 2}
    assert "还差楼号、单元" in h.texts_to(GROUP)[-1]


async def test_tally_says_how_many_answers_still_miss_a_part(h):
    await start(h)
    await h.say(GROUP, "张三", "4栋 1人")
    await h.say(GROUP, "李四", "3号楼1单元 2人")
    await h.dm("李书记", "统计 1")
    assert T.TALLY_INCOMPLETE.format(count=1) in h.texts_to("李书记")[-1]


async def test_answer_to_the_tickets_where_question_is_not_taken_as_a_signup(h):
    await start(h)
    await h.say(GROUP, "路人甲", "楼道灯坏了好几天了，晚上黑漆漆的")  # not on the roster: the ack asks where
    await h.say(GROUP, "路人甲", "4栋")
    assert await answers(h) == []
    async with h.session() as session:
        from bot.models.tickets import Ticket

        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert ticket.building == "4"
