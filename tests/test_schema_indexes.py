"""Indexes the queries and the database's own work need, checked on the models (the migrations
match them: tests/test_migrations.py)."""
from __future__ import annotations

from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint, event

import bot.models  # noqa: F401  (every table registered)
import bot.models.schedules  # noqa: F401
from bot.models.base import Base

G1 = "阳光花园业主1群"


def leading_columns(table) -> set[str]:  # noqa: ANN001
    """The columns an index (or a unique constraint, or the key) of ``table`` starts with."""
    firsts = {next(iter(index.columns)).name for index in table.indexes}
    return firsts | {next(iter(c.columns)).name for c in table.constraints
                     if isinstance(c, (UniqueConstraint, PrimaryKeyConstraint)) and c.columns}


def test_every_foreign_key_with_an_on_delete_action_has_an_index():
    """The database follows such a key on every delete of the row it points to (the chatter purge
    deletes inbound messages by the thousand): without an index each delete scans the table."""
    missing = [f"{table.name}.{fk.parent.name}" for table in Base.metadata.sorted_tables
               for fk in table.foreign_keys if fk.ondelete and fk.parent.name not in leading_columns(table)]
    assert not missing, missing


async def test_a_private_text_finds_its_recipient_by_person_and_account(h):
    """The sender reads the recipients' contacts by person and account, not every contact of the
    account (the account's index alone made SQLite read all of them for each batch)."""
    lookups: list[tuple[str, tuple]] = []

    @event.listens_for(h.bot.engine.sync_engine, "before_cursor_execute")
    def _note(_conn, _cursor, statement, params, _context, _many):  # noqa: ANN001
        if "FROM identities WHERE identities.person_id IN" in " ".join(statement.split()):
            lookups.append((statement, params))
    await h.say(G1, "张三", "5号楼电梯困人了！快来人")  # the secretary and the grid worker are told privately
    assert any(statement.count("?") >= 3 for statement, _params in lookups), [p for _s, p in lookups]  # several at once
    async with h.session() as s:
        connection = await s.connection()
        for statement, params in list(lookups):  # (the EXPLAINs below are noted too)
            plan = " | ".join(str(row[-1]) for row in (await connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, params)).all())
            assert "ix_identities_person_account" in plan, plan
