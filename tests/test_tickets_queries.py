"""The query functions digests, rankings and the dashboard call."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.models import Person, PropertyProject
from bot.roles import Roles
from bot.months import month_bounds
from bot.services import Actor, Deps
from bot.services.rating import standard
from bot.services.rating.complaints import per_project
from bot.services.tickets import corrections, lookup, naming, queries, resolution, rights, stats, workflow

G1 = "阳光花园业主1群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"


def deps(h, session) -> Deps:
    app = h.bot
    return Deps(session, app.clock, app.outbox, app.org, app.settings)


async def actor(h, session, name: str) -> Actor:
    person = (await session.execute(select(Person).where(Person.name == name))).scalars().first()
    return Actor(name=person.name, roles=Roles.from_rows(person.roles, h.bot.org.community_of), person_id=person.id)


async def some_tickets(h) -> None:
    await h.say(G1, "张三", LIGHT)                                 # 0001 property → closed, satisfied
    await h.say(G1, "李四", "5号楼电梯困人了！快来人")                # 0002 elevator, urgent, open
    await h.say(G1, "王奶奶", "2号楼楼下有人半夜唱歌，吵得睡不着")      # 0003 noise → rejected
    await h.say("兰亭水岸邻里群", "路人甲", "8号楼下水道堵了，污水漫出来了")  # 兰亭水岸-0001
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("周经理", "办结 0001 已修")
    await h.say(G1, "张三", "满意")
    await h.dm("李书记", "不是问题 0003")


async def test_list_tickets_is_scoped_to_the_actor(h):
    await some_tickets(h)
    async with h.session() as s:
        d = deps(h, s)
        mine = await queries.list_tickets(d, await actor(h, s, "李书记"))
        everything = await queries.list_tickets(d, rights.SYSTEM, states=None)
        community = await queries.list_tickets(d, await actor(h, s, "陈社区"))
        resident = await queries.list_tickets(d, await actor(h, s, "张三"))
    assert [v.code for v in mine] == ["阳光花园-0002"]
    assert mine[0].urgent and mine[0].category_label == "电梯" and mine[0].state_label == "待受理"
    assert len(everything) == 4
    assert sorted(v.code for v in community) == ["兰亭水岸-0001", "阳光花园-0002"]
    assert resident == []


async def test_ticket_stats_counts_states_categories_and_satisfaction(h):
    await some_tickets(h)
    async with h.session() as s:
        compound = h.bot.org.find("阳光花园").id
        counts = await stats.ticket_stats(s, now=h.now, compound_ids=[compound])
    assert counts.total == 3
    assert counts.by_state == {"closed": 1, "new": 1, "rejected": 1}
    assert counts.by_category == {"property": 1, "elevator": 1}
    assert counts.by_satisfaction == {"satisfied": 1}
    assert (counts.open, counts.urgent, counts.rejected, counts.satisfaction_rate) == (1, 1, 1, 1.0)
    assert counts.avg_resolve_hours is not None


async def test_overdue_tickets_and_timeline(h):
    await some_tickets(h)
    await h.advance(hours=1, step=timedelta(minutes=30))
    async with h.session() as s:
        overdue = await queries.overdue_tickets(s, h.now, [h.bot.org.find("阳光花园").id])
        assert [t.number for t in overdue] == [2]  # the urgent one, unanswered for an hour
        timeline = await queries.ticket_timeline(deps(h, s), overdue[0])
    assert [e.action for e in timeline] == ["created", "urgent_alert", "supervised"]
    assert timeline[0].actor == "李四" and timeline[-1].actor == "系统"


async def test_complaints_per_property_project_and_tickets_by_compound(h):
    await some_tickets(h)
    rule = standard.for_settings(h.bot.settings).complaints
    async with h.session() as s:
        complaints = await per_project(s, rule, *month_bounds("2026-12", h.bot.clock.tz))
        per_compound = await stats.tickets_by_compound(s, "2026-12", h.bot.clock.tz)
        projects = {p.id: p.name for p in (await s.execute(select(PropertyProject))).scalars()}
        november = await per_project(s, rule, *month_bounds("2026-11", h.bot.clock.tz))
    # property + elevator (the rejected noise report does not count); the blocked drain is a complaint too
    assert {projects[pid]: n for pid, n in complaints.items()} == {"阳光花园项目": 2, "兰亭水岸项目": 1}
    assert {h.bot.org.name_of(c): n for c, n in per_compound.items()} == {"阳光花园": 2, "兰亭水岸": 1}
    assert november == {}


async def test_correction_examples_are_training_lines(h):
    await some_tickets(h)
    async with h.session() as s:
        lines = await corrections.correction_examples(s)
        assert [(x["text"], x["is_issue"], x["category"], x["source"]) for x in lines] == [
            ("2号楼楼下有人半夜唱歌，吵得睡不着", False, "none", "correction")]
        await corrections.mark_corrections_used(s, [x["id"] for x in lines], h.now)
        await s.commit()
        assert await corrections.correction_examples(s) == []


async def test_new_tickets_for_digests(h):
    start = h.now
    await some_tickets(h)
    async with h.session() as s:
        compound = h.bot.org.find("阳光花园").id
        found = await queries.new_tickets(s, compound, start)
    assert [t.number for t in found] == [1, 2, 3]


def test_parse_ref_and_rating():
    assert naming.parse_ref("0042") == (None, 42)
    assert naming.parse_ref("#42") == (None, 42)
    assert naming.parse_ref("阳光花园-0042") == ("阳光花园", 42)
    assert naming.parse_ref("abc") is None and naming.parse_ref("0") is None
    assert resolution.parse_rating("满意") == ("satisfied", "")
    assert resolution.parse_rating("基本满意吧") == ("basic", "吧")
    assert resolution.parse_rating("不满意，还是堵") == ("unsatisfied", "还是堵")
    assert resolution.parse_rating("还没修好") == ("unsatisfied", "")
    assert resolution.parse_rating("满意度调查什么时候做") is None
    assert resolution.parse_rating("大家早上好") is None


async def test_cli_exports_corrections_for_nlp_training(h, tmp_path, capsys):
    import argparse

    from handlers import tickets as handlers
    from nlp.corpus import read_jsonl

    await some_tickets(h)
    parser = argparse.ArgumentParser()
    handlers.register_cli(parser.add_subparsers(dest="command"))
    out = tmp_path / "corrections.jsonl"
    args = parser.parse_args(["tickets", "export-corrections", str(out), "--mark-used"])
    assert await args.func(args, h.bot) == 0
    [example] = read_jsonl(out)
    assert example.text == "2号楼楼下有人半夜唱歌，吵得睡不着" and example.is_issue is False
    assert "已导出 1 条" in capsys.readouterr().out
    args = parser.parse_args(["tickets", "export-corrections", str(out)])
    await args.func(args, h.bot)
    assert out.read_text(encoding="utf-8") == ""  # already used


async def test_dashboard_assigns_by_kind_code_as_a_web_user(h):
    await h.say(G1, "张三", LIGHT)
    async with h.session() as s:
        secretary = await actor(h, s, "李书记")
        web = Actor(name="李书记（后台）", roles=secretary.roles, web_user="li")
        d = deps(h, s)
        t = await lookup.find_ticket(d, "阳光花园-0001", [])
        assignee = await workflow.assign(d, web, t, "grid_worker")
        await s.commit()
        [event] = [e for e in await queries.ticket_timeline(d, t) if e.action == "assigned"]
    assert assignee.label == "网格员王网格" and event.actor == "li"
    await h.drain()
    assert "【派单】李书记（后台）" in h.texts_to("王网格")[-1]
