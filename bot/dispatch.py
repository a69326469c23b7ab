"""The dispatcher: store every inbound message first, then work out who and where, then route."""
from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
from typing import Any, Iterable

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import make_transient_to_detached

from bot.clock import Clock
from bot.config import Settings
from bot.context import Context, loaded_row
from bot.db import connection_of
from bot.deadletters import loggable_reason, record_dead_letter
from bot.identity import ContextCache, context_changed, group_for, has_writes, person_for
from bot.models import ChatGroup, InboundMessage, InboundStatus
from bot.orgdir import OrgDirectory
from bot.outbox import Outbox
from bot.queued_rows import WROTE
from bot.roles import Roles, role_label
from bot.router import Command, CommandTable, Handler, call_with
from bot.services import ServiceError
from bot.storable import capped_text, storable_id, storable_name
from bot.texts import core as T
from bot.transports.base import Incoming, MessageKind

log = logging.getLogger(__name__)

# Chatter statuses are written in batches of this many (or at each outbox drain).
CHATTER_BATCH = 200
# At most this many arriving messages share one INSERT (SQLite's variable limit is far above).
STORE_BATCH = 100
# Column widths of the identifiers and names an arriving message carries (bot/models).
ID_CHARS, ACCOUNT_CHARS, NAME_CHARS, PERSON_NAME_CHARS, ALIAS_CHARS = 128, 64, 128, 64, 64

# Non-text messages the dispatcher passes on (to the routers' non-text hooks) instead of ignoring.
NON_TEXT_ACTED_ON = (MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.RECALL)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2060\ufeff]")


def clean_text(text: str) -> str:
    """Drop control and zero-width characters. (The @mention of the bot is gone already: the
    transport, which knows the bot's names in each room, removes it.)"""
    return _CONTROL.sub("", text).strip()


class Dispatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox, clock: Clock,
                 settings: Settings, org: OrgDirectory, table: CommandTable,
                 services: dict[str, Any] | None = None) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.clock = clock
        self.settings = settings
        self.org = org
        self.table = table
        self.services = services or {}
        self.cache = ContextCache()
        self._pending_store: list[tuple[dict[str, Any], str | None, asyncio.Future]] = []
        self._store_task: asyncio.Task | None = None
        self._chatter: list[int] = []
        # Claims older than this process belong to a process that stopped (see recover()).
        self.started_at = clock.now()
        # Per conversation, the completion of the latest message taken in (see handle()).
        self._turns: dict[tuple[str, str], asyncio.Future] = {}

    async def handle(self, incoming: Incoming) -> int | None:
        """Store, then act. Returns the stored message id, or None for a duplicate/own message
        (or one the database refused even alone: it is kept as a dead letter)."""
        if incoming.is_self:
            return None  # our own texts come back from the gateway: they are in the outbox already
        raw_text = incoming.text
        incoming = self.storable(incoming)
        values = self._values(incoming, truncated=len(raw_text or "") > self.settings.max_text_chars)
        # Messages of different conversations are handled concurrently, those of one conversation
        # (a group, or one person's private chat) strictly in the order they were taken in: a
        # question must see the report sent just before it. The turn is taken before the first
        # await; storing still shares INSERTs, only acting waits for the previous message.
        key = (incoming.account, incoming.chat_id or f"private:{incoming.sender_id}")
        previous = self._turns.get(key)
        mine: asyncio.Future = asyncio.get_running_loop().create_future()
        self._turns[key] = mine
        try:
            message_id = await self.store(values, raw_text=raw_text)
            if previous is not None and not previous.done():
                await asyncio.shield(previous)
            if message_id is None:
                return None
            await self.process(message_id, incoming, values)
            self.outbox.notify_if_enqueued()
            return message_id
        finally:
            self._end_turn(key, previous, mine)

    def _end_turn(self, key: tuple[str, str], previous: asyncio.Future | None, mine: asyncio.Future) -> None:
        if previous is not None and not previous.done():
            # Cancelled while waiting: the next message still waits for the previous one.
            previous.add_done_callback(lambda _f: mine.done() or mine.set_result(None))
        else:
            mine.set_result(None)
        if self._turns.get(key) is mine:
            del self._turns[key]

    def storable(self, incoming: Incoming) -> Incoming:
        """The message with every string made storable where it enters: NUL and lone surrogates
        replaced, text capped (``max_text_chars``), ids too long for their column replaced by a
        stable hashed form (the same id always maps to the same value), names cut."""
        text, _cut = capped_text(incoming.text, self.settings.max_text_chars)
        return dataclasses.replace(
            incoming, account=storable_id(incoming.account, ACCOUNT_CHARS),
            message_id=storable_id(incoming.message_id, ID_CHARS),
            sender_id=storable_id(incoming.sender_id, ID_CHARS),
            chat_id=storable_id(incoming.chat_id, ID_CHARS),
            # A person's name column is the narrowest place a display name goes.
            sender_name=storable_name(incoming.sender_name, PERSON_NAME_CHARS),
            chat_topic=storable_name(incoming.chat_topic, NAME_CHARS) if incoming.chat_topic is not None else None,
            sender_alias=(storable_name(incoming.sender_alias, ALIAS_CHARS)
                          if incoming.sender_alias is not None else None),
            text=text, mention_ids=tuple(storable_id(m, ID_CHARS) for m in incoming.mention_ids),
        )

    def _values(self, incoming: Incoming, truncated: bool = False) -> dict[str, Any]:
        """The row for an arriving message (``incoming`` made storable by ``storable``)."""
        text = incoming.text or ""
        limit = self.settings.max_text_chars
        group = self.cache.group(incoming.account, incoming.chat_id, incoming.chat_topic) if incoming.chat_id else None
        person = self.cache.person(incoming.account, incoming.sender_id, incoming.sender_name)
        now = self.clock.now()
        # Decided at the first arrival only: a platform replaying old messages at (re)connect is
        # not a request to act. A message stored in time is acted on whenever it gets processed.
        stale = (now - incoming.sent_at).total_seconds() > self.settings.replay_max_age_seconds
        return dict(
            account=incoming.account, platform_message_id=incoming.message_id,
            chat_platform_id=incoming.chat_id, sender_platform_id=incoming.sender_id,
            sender_name=(incoming.sender_name or "")[:NAME_CHARS], kind=str(incoming.kind)[:16],
            text=text[:limit], truncated=truncated or len(text) > limit, mentions_bot=incoming.mentions_bot,
            sent_at=incoming.sent_at, received_at=now,
            status=InboundStatus.STALE if stale else InboundStatus.RECEIVED,
            keep=False, group_id=group.id if group else None, person_id=person.id if person else None,
            error=None, handled_at=now if stale else None, claimed_at=None,
        )

    async def store(self, values: dict[str, Any], raw_text: str | None = None) -> int | None:
        """Insert the message; None when this (account, message id) was stored before, or when
        the database refused the row even alone (then it is kept as a dead letter).

        Messages arriving together (a gateway delivers them concurrently) share one INSERT
        and one commit (group commit): each caller still returns only once its row is durable.
        """
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending_store.append((values, raw_text, future))
        if self._store_task is None or self._store_task.done():
            self._store_task = asyncio.create_task(self._store_batches())
        return await future

    async def _store_batches(self) -> None:
        engine = self.sessions.kw["bind"]
        insert_stmt = _store_insert(engine.dialect.name)
        while self._pending_store:
            await asyncio.sleep(0)  # let the messages arriving in this loop tick join the batch
            batch, self._pending_store = self._pending_store[:STORE_BATCH], self._pending_store[STORE_BATCH:]
            # The same message twice in one batch: the first wins, like a redelivery.
            firsts: dict[tuple[str, str], dict[str, Any]] = {}
            raw: dict[tuple[str, str], str | None] = {}
            for values, raw_text, _future in batch:
                key = (values["account"], values["platform_message_id"])
                if key not in firsts:
                    firsts[key], raw[key] = values, raw_text
            failures: dict[tuple[str, str], BaseException] = {}
            try:
                rows = await self._insert(engine, insert_stmt, list(firsts.values()))
            except Exception as exc:
                # One bad row fails the shared statement: store them one by one, so that only
                # the bad one is set aside and its neighbours are stored and handled.
                log.warning("%s arriving messages could not be stored together (%s: %s); storing them one by one",
                            len(firsts), type(exc).__name__, loggable_reason(exc))
                rows = []
                for key, values in firsts.items():
                    try:
                        rows += await self._insert(engine, insert_stmt, [values])
                    except Exception as row_exc:
                        try:
                            await record_dead_letter(engine, values, raw[key], row_exc, self.clock.now())
                        except Exception as dead_exc:  # the database itself fails: the caller must know
                            log.exception("could not set aside inbound message %r either",
                                          values["platform_message_id"])
                            failures[key] = dead_exc
            ids = {(account, pmid): mid for mid, account, pmid in rows}
            for values, _raw_text, future in batch:
                key = (values["account"], values["platform_message_id"])
                mine = firsts.get(key) is values
                if future.done():
                    continue
                if mine and key in failures:
                    future.set_exception(failures[key])
                else:
                    future.set_result(ids.get(key) if mine else None)

    @staticmethod
    async def _insert(engine: Any, insert_stmt: Any, rows: list[dict[str, Any]]) -> list[Any]:
        async with engine.begin() as conn:
            # executemany of one cached statement: SQLAlchemy batches it into multi-row
            # INSERT … RETURNING itself ("insertmanyvalues") without compiling per batch.
            return list((await conn.execute(insert_stmt, rows)).all())

    async def retry(self, message_id: int) -> str:
        """Run a stored (failed or never processed) message through the handlers again."""
        async with self.sessions() as session:
            row = await session.get(InboundMessage, message_id)
            if row is None:
                raise LookupError(f"no message {message_id}")
            incoming = await _incoming_from_row(session, row)
        status = await self.process(message_id, incoming)
        self.outbox.notify()
        return status

    async def process(self, message_id: int, incoming: Incoming, values: dict[str, Any] | None = None) -> str:
        try:
            try:
                return await self._process_once(message_id, incoming, values)
            except IntegrityError:
                # Two first messages of the same new sender (or group) arrived together and both
                # created it; the other one committed first. Once more, now finding it.
                self.cache.clear()
                return await self._process_once(message_id, incoming, None)
        except Exception as exc:
            log.exception("handler failed for inbound message %s", message_id)
            self.cache.clear()
            await self._mark_failed(message_id, incoming, exc)
            return InboundStatus.FAILED

    async def _process_once(self, message_id: int, incoming: Incoming, values: dict[str, Any] | None) -> str:
        generation = self.cache.generation
        async with self.sessions() as session:
            status, group, person = await self._route(session, message_id, incoming, values)
            changed = context_changed(session)
            quiet = status == InboundStatus.CHATTER and not has_writes(session)
            if not quiet:
                await session.commit()
        if quiet:
            # Nothing happened: record the status in a batch instead of a write per message
            # (after this session closed: a session must never wait for a second connection).
            self._chatter.append(message_id)
            if len(self._chatter) >= CHATTER_BATCH:
                await self.flush_chatter()
        if changed:
            self.cache.clear()  # roles, bindings or identities changed: resolve afresh
        else:
            self.cache.remember(incoming.account, incoming.chat_id, group, incoming.sender_id,
                                person, incoming.sender_name, read_in=generation)
        return status

    async def flush_chatter(self) -> None:
        """Write the CHATTER status of messages that needed nothing (batched)."""
        if not self._chatter:
            return
        ids, self._chatter = self._chatter, []
        async with self.sessions() as session:
            await session.execute(update(InboundMessage).where(InboundMessage.id.in_(ids))
                                  .values(status=InboundStatus.CHATTER, handled_at=self.clock.now()))
            await session.commit()

    async def recover(self, accounts: Iterable[str]) -> int:
        """After a restart: act on this process's messages stored but never processed.

        Only ``accounts`` (those this process has transports for): another process serves the
        others and handles their messages itself. Each message is claimed first (a conditional
        UPDATE, with SKIP LOCKED on PostgreSQL), so two processes recovering the same account
        never both act on one message. However long ago it arrived, it is acted on: its age
        only changes how it is answered (see Context.late).
        """
        accounts = sorted(set(accounts))
        if not accounts:
            return 0
        await self.flush_chatter()
        count = 0
        while (message_id := await self._claim_next(accounts)) is not None:
            async with self.sessions() as session:
                row = await session.get(InboundMessage, message_id)
                incoming = await _incoming_from_row(session, row)
            await self.process(message_id, incoming)
            count += 1
        await self.flush_chatter()
        return count

    async def _claim_next(self, accounts: list[str]) -> int | None:
        """Claim the oldest unprocessed message of ``accounts``; None when there is none."""
        claimable = (InboundMessage.account.in_(accounts), or_(
            InboundMessage.status == InboundStatus.RECEIVED,
            # Claimed by a process that stopped before it finished (a live claimant's claims are
            # younger than this process).
            (InboundMessage.status == InboundStatus.PROCESSING) & (InboundMessage.claimed_at < self.started_at),
        ))
        async with self.sessions() as session:
            while True:
                query = select(InboundMessage.id).where(*claimable).order_by(InboundMessage.id).limit(1)
                if session.bind.dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                message_id = (await session.execute(query)).scalar_one_or_none()
                if message_id is None:
                    return None
                claimed = await session.execute(update(InboundMessage).where(
                    InboundMessage.id == message_id, *claimable,
                ).values(status=InboundStatus.PROCESSING, claimed_at=self.clock.now()))
                await session.commit()
                if claimed.rowcount == 1:
                    return message_id
                # Another process took it between our read and our update: try the next one.

    async def _route(self, session: AsyncSession, message_id: int, incoming: Incoming,
                     values: dict[str, Any] | None):  # noqa: ANN202
        """Resolve group and sender, act, and set the message's status. Returns (status, group,
        person) with group and person as cached detached copies or rows loaded here."""
        now = self.clock.now()
        sync = session.sync_session
        group = self.cache.group(incoming.account, incoming.chat_id, incoming.chat_topic) if incoming.chat_id else None
        person = self.cache.person(incoming.account, incoming.sender_id, incoming.sender_name)
        if values is not None and (group is not None or incoming.chat_id is None) and person is not None:
            # The usual case: fresh from store(), sender and group known. Nothing is read and
            # nothing attached unless a handler touches it (see Context).
            def message_row() -> InboundMessage:
                row = InboundMessage(id=message_id, **values)
                make_transient_to_detached(row)
                return sync.merge(row, load=False)
            attach_group = (lambda: sync.merge(group, load=False)) if group is not None else None
            ctx_message: Any = message_row
            ctx_group: Any = attach_group
            ctx_person: Any = lambda: sync.merge(person, load=False)  # noqa: E731
        else:
            message = await session.get(InboundMessage, message_id)
            assert message is not None
            if incoming.chat_id is not None:
                group = await group_for(session, incoming.account, incoming.chat_id, incoming.chat_topic, now)
                if message.group_id != group.id:
                    message.group_id = group.id
            person = await person_for(session, incoming.account, incoming.sender_id, incoming.sender_name,
                                      now, incoming.sender_alias)
            if message.person_id != person.id:
                message.person_id = person.id
            ctx_message, ctx_group, ctx_person = message, group, person

        status = self._precheck(incoming, group, values)
        ctx = None
        if status is None:
            ctx = Context(
                incoming=incoming, session=session, roles=Roles.from_rows(person.roles, self.org.community_of),
                clock=self.clock, settings=self.settings, outbox=self.outbox, org=self.org,
                text=clean_text(incoming.text or ""), services=self.services,
                person=ctx_person, group=ctx_group, message=ctx_message, person_id=person.id,
                group_id=group.id if group is not None else None, message_id=message_id, group_snapshot=group,
                person_snapshot=person,
                late=(now - incoming.sent_at).total_seconds() > self.settings.replay_max_age_seconds,
            )
            status = await self._act(ctx)
        keep = status == InboundStatus.HANDLED or (ctx is not None and ctx.keep)
        if status != InboundStatus.CHATTER or keep or has_writes(session):
            loaded = ctx.loaded_message if ctx is not None else loaded_row(ctx_message)
            if loaded is not None:  # read or changed in this session: the row itself says it
                loaded.status = status
                loaded.handled_at = now
                if keep:
                    loaded.keep = True
            else:  # the usual case: a plain UPDATE, nothing attached to the session
                await write_status(session, message_id, status, now, keep)
        return status, group, person

    def _precheck(self, incoming: Incoming, group: ChatGroup | None, values: dict[str, Any] | None) -> str | None:
        if values is not None and values["status"] == InboundStatus.STALE:
            # Replayed old at its first arrival: sender and group are resolved (a deletion
            # request finds it), nothing is acted on.
            return InboundStatus.STALE
        if incoming.kind != MessageKind.TEXT and incoming.kind not in NON_TEXT_ACTED_ON:
            return InboundStatus.IGNORED
        if group is not None and not group.active:
            return InboundStatus.IGNORED
        return None

    def available(self, ctx: Context, args: str = "") -> dict[str, Any]:
        return {
            **self.services, "ctx": ctx, "args": args, "session": ctx.session, "clock": self.clock,
            "outbox": self.outbox, "settings": self.settings, "org": self.org,
        }

    async def _act(self, ctx: Context) -> str:
        if ctx.incoming.kind != MessageKind.TEXT:
            # Photos, videos and recalls: no command or text hook applies; the routers' non-text
            # hooks decide (attach to a ticket, withdraw …).
            available = self.available(ctx)
            for hook in self.table.non_text_hooks:
                if await self._call(ctx, hook.handler, hook.params, available):
                    return InboundStatus.HANDLED
            return InboundStatus.IGNORED
        unbound = ctx.in_group and ctx.group_compound_id is None
        matched = self.table.match(ctx.text) if ctx.text else None
        if matched is not None:
            command, args = matched
            if unbound and not (command.unbound_ok and self._allowed(ctx, command)):
                return InboundStatus.IGNORED  # an unbound group hears only a secretary's binding
            await self._run_command(ctx, command, args)
            return InboundStatus.HANDLED
        if unbound:
            return InboundStatus.IGNORED
        if ctx.text:
            available = self.available(ctx)
            for hook in self.table.text_hooks:
                if await self._call(ctx, hook.handler, hook.params, available):
                    return InboundStatus.HANDLED
        if not ctx.in_group or ctx.incoming.mentions_bot:
            # Someone addressed the bot and nothing matched: never leave them without an answer.
            ctx.reply(T.NOT_UNDERSTOOD)
            return InboundStatus.HANDLED
        return InboundStatus.CHATTER

    async def _run_command(self, ctx: Context, command: Command, args: str) -> None:
        word = command.words[0]
        if command.where == "private" and ctx.in_group:
            ctx.reply(T.ONLY_PRIVATE.format(command=word))
            return
        if command.where == "group" and not ctx.in_group:
            ctx.reply(T.ONLY_GROUP.format(command=word))
            return
        if command.roles is not None and not self._allowed(ctx, command):
            labels = "、".join(sorted({role_label(r) for r in command.roles}))
            ctx.reply(T.NOT_ALLOWED.format(command=word, roles=labels))
            return
        await self._call(ctx, command.handler, command.params, self.available(ctx, args))

    @staticmethod
    async def _call(ctx: Context, handler: Handler, params: tuple[str, ...], available: dict[str, Any]) -> Any:
        """Run a command or hook. A rule saying no (``ServiceError``) becomes the Chinese reply it
        carries, here and nowhere else, and counts as handled."""
        try:
            return await call_with(handler, params, available)
        except ServiceError as exc:
            ctx.reply(str(exc))
            return True

    def _allowed(self, ctx: Context, command: Command) -> bool:
        if command.roles is None:
            return True
        if ctx.in_group and ctx.group_compound_id is not None:
            return ctx.roles.has_any(command.roles, ctx.group_compound_id)
        return ctx.roles.has_any(command.roles)

    async def _mark_failed(self, message_id: int, incoming: Incoming, exc: Exception) -> None:
        try:
            async with self.sessions() as session:
                message = await session.get(InboundMessage, message_id)
                if message is None:
                    return
                message.status = InboundStatus.FAILED
                message.error = f"{type(exc).__name__}: {exc}"[:2000]
                message.keep = True
                now = self.clock.now()
                message.handled_at = now
                # The failed transaction was rolled back: resolve sender and group again.
                if incoming.chat_id is not None:
                    group = await group_for(session, incoming.account, incoming.chat_id,
                                            incoming.chat_topic, now)
                    message.group_id = group.id
                person = await person_for(session, incoming.account, incoming.sender_id,
                                          incoming.sender_name, now)
                message.person_id = person.id
                if message.group_id is not None:
                    self.outbox.enqueue(session, T.HANDLER_FAILED, group_id=message.group_id,
                                        in_reply_to=message.id)
                elif message.person_id is not None:
                    self.outbox.enqueue(session, T.HANDLER_FAILED, person_id=message.person_id,
                                        in_reply_to=message.id)
                await session.commit()
        except Exception:
            log.exception("could not mark inbound message %s failed", message_id)


_TABLE = InboundMessage.__table__


@functools.cache
def _store_insert(dialect: str) -> Any:
    """The arriving messages' INSERT for ``dialect``, built once: building it (and its cache key)
    cost more than a small batch's insert."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(_TABLE).on_conflict_do_nothing(index_elements=["account", "platform_message_id"])
            .returning(_TABLE.c.id, _TABLE.c.account, _TABLE.c.platform_message_id))


# Built once: every handled message runs one. (The bound names differ from the columns': SQLAlchemy
# names the SET clause's own parameters after them.)
_SET_STATUS = {keep: update(_TABLE).where(_TABLE.c.id == bindparam("message_id")).values(
    status=bindparam("new_status"), handled_at=bindparam("at"), **({"keep": True} if keep else {}))
    for keep in (False, True)}


async def write_status(session: AsyncSession, message_id: int, status: str, at: Any, keep: bool) -> None:
    """Set a message's status (and keep it, if ``keep``) on the session's connection, in its
    transaction: the ORM's way (merge the stored row, flush it) costs several times this."""
    connection = await connection_of(session)
    await connection.execute(_SET_STATUS[keep], {"message_id": message_id, "new_status": status, "at": at})
    session.sync_session.info[WROTE] = True


async def _incoming_from_row(session: AsyncSession, row: InboundMessage) -> Incoming:
    """A stored message as the transport delivered it (with its original time: a late answer
    is given as one, see Context.late)."""
    group = await session.get(ChatGroup, row.group_id) if row.group_id else None
    return Incoming(
        account=row.account, message_id=row.platform_message_id, sender_id=row.sender_platform_id,
        sender_name=row.sender_name, text=row.text, sent_at=row.sent_at,
        chat_id=row.chat_platform_id, chat_topic=group.topic if group else None,
        kind=MessageKind(row.kind), mentions_bot=row.mentions_bot,
    )
