"""Outbox rows queued in a session are written together, by one INSERT, when it commits.

A report queues two texts (the group's acknowledgement and the secretary's notice), a broadcast
hundreds. Added to the session as ORM objects each would be flushed by the unit of work as an
INSERT … RETURNING of its own (SQLite cannot return generated keys of a multi-row INSERT in
order, so SQLAlchemy does not batch them): on the report path that was a tenth of the CPU. Nothing
needs the new rows' ids, so ``Outbox.enqueue`` keeps the rows it makes here (still transient ORM
objects) and they are written with one executemany:

- when the session commits (after its own flush: a row may name one flushed there), and before
  any ORM statement it runs meanwhile (so a query in the same transaction sees them, as autoflush
  would show added rows). A caller may mark a row (a ticket's announcement is marked with its
  ticket) until then: at once, before its next statement. A plain-column read on the session's
  connection (``bot.db.read``) does not write them first; no such read looks for the rows its
  own session queued;
- once written, the session has writes to commit (``bot.identity.has_writes``), as after a flush;
- a rollback (or closing the session without a commit) drops them, as it drops added objects.

On PostgreSQL the write is announced to the other processes' senders like any new outbox row
(``bot.wakeups``).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from bot.models import OutboxMessage
from bot.wakeups import OUTBOX, announce_now

_QUEUED = "zhibu_outbox_queued"  # Session.info key: rows queued and not yet written
WROTE = "wrote"  # Session.info key: the session wrote something (bot.identity.has_writes reads it)
_INSERT = insert(OutboxMessage.__table__)  # built once: it runs for every reply
# attribute key → column key (the same names today; the mapping keeps it so if one is renamed)
_COLUMN_OF = {attr.key: attr.columns[0].key for attr in inspect(OutboxMessage).column_attrs}


def queue(session: Session, row: OutboxMessage) -> None:
    """Keep ``row`` to be written with the session's other queued rows (see the module doc)."""
    if not session.in_transaction():
        session.begin()  # so that a rollback before the commit ends it, and drops the row
    session.info.setdefault(_QUEUED, []).append(row)


def queued(session: Session) -> bool:
    """Has the session rows queued and not yet written (something to commit)?"""
    return bool(session.info.get(_QUEUED))


def write_queued(session: Session) -> None:
    """Write the session's queued rows now, in its transaction: one executemany per set of
    attributes the rows were given (usually one)."""
    rows = session.info.get(_QUEUED)
    if not rows:
        return
    batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        values = {_COLUMN_OF[key]: value for key, value in vars(row).items() if key in _COLUMN_OF}
        batches.setdefault(tuple(sorted(values)), []).append(values)
    connection = session.connection()
    for batch in batches.values():
        connection.execute(_INSERT, batch)  # columns not given take their defaults, as in a flush
    del session.info[_QUEUED]  # only once written: a failed INSERT leaves them queued
    session.info[WROTE] = True
    announce_now(session, OUTBOX)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    if queued(session):
        session.flush()  # first what the rows may name (the commit's own flush would come after)
        write_queued(session)


@event.listens_for(Session, "do_orm_execute")
def _write_before_a_statement(state: Any) -> None:
    write_queued(state.session)


@event.listens_for(Session, "after_transaction_end")
def _drop_at_rollback(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # committed (written already) or rolled back: nothing stays queued
        session.info.pop(_QUEUED, None)
