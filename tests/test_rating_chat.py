"""Chat: a secretary's ``评星`` standing and the private ``物业评议`` form."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Event, Person
from bot.models.rating import PropertyReview
from bot.roles import Roles
from bot.services import Actor, Deps
from bot.services.rating import runs, standard
from schedules.context import SYSTEM


async def test_a_secretary_asks_for_the_standing_privately_and_sees_what_would_raise_it(h):
    await h.dm("李书记", "评星")
    [text] = h.texts_to("李书记")
    assert text.startswith("【阳光花园评星】2026年第四季度")
    assert "· 议事机制 0/100" in text and "议事日 0 次 → 本季度至少 1 次" in text
    assert "本期物业评议还没填" in text


async def test_the_standing_recalls_last_periods_approved_result(h):
    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        run = await runs.compute_run(deps, standard.for_settings(h.settings), "2026-Q3", SYSTEM)
        han = (await session.execute(select(Person).where(Person.name == "区办小韩"))).scalars().first()
        han = Actor(name=han.name, roles=Roles.from_rows(han.roles, h.bot.org.community_of), person_id=han.id)
        await runs.review(deps, han, run)
        await runs.approve(deps, han, run)
        await session.commit()
    await h.dm("李书记", "评星")
    assert "\n上期（2026年第三季度）：" in h.texts_to("李书记")[-1]


async def test_the_property_form_filled_in_private_chat_counts_in_the_standing(h):
    await h.dm("李书记", "物业评议 18 18 13 13 9 18 保洁明显改善")
    assert h.texts_to("李书记")[-1] == "已记录阳光花园项目2026年第四季度物业评议：合计89分。发送“评星”查看本小区预估。"
    await h.dm("李书记", "评星")
    text = h.texts_to("李书记")[-1]
    assert "物业93.4分 × 30%" in text and "还没填" not in text          # 0.6 × 89 + 0.4 × 100
    async with h.session() as session:
        review = (await session.execute(select(PropertyReview))).scalar_one()
        [event] = (await session.execute(select(Event).where(Event.subject_kind == "property_review"))).scalars()
    assert review.note == "保洁明显改善" and review.scores["cleaning"] == 13 and event.to_state == "89"


async def test_the_form_without_scores_lists_its_items(h):
    await h.dm("李书记", "物业评议")
    text = h.texts_to("李书记")[-1]
    assert "1. 综合管理与公共收益、收费公开（满分20）" in text and "6. 业主满意度（满分20）" in text


async def test_the_form_asked_again_shows_what_was_already_entered_this_period(h):
    await h.dm("李书记", "物业评议 18 18 13 13 9 18")
    await h.dm("李书记", "物业评议")
    assert "本期已评：18 18 13 13 9 18，合计89分。" in h.texts_to("李书记")[-1]


async def test_a_score_above_an_items_maximum_is_refused(h):
    await h.dm("李书记", "物业评议 18 18 13 13 12 18")
    assert h.texts_to("李书记")[-1] == "“绿化养护”最多 10 分，您填了 12 分。"
    async with h.session() as session:
        assert (await session.execute(select(PropertyReview))).first() is None


async def test_a_resident_cannot_ask_for_a_standing(h):
    await h.dm("张三", "评星")
    assert "评星" in h.texts_to("张三")[-1] and "【阳光花园评星】" not in h.texts_to("张三")[-1]


async def test_the_standing_is_not_given_in_a_group(h):
    await h.say("阳光花园业主1群", "李书记", "评星")
    assert not any("【阳光花园评星】" in s.text for s in h.sent)
