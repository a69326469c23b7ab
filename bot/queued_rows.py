"""Rows that nothing reads back by id (outbox texts, audit events, a ticket's reporters) are
queued in the session and written together, one INSERT per kind, when it commits.

A report queues two texts (the group's acknowledgement and the secretary's notice) and an event,
a broadcast hundreds of texts. Added to the session as ORM objects each would be flushed by the
unit of work as an INSERT … RETURNING of its own (SQLite cannot return generated keys of a
multi-row INSERT in order, so SQLAlchemy does not batch them): on the report path that was a
tenth of the CPU. Nothing needs these rows' ids, so ``Outbox.enqueue`` and
``bot.audit.record_event`` keep the rows they make here (still transient ORM objects) and they
are written with one executemany per kind:

- when the session commits (after its own flush: a row may name one flushed there), and before
  any statement it runs meanwhile, ORM or ``bot.db.read`` (so a query in the same transaction
  sees them, as autoflush would show added rows). A caller may change a row (a ticket's
  announcement is marked with its ticket) until then: at once, before its next statement;
- once written, the session has writes to commit (``bot.identity.has_writes``), as after a flush;
- a rollback (or closing the session without a commit) drops them, as it drops added objects.

On PostgreSQL new outbox rows are announced to the other processes' senders (``bot.wakeups``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.models import Event, OutboxMessage
from bot.models.tickets import TicketReporter
from bot.wakeups import OUTBOX, announce_now

_QUEUED = "zhibu_rows_queued"  # Session.info key: rows queued and not yet written
WROTE = "wrote"  # Session.info key: the session wrote something (bot.identity.has_writes reads it)


@dataclass(frozen=True, eq=False)  # hashed by identity: one per model
class _Kind:
    insert: Any  # built once: it runs for every reply and every step of a case
    column_of: dict[str, str]  # attribute key → column key (the same names today)
    announce: str | None  # the bot.wakeups channel new rows wake, if any


def _kind(model: type, announce: str | None = None) -> _Kind:
    columns = {attr.key: attr.columns[0].key for attr in inspect(model).column_attrs}
    return _Kind(insert(model.__table__), columns, announce)


_KINDS: dict[type, _Kind] = {OutboxMessage: _kind(OutboxMessage, OUTBOX), Event: _kind(Event),
                             TicketReporter: _kind(TicketReporter)}


def queue(session: AsyncSession | Session, row: OutboxMessage | Event | TicketReporter) -> None:
    """Keep ``row`` to be written with the session's other queued rows (see the module doc)."""
    if isinstance(session, AsyncSession):
        session = session.sync_session
    if not session.in_transaction():
        session.begin()  # so that a rollback before the commit ends it, and drops the row
    session.info.setdefault(_QUEUED, []).append(row)


def queued(session: Session) -> bool:
    """Has the session rows queued and not yet written (something to commit)?"""
    return bool(session.info.get(_QUEUED))


def write_queued(session: Session) -> None:
    """Write the session's queued rows now, in its transaction: one executemany per kind of row
    and set of attributes given (usually one per kind), each in the order the rows were queued
    (an event's id orders the trail; ids are per table, so kinds need no order between them).
    A failed INSERT leaves its rows and those not tried yet queued; rows written stay written."""
    rows = session.info.get(_QUEUED)
    if not rows:
        return
    batches: dict[tuple[_Kind, tuple[str, ...]], list[tuple[Any, dict[str, Any]]]] = {}
    for row in rows:
        kind = _KINDS[type(row)]
        values = {kind.column_of[key]: value for key, value in vars(row).items() if key in kind.column_of}
        batches.setdefault((kind, tuple(sorted(values))), []).append((row, values))
    connection = session.connection()
    written: set[int] = set()
    try:
        for (kind, _shape), batch in batches.items():
            # Columns not given take their defaults, as in a flush.
            connection.execute(kind.insert, [values for _row, values in batch])
            written.update(id(row) for row, _values in batch)
            if kind.announce is not None:
                announce_now(session, kind.announce)
    finally:
        if written:
            session.info[WROTE] = True
            session.info[_QUEUED] = [row for row in rows if id(row) not in written]


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
