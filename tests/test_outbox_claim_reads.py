"""What the outbox's sender reads: the claim reads the rows it claims (UPDATE … RETURNING), so a
send does not read its row a second time; plain reads skip the ORM's execution path; and a drain
with nothing pending (after chatter, the usual case) is one read."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from test_outbox_delivery import G1, enqueue


@contextmanager
def executed(h) -> Iterator[list[str]]:  # noqa: ANN001
    """The SQL the harness's engine runs while the block runs, whitespace folded."""
    statements: list[str] = []

    def listener(_conn, _cursor, statement, *_args):  # noqa: ANN001, ANN002, ANN202
        statements.append(" ".join(statement.split()))

    engine = h.bot.engine.sync_engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@pytest.mark.asyncio
async def test_a_send_reads_its_row_only_in_the_claim(h):
    await enqueue(h, "明早九点停水，请提前储水")
    with executed(h) as statements:
        await h.drain()
    assert [s.text for s in h.new_sent()] == ["明早九点停水，请提前储水"]
    [claim] = [s for s in statements if s.startswith("UPDATE outbox SET status") and "RETURNING" in s]
    assert " text," in claim.split("RETURNING", 1)[1]  # the whole row comes back with the claim
    assert not [s for s in statements if s.startswith("SELECT") and "WHERE outbox.id IN" in s]
    assert h.texts_to(G1) == ["明早九点停水，请提前储水"]


@pytest.mark.asyncio
async def test_a_sends_plain_reads_skip_the_orms_execution_path(h):
    """Candidates, addresses, platform ids and spacing are column reads on the session's
    connection (bot.db.read); only entity loads and writes take the ORM's path."""
    await enqueue(h, "明早九点停水，请提前储水")
    through_orm: list[str] = []

    def listener(state):  # noqa: ANN001, ANN202
        through_orm.append(" ".join(str(state.statement).split()))

    event.listen(Session, "do_orm_execute", listener)
    try:
        await h.bot.sender.drain()  # the sender alone (the test kit reads names after it)
    finally:
        event.remove(Session, "do_orm_execute", listener)
    assert [s.text for s in h.new_sent()] == ["明早九点停水，请提前储水"]
    assert [s for s in through_orm if s.startswith("SELECT") and "outbox.text" not in s] == []


@pytest.mark.asyncio
async def test_a_drain_with_nothing_pending_is_one_read(h):
    await h.say(G1, "张三", "早上好")
    await h.bot.sender.drain()  # the escalation sweep's turn is taken: it runs every few minutes
    with executed(h) as statements:
        assert await h.bot.sender.drain() == 0
    assert len(statements) == 1 and statements[0].startswith("SELECT outbox.id FROM outbox WHERE outbox.status"), statements
