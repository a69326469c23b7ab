"""Test helper: the INSERTs into one table a harness's engine executes while a block runs, each as
(compiled form taken from SQLAlchemy's cache?, number of placeholders)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine.default import CacheStats


@contextmanager
def inserts_into(h, table: str) -> Iterator[list[tuple[bool, int]]]:  # noqa: ANN001
    seen: list[tuple[bool, int]] = []

    def listener(_conn, _cursor, statement, _parameters, context, _many):  # noqa: ANN001, ANN202
        if statement.startswith(f"INSERT INTO {table}"):
            seen.append((context.cache_hit == CacheStats.CACHE_HIT, statement.count("?")))

    engine = h.bot.engine.sync_engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)
