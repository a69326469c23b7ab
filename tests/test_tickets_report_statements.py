"""A report's fixed-shape statements (its open duplicates, its audience, the ticket number) are
built once and reused: building a SQLAlchemy statement costs more CPU than SQLite takes to run
it, and a report ran three of them per message."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

G1 = "阳光花园业主1群"


def statements(h) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    @event.listens_for(h.bot.engine.sync_engine, "before_execute")
    def _note(_conn, clauseelement, *_args):  # noqa: ANN001
        seen.append((type(clauseelement).__name__, clauseelement))
    return seen


def built(seen: list[tuple[str, object]]) -> dict[str, int]:
    """Statement kind and what it reads or writes → identity of the object executed."""
    found = {}
    for kind, statement in seen:
        text = " ".join(str(statement).split())
        for key, marker in (("duplicates", "FROM tickets WHERE"), ("audience", "FROM people WHERE"),
                            ("number", "INSERT INTO ticket_counters")):
            if marker in text:
                # (the ORM hands an INSERT on as an annotated copy of the statement it was given)
                found[key] = id(statement._deannotate())
    return found


async def test_two_reports_run_the_same_statement_objects(h):
    await h.say(G1, "张三", "早上好")  # the sender and the group are known
    seen = statements(h)
    await h.say(G1, "张三", "3号楼2单元楼道灯坏了好几天了")
    first = built(seen)
    seen.clear()
    await h.say(G1, "张三", "5号楼门口的垃圾好几天没人清运了，味道很大")
    second = built(seen)
    assert set(first) == {"duplicates", "audience", "number"}, first
    assert first == second, {k: first[k] == second[k] for k in first}


async def test_the_audience_and_the_ticket_number_skip_the_orms_execution_path(h):
    """Plain reads and the counter's upsert run on the session's connection (bot.db.read): the
    ORM's path costs several times the statement itself and adds nothing to them."""
    await h.say(G1, "张三", "早上好")
    through_orm: list[str] = []

    @event.listens_for(Session, "do_orm_execute")
    def _orm(state):  # noqa: ANN001
        through_orm.append(" ".join(str(state.statement).split()))

    try:
        await h.say(G1, "张三", "3号楼2单元楼道灯坏了好几天了")
    finally:
        event.remove(Session, "do_orm_execute", _orm)
    assert "工单 #0001" in h.texts_to(G1)[-1]
    assert [s for s in through_orm if "ticket_counters" in s or "FROM people WHERE" in s] == []
