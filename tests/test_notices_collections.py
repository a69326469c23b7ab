"""Collections (统计/接龙): parse, confirm, correct, tally, remind, close, export."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.models.notices import CollectionAnswer
from bot.services import ServiceError
from bot.services.collections import parse_answer, parse_spec
from test_digests_statements import statements

FIELDS = ("楼号", "单元", "人数")
SIGNUP = "通知 收集 议事日报名: 楼号 单元 人数 截止 12-05 18:00\n本周六上午9点在党群服务站议事，欢迎报名"


async def start(h):  # noqa: ANN001
    await h.dm("李书记", SIGNUP)
    await h.dm("李书记", "确认")
    await h.advance(minutes=1)


async def answers(h):  # noqa: ANN001
    async with h.session() as session:
        return list((await session.execute(select(CollectionAnswer).order_by(CollectionAnswer.id))).scalars())


@pytest.mark.parametrize("text, expected", [
    ("3号楼2单元 2人", {"楼号": "3", "单元": "2", "人数": 2}),
    ("3栋2单元，2位", {"楼号": "3", "单元": "2", "人数": 2}),
    ("三号楼二单元 两人", {"楼号": "3", "单元": "2", "人数": 2}),
    ("3-2 1人", {"楼号": "3", "单元": "2", "人数": 1}),
    ("３号楼２单元　３人", {"楼号": "3", "单元": "2", "人数": 3}),
    ("报名 5号楼1单元，1", {"楼号": "5", "单元": "1", "人数": 1}),
    ("3#楼2单元 2人", {"楼号": "3", "单元": "2", "人数": 2}),
    ("3座2单元 2人", {"楼号": "3", "单元": "2", "人数": 2}),
    ("3楼2单元 2人", {"楼号": "3", "单元": "2", "人数": 2}),
])
def test_free_form_answers_are_parsed(text, expected):
    assert parse_answer(FIELDS, text) == expected


@pytest.mark.parametrize("text", ["3号楼电梯坏了", "大家好", "2单元门口有垃圾", "明天几点开始？"])
def test_ordinary_messages_are_not_answers(text):
    assert parse_answer(FIELDS, text) is None


def test_spec_reads_title_fields_deadline_and_description():
    now = datetime(2026, 12, 1, 9, 0).astimezone()
    spec = parse_spec("议事日报名: 楼号 单元 人数 截止 12-05 18:00\n说明一行", now)
    assert spec.title == "议事日报名" and spec.fields == FIELDS and spec.description == "说明一行"
    assert spec.deadline.astimezone(now.tzinfo).strftime("%m-%d %H:%M") == "12-05 18:00"


def test_spec_without_fields_is_refused():
    with pytest.raises(ServiceError):
        parse_spec("议事日报名 截止 12-05 18:00", datetime(2026, 12, 1, 9, 0).astimezone())


def test_a_past_deadline_of_another_year_is_told_with_its_year():
    with pytest.raises(ServiceError) as refused:
        parse_spec("报名: 楼号 人数 截止 2025-12-05 18:00", datetime(2026, 12, 1, 9, 0).astimezone())
    assert "2025年12月5日 18:00" in str(refused.value)


async def test_answer_in_the_group_is_confirmed_with_a_mention(h):
    await start(h)
    await h.say("阳光花园业主1群", "张三", "3号楼2单元 2人")
    last = h.sent[-1]
    assert last.group == "阳光花园业主1群" and "已登记（议事日报名）：3号楼 2单元 人数2" in last.text
    assert last.mentions == ("张三",)


async def test_second_answer_from_the_same_person_replaces_the_first(h):
    await start(h)
    await h.say("阳光花园业主1群", "张三", "3号楼2单元 2人")
    await h.say("阳光花园业主1群", "张三", "4号楼2单元 3人")
    assert "已更新" in h.texts_to("阳光花园业主1群")[-1]
    rows = await answers(h)
    assert len(rows) == 1 and rows[0].values == {"楼号": "4", "单元": "2", "人数": 3} and rows[0].revisions == 2


async def test_private_answer_counts_for_the_residents_compound(h):
    await start(h)
    await h.dm("王奶奶", "2号楼1单元 1人")
    assert "已登记" in h.texts_to("王奶奶")[-1]
    assert (await answers(h))[0].group_id is None


async def test_a_problem_report_is_not_taken_as_an_answer(h):
    await start(h)
    await h.say("阳光花园业主1群", "张三", "3号楼电梯又坏了")
    assert await answers(h) == []
    assert not any("（议事日报名）" in t for t in h.texts_to("阳光花园业主1群"))


async def test_explicit_signup_in_a_wrong_format_gets_the_format(h):
    await start(h)
    await h.say("阳光花园业主1群", "张三", "报名 我家参加")
    assert "请按格式回复：楼号 单元 人数" in h.texts_to("阳光花园业主1群")[-1]


async def test_tally_is_per_building_with_totals_and_silent_groups(h):
    await start(h)
    await h.say("阳光花园业主1群", "张三", "3号楼2单元 2人")
    await h.say("阳光花园业主1群", "李四", "3号楼1单元 1人")
    await h.say("阳光花园业主1群", "王奶奶", "10号楼1单元 4人")
    await h.dm("李书记", "统计 1")
    tally = h.texts_to("李书记")[-1]
    assert "共3条回复，人数合计7" in tally
    assert "· 3号楼：2条，人数3" in tally and "· 10号楼：1条，人数4" in tally
    assert tally.index("3号楼") < tally.index("10号楼")
    assert "未回复的群：阳光花园业主2群" in tally


async def test_silent_groups_get_one_reminder_before_the_deadline(h):
    await start(h)
    await h.say("阳光花园业主1群", "张三", "3号楼2单元 2人")
    h.clock.set(datetime(2026, 12, 5, 15, 55).replace(tzinfo=h.clock.tz))
    await h.advance(minutes=10)
    reminders = [s for s in h.sent if s.text.startswith("【提醒】")]
    assert [s.group for s in reminders] == ["阳光花园业主2群"]
    await h.advance(hours=1, step=timedelta(minutes=5))
    assert len([s for s in h.sent if s.text.startswith("【提醒】")]) == 1


async def test_at_the_deadline_the_author_gets_the_tally_and_late_answers_are_refused(h):
    await start(h)
    await h.say("阳光花园业主1群", "张三", "3号楼2单元 2人")
    h.clock.set(datetime(2026, 12, 5, 17, 58).replace(tzinfo=h.clock.tz))
    await h.advance(minutes=5)
    final = h.texts_to("李书记")[-1]
    assert "已截止" in final and "人数合计2" in final
    await h.say("阳光花园业主2群", "李四", "3号楼1单元 1人")
    assert "已于" in h.texts_to("阳光花园业主2群")[-1]
    assert len(await answers(h)) == 1


async def test_export_is_an_xlsx_with_every_answer(h):
    from bot.services import Deps
    from bot.services.collections import export_xlsx

    await start(h)
    await h.say("阳光花园业主1群", "张三", "3号楼2单元 2人")
    await h.dm("王奶奶", "2号楼1单元 1人")
    async with h.session() as session:
        deps = Deps(session, h.clock, h.bot.outbox, h.bot.org, h.settings)
        from bot.models import Person
        from bot.roles import Roles

        li = (await session.execute(select(Person).where(Person.name == "李书记"))).scalar_one()
        from bot.services import Actor

        actor = Actor(li.name, Roles.from_rows(li.roles, h.bot.org.community_of), li.id)
        data = await export_xlsx(deps, actor, 1)
    book = load_workbook(io.BytesIO(data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:5] == ("序号", "姓名", "楼号", "单元", "人数")
    assert rows[1][1:5] == ("张三", "3", "2", 2) and rows[2][5] == "私聊"
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert summary[-1] == ("合计", 2, 3)


async def test_tally_without_a_collection_explains_how_to_start_one(h):
    await h.dm("李书记", "统计")
    assert "收集用法" in h.texts_to("李书记")[-1]


async def test_collection_deadline_in_the_past_is_refused(h):
    await h.dm("李书记", "通知 收集 报名: 楼号 人数 截止 11-30 18:00")
    assert "已经过去" in h.texts_to("李书记")[-1]


async def test_a_late_answer_is_recognised_from_one_read_of_the_collections(h):
    await start(h)
    h.clock.set(datetime(2026, 12, 5, 17, 58).replace(tzinfo=h.clock.tz))
    await h.advance(minutes=5)
    with statements(h) as seen:
        await h.say("阳光花园业主2群", "李四", "3号楼1单元 1人")
    assert "已于" in h.texts_to("阳光花园业主2群")[-1]
    # Open and recently closed collections come from the same read, not one read each.
    assert len([sql for sql, _ in seen if sql.startswith("SELECT collections.id, collections.")]) == 1
