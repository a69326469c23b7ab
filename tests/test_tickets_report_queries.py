"""What a report asks the database: a merge reads the candidate duplicates (only the columns they
are compared by) and whether the sender reported one already in one query, then the one ticket it
joins by its key; an urgent report reads all its alert recipients' roles in one query,
with the fallback to community staff, then district staff, unchanged."""
from __future__ import annotations

from sqlalchemy import delete, event, select

from bot.models import Person, Role, RoleName

G1 = "阳光花园业主1群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"
URGENT = "5号楼电梯困人了！快来人"


def selects(h) -> list[str]:
    seen: list[str] = []

    @event.listens_for(h.bot.engine.sync_engine, "before_cursor_execute")
    def _note(_conn, _cursor, statement, _params, _context, _many):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(" ".join(statement.split()))
    return seen


def reading(seen: list[str], *tables: str) -> list[str]:
    return [s for s in seen if any(f"FROM {t} " in s + " " or f"JOIN {t} " in s for t in tables)]


async def drop_roles(h, *pairs: tuple[str, str]) -> None:
    async with h.session() as s:
        for name, role in pairs:
            person_id = (await s.execute(select(Person.id).where(Person.name == name))).scalar_one()
            await s.execute(delete(Role).where(Role.person_id == person_id, Role.name == role))
        await s.commit()


async def test_merge_and_repeat_read_the_ticket_and_its_reporters_at_once(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "早上好")
    seen = selects(h)
    await h.say(G1, "李四", "3号楼2单元的楼道灯还是不亮，晚上黑乎乎的")
    assert "合并到工单 #0001" in h.texts_to(G1)[-1]
    assert candidates_then_the_one(reading(seen, "tickets", "ticket_reporters")), seen
    seen.clear()
    await h.say(G1, "李四", "3号楼2单元楼道灯坏了怎么还没人管")
    assert "不用重复反映" in h.texts_to(G1)[-1]
    assert candidates_then_the_one(reading(seen, "tickets", "ticket_reporters")), seen


def candidates_then_the_one(reads: list[str]) -> bool:
    """One query for the candidates and the sender's earlier report, one for the ticket by id."""
    return (len(reads) == 2 and "ticket_reporters" in reads[0] and "tickets.id = ?" in reads[1]
            and "ticket_reporters" not in reads[1])


async def test_urgent_report_reads_the_roles_once(h):
    await h.say(G1, "李四", "早上好")
    await drop_roles(h, ("李书记", RoleName.SECRETARY), ("王网格", RoleName.GRID_WORKER),
                     ("陈社区", RoleName.COMMUNITY_STAFF))  # the longest way: district staff
    seen = selects(h)
    await h.say(G1, "李四", URGENT)
    assert [s.person for s in h.sent if s.text.startswith("【紧急】")] == ["区办小韩"]
    # The reporter-and-secretaries query, and one for the four roles (it was one per role: four).
    assert len(reading(seen, "roles")) == 2, reading(seen, "roles")


async def test_urgent_report_without_secretary_or_grid_worker_alerts_community_staff(h):
    await drop_roles(h, ("李书记", RoleName.SECRETARY), ("王网格", RoleName.GRID_WORKER))
    await h.say(G1, "李四", URGENT)
    assert [s.person for s in h.sent if s.text.startswith("【紧急】")] == ["陈社区"]
    assert "正在通知社区工作人员" in h.texts_to(G1)[-1]


async def test_urgent_report_without_community_staff_alerts_district_staff(h):
    await drop_roles(h, ("李书记", RoleName.SECRETARY), ("王网格", RoleName.GRID_WORKER),
                     ("陈社区", RoleName.COMMUNITY_STAFF))
    await h.say(G1, "李四", URGENT)
    assert [s.person for s in h.sent if s.text.startswith("【紧急】")] == ["区办小韩"]
    assert "正在通知社区工作人员" in h.texts_to(G1)[-1]


async def test_urgent_report_with_a_grid_worker_only_alerts_just_them(h):
    await drop_roles(h, ("李书记", RoleName.SECRETARY))
    await h.say(G1, "李四", URGENT)
    assert [s.person for s in h.sent if s.text.startswith("【紧急】")] == ["王网格"]
    assert "正在通知网格员" in h.texts_to(G1)[-1]


async def test_a_complaining_report_from_someone_without_a_wish_does_not_look_for_theirs(h):
    seen = selects(h)
    await h.say(G1, "李四", "4号楼门口的路灯怎么还没人修，都坏了一个星期了")
    assert "工单 #0001" in h.texts_to(G1)[-1]
    # Who has a wish open is known (one read, cached a few seconds): nobody's own wishes are read.
    assert [s for s in reading(seen, "wishes") if "wishes.wisher_person_id = " in s] == []


async def test_a_private_bare_number_reads_the_senders_ticket_compounds_once(h):
    await h.say(G1, "张三", LIGHT)
    seen = selects(h)
    await h.dm("张三", "进度 0001")
    assert "0001" in h.texts_to("张三")[-1]
    # Where they reported and where they handle tickets: one read, not one each.
    assert len([s for s in seen if "tickets.compound_id FROM tickets" in s]) == 1, seen


async def test_the_duplicate_check_reads_the_category_index_without_sorting(h):
    """The candidates of a report come straight from the (compound, category, time) index, newest
    first: not every open ticket of the compound read and sorted, for every report."""
    checks: list[tuple[str, tuple]] = []

    @event.listens_for(h.bot.engine.sync_engine, "before_cursor_execute")
    def _note(_conn, _cursor, statement, params, _context, _many):  # noqa: ANN001
        if "AS mine" in statement:
            checks.append((statement, params))
    await h.say(G1, "张三", LIGHT)
    assert checks
    statement, params = checks[-1]
    async with h.session() as s:
        connection = await s.connection()
        plan = " | ".join(str(row[-1]) for row in (await connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, params)).all())
    assert "ix_tickets_compound_category_created" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
