"""Wake-ups between processes on one PostgreSQL database (LISTEN/NOTIFY).

Several ``zhibu run`` processes (one per WeChat account, say) share the database. Work one of
them writes — an outbox row from the schedules, the dashboard or the CLI, a roster import, a
group binding — must reach the others at once, not at their next poll:

* **Sending side**: sessions on PostgreSQL are :class:`NotifyingSession`. When a flush or a
  bulk statement touches a watched table, the session issues ``pg_notify`` in the same
  transaction; PostgreSQL delivers it only when (and if) that transaction commits, so a
  wake-up never runs ahead of the data it announces and a rollback announces nothing.
* **Receiving side**: :class:`Wakeups` keeps one dedicated connection listening and turns
  notifications into local actions: new outbox rows wake the sender (``Outbox.notify``),
  organisation changes reload the ``OrgDirectory``, role and group changes drop the
  dispatcher's context cache. After every (re)connect it does all of these once, since
  notifications sent while it was not listening are gone.

Polling stays as the fallback (the sender's timeout, the cache's expiry), and SQLite (one
process) needs none of this.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from itertools import chain
from typing import Any, Awaitable, Callable

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session

from bot.models import ChatGroup, Community, Compound, OutboxMessage, Role, Street

log = logging.getLogger(__name__)

CHANNEL = "zhibu"
OUTBOX = "outbox"   # rows to send
ORG = "org"         # compounds and their settings, communities, streets
PEOPLE = "people"   # roles and group bindings: what the dispatcher caches per sender and room
LEASE = "lease"     # the schedules lease was handed back: take it now, not at the next tick

_KIND_OF_TABLE = {
    OutboxMessage.__tablename__: OUTBOX,
    Compound.__tablename__: ORG, Community.__tablename__: ORG, Street.__tablename__: ORG,
    Role.__tablename__: PEOPLE, ChatGroup.__tablename__: PEOPLE,
}
_KIND_OF_CLASS = {OutboxMessage: OUTBOX, Compound: ORG, Community: ORG, Street: ORG, Role: PEOPLE,
                  ChatGroup: PEOPLE}

ORIGIN = "zhibu_origin"       # Session.info key: which process (app) wrote
_SENT = "zhibu_notified"      # Session.info key: kinds already announced in this transaction

RECONNECT_MAX_SECONDS = 30.0


def new_origin() -> str:
    return uuid.uuid4().hex[:12]


async def announce(session: Any, kind: str) -> None:
    """Announce ``kind`` explicitly (for changes no watched table shows), on commit."""
    if session.bind.dialect.name == "postgresql":
        await session.run_sync(lambda sync: _announce(sync, {kind}))


def announce_now(session: Session, kind: str) -> None:
    """Announce ``kind`` from synchronous session code (a write the ORM's events do not see),
    on commit; nothing on SQLite."""
    if isinstance(session, NotifyingSession):
        _announce(session, {kind})


class NotifyingSession(Session):
    """A session that announces committed changes of watched tables to the other processes."""


def _announce(session: Session, kinds: set[str]) -> None:
    sent = session.info.setdefault(_SENT, set())
    origin = session.info.get(ORIGIN, "")
    for kind in sorted(kinds - sent):
        # In the transaction: delivered on commit, dropped on rollback.
        session.connection().execute(text("SELECT pg_notify(:channel, :payload)"),
                                     {"channel": CHANNEL, "payload": f"{kind}:{origin}"})
        sent.add(kind)


@event.listens_for(NotifyingSession, "after_flush")
def _after_flush(session: Session, _flush_context: Any) -> None:
    kinds = {_KIND_OF_CLASS[type(obj)] for obj in chain(session.new, session.dirty, session.deleted)
             if type(obj) in _KIND_OF_CLASS}
    if kinds:
        _announce(session, kinds)


@event.listens_for(NotifyingSession, "do_orm_execute")
def _bulk_statement(state: Any) -> None:
    # update(OutboxMessage)… / insert(JobRun)… bypass the flush: look at the statement's table.
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    kind = _KIND_OF_TABLE.get(getattr(table, "name", None))
    if kind is not None:
        _announce(state.session, {kind})


@event.listens_for(NotifyingSession, "after_transaction_end")
def _transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost one: a new transaction announces afresh
        session.info.pop(_SENT, None)


class Wakeups:
    """One process's listening connection and what it does on each notification: the app
    hands in the actions (``BotApp.open``), so this module knows nothing of it."""

    def __init__(self, engine: AsyncEngine, origin: str, *, wake_sender: Callable[[], None],
                 reload_org: Callable[[], Awaitable[None]], drop_cache: Callable[[], None],
                 poke_scheduler: Callable[[], None]) -> None:
        self.engine = engine
        self.origin = origin
        self.wake_sender = wake_sender
        self.reload_org = reload_org
        self.drop_cache = drop_cache
        self.poke_scheduler = poke_scheduler
        self.listening = asyncio.Event()     # set while the LISTEN connection is up
        self.org_reloaded = asyncio.Event()  # set after each reload caused by a notification
        self.received = 0
        self._task: asyncio.Task | None = None
        self._reload: asyncio.Task | None = None
        self._reload_again = False

    @property
    def enabled(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._listen_forever(), name="wakeups-listen")

    async def stop(self) -> None:
        for task in (self._task, self._reload):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._task = self._reload = None
        self.listening.clear()

    # ------------------------------------------------------------------ connection
    async def _connect(self) -> Any:
        import asyncpg

        engine = self.engine
        _args, params = engine.dialect.create_connect_args(engine.url)  # same host, user, ssl as the pool
        params.pop("async_creator_fn", None)
        return await asyncpg.connect(**params)

    async def _listen_forever(self) -> None:
        delay = 1.0
        while True:
            conn = None
            lost = asyncio.Event()
            try:
                conn = await self._connect()
                conn.add_termination_listener(lambda _c: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                self.listening.set()
                delay = 1.0
                log.info("listening for wake-ups from other processes")
                self._catch_up()
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), 30)
                    except asyncio.TimeoutError:
                        await conn.execute("SELECT 1")  # a dead peer shows up here, not by itself
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  (the database restarts; polling covers the gap)
                log.warning("wake-up listener lost (%s); retrying in %.0f s", exc, delay)
            finally:
                self.listening.clear()
                if conn is not None and not conn.is_closed():
                    try:
                        await asyncio.shield(conn.close(timeout=5))
                    except Exception:  # noqa: BLE001
                        conn.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    def _catch_up(self) -> None:
        """Whatever was announced while nobody listened: look once at everything."""
        self.wake_sender()
        self._schedule_reload()

    # ------------------------------------------------------------------ notifications
    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.received += 1
        kind, _, origin = payload.partition(":")
        if kind == OUTBOX:
            self.wake_sender()  # also our own: every writer wakes the sender, none is forgotten
        elif origin == self.origin:
            return  # this process changed it and already knows
        elif kind == ORG:
            self._schedule_reload()
        elif kind == PEOPLE:
            self.drop_cache()
        elif kind == LEASE:
            self.poke_scheduler()

    def _schedule_reload(self) -> None:
        # Coalesced: a roster import announces many times; one reload after the last suffices.
        if self._reload is not None and not self._reload.done():
            self._reload_again = True
            return
        self._reload = asyncio.create_task(self._reload_org(), name="wakeups-org-reload")

    async def _reload_org(self) -> None:
        while True:
            self._reload_again = False
            try:
                await self.reload_org()
                self.drop_cache()
                self.org_reloaded.set()
            except Exception:  # noqa: BLE001
                log.exception("could not reload the organisation after a change elsewhere")
            if not self._reload_again:
                return
