"""A new ticket reads everything it needs (reporter, secretaries, group) before its first write:
from the ticket number on the session holds SQLite's one write lock, and every read inside
would keep the other messages waiting. Few statements, one commit per report."""
from __future__ import annotations

from sqlalchemy import event

G1 = "阳光花园业主1群"
URGENT = "5号楼电梯困人了，里面有老人，快来人！"


def watch(h) -> list[str]:
    seen: list[str] = []
    engine = h.bot.engine.sync_engine
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: seen.append(" ".join(statement.split())[:60]))
    event.listen(engine, "commit", lambda _c: seen.append("COMMIT"))
    return seen


WRITES = ("INSERT", "UPDATE", "DELETE")


def report_transaction(seen: list[str]) -> tuple[list[str], list[str]]:
    """The statements of the session that numbered the ticket: (reads before its first write,
    statements from the first write to the commit)."""
    numbered = next(i for i, s in enumerate(seen) if s.startswith("INSERT INTO ticket_counters"))
    began = max(i for i in range(numbered) if seen[i] == "COMMIT") + 1  # the stored message's commit
    first_write = next(i for i in range(began, numbered + 1) if seen[i].startswith(WRITES))
    return seen[began:first_write], seen[first_write:seen.index("COMMIT", numbered)]


async def test_a_new_ticket_reads_nothing_once_it_has_started_writing(h):
    await h.say(G1, "张三", "早上好")  # the sender and the group are known
    seen = watch(h)
    await h.say(G1, "张三", "3号楼2单元楼道灯坏了好几天了")
    before, written = report_transaction(seen)
    assert not [s for s in written if s.startswith("SELECT")], written
    assert not [s for s in written if s.startswith("UPDATE tickets")], written  # no update of the new row
    # Before it: the open duplicates, then one query for reporter, secretaries and group.
    assert len(before) <= 3, before


async def test_an_urgent_ticket_reads_its_alert_recipients_before_writing(h):
    await h.say(G1, "张三", "早上好")
    seen = watch(h)
    await h.say(G1, "张三", URGENT)
    _before, written = report_transaction(seen)
    assert not [s for s in written if s.startswith("SELECT")], written
