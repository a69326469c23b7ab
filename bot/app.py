"""The bot application: wires storage, dispatcher, outbox, transports and schedules.

``BotApp.open`` is the one place that builds the process's parts and hands each what it needs
(the dispatcher its services, the wake-ups their actions, the marker writer its transports).
It is the EventSink every transport reports to; room events go to ``bot.services.groups``.
Tests build it through ``bot.testing``.
"""
from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import db
from bot.accounts import AccountLeases
from bot.analyzer import analyzer_for
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.dispatch import Dispatcher
from bot.inline_sqlite import serving_engines
from bot.marker_writer import MarkerWriter
from bot.models import Compound, InboundMessage, InboundStatus
from bot.orgdir import OrgDirectory
from bot.orgimport import apply_plan, parse_file
from bot.outbox import Outbox, OutboxSender
from bot.privacy import purge_chatter
from bot.relink import relink_after_login
from bot.router import CommandTable
from bot.services import Deps
from bot.services import groups
from bot.storable import storable_name, storable_room
from bot.transports.base import (
    Incoming, LoggedIn, RoomJoined, RoomLeft, RoomTopicChanged, Transport,
)
from bot.wakeups import Wakeups, new_origin
from bot.web.accounts import load_secret
from handlers import all_routers
from schedules.runner import Scheduler, new_holder_id

log = logging.getLogger(__name__)

SEND_FINISH_SECONDS = 30.0  # a clean stop waits this long for a transport call in flight


class BotApp:
    def __init__(self, settings: Settings, *, transports: list[Transport] | None = None,
                 clock: Clock | None = None, rng: random.Random | None = None,
                 engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock(settings.timezone)
        self.rng = rng or random.Random()
        self.transports: dict[str, Transport] = {t.account: t for t in transports or []}
        self.engine = engine
        self._owns_engine = engine is None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        # For work whose statements may be long (the dashboard, the schedules): on a SQLite file
        # of its own making, a worker-thread engine beside the bot's inline one, so they never
        # stall a reply (bot/inline_sqlite.py); otherwise the bot's own sessions.
        self.worker_engine: AsyncEngine | None = None
        self.worker_sessions: async_sessionmaker[AsyncSession] | None = None
        self.org = OrgDirectory()
        self.outbox = Outbox(settings.outbox, self.clock)
        self.table = CommandTable(all_routers())
        self.services: dict[str, Any] = {}
        self.dispatcher: Dispatcher | None = None
        self.sender: OutboxSender | None = None
        self.scheduler: Scheduler | None = None
        self.markers: MarkerWriter | None = None
        self.wakeups: Wakeups | None = None
        self._tasks: list[asyncio.Task] = []
        self.origin = new_origin()  # names this process's writes in cross-process wake-ups
        self.leases: AccountLeases | None = None  # which of its accounts this process serves now
        self._started: set[str] = set()  # accounts whose transport (event stream) is started

    # ------------------------------------------------------------------ lifecycle
    async def open(self, *, prepare: bool = True, recover: bool = True) -> None:
        """Connect to the database (migrating a fresh one), load the org, build the pipeline.

        ``recover``: act on this process's accounts' messages stored before the last stop
        (a command-line tool passes False: it serves no account and processes no message)."""
        if self.engine is None:
            self.engine, self.worker_engine = serving_engines(self.settings.database_url)
        # Several processes may start at once on an empty database: one does the first-run work.
        async with db.init_lock(self.engine):
            if prepare:
                await db.prepare_schema(self.engine)
            self.sessions = db.session_factory(self.engine, origin=self.origin)
            self.worker_sessions = (db.session_factory(self.worker_engine, origin=self.origin)
                                 if self.worker_engine is not None else self.sessions)
            await self.load_org_if_empty()
            await self._generate_secrets()
        async with self.sessions() as session:
            await self.org.refresh(session)
        self.markers = MarkerWriter(self.sessions, self.transports)
        # What handlers may ask for by name besides the context (see bot.router.call_with).
        self.services = {"table": self.table, "nlp": analyzer_for(self.settings), "markers": self.markers,
                         "media_fetcher": self.media_fetcher}
        self.scheduler = Scheduler(self)
        self.dispatcher = Dispatcher(self.sessions, self.outbox, self.clock, self.settings, self.org,
                                     self.table, self.services)
        self.wakeups = Wakeups(self.engine, self.origin, wake_sender=self.outbox.notify,
                               reload_org=self.refresh_org, drop_cache=self.dispatcher.cache.clear,
                               poke_scheduler=self.scheduler.poke)
        accounts = self.settings.accounts
        self.leases = AccountLeases(self.sessions, self.clock, new_holder_id(), list(self.transports),
                                    timedelta(seconds=accounts.lease_seconds),
                                    force=self.engine.dialect.name != "postgresql")
        self.sender = OutboxSender(self.sessions, self.outbox, self.transports, self.clock, self.rng,
                                   leases=self.leases)
        # A command-line tool (recover=False) serves no account: it takes no lease, settles no
        # send and processes no message. A standby takes leases only in its lease loop.
        if recover and not accounts.standby:
            await self.leases.renew()
        await self.sender.recover(self.leases.held)
        recovered = await self.dispatcher.recover(sorted(self.leases.held)) if recover else 0
        if recovered:
            log.info("processed %s messages stored before the last stop but never acted on", recovered)

    async def load_org_if_empty(self) -> None:
        org_file = self.settings.org_file
        if org_file is None:
            return
        async with self.sessions() as session:
            if (await session.execute(select(func.count()).select_from(Compound))).scalar_one():
                return
            plan = parse_file(Path(org_file))
            result = await apply_plan(session, plan, self.clock.now(), account=self._default_account())
            await session.commit()
        log.info("loaded organisation from %s: %s compounds, %s people", org_file, result.compounds, result.people)

    async def _generate_secrets(self) -> None:
        """Generated-once settings other processes share (the dashboard's session key), made
        under the first-run lock so two processes never generate different ones."""
        if self.engine.dialect.name != "postgresql":
            return  # SQLite: one process, the dashboard makes it on first use
        async with self.sessions() as session:
            await load_secret(session, self.settings)

    def _default_account(self) -> str:
        return next(iter(self.transports), "sim")

    async def start(self) -> None:
        """Start transports, the outbox sender and the schedules (production)."""
        if self.sessions is None:
            await self.open()
        assert self.sender is not None and self.leases is not None
        # Only the lease holder connects an account's event stream; the others wait for the lease.
        for account in sorted(self.leases.held):
            await self.transports[account].start(self)
            self._started.add(account)
        if waiting := [a for a in self.transports if a not in self.leases.held]:
            log.info("accounts %s: served by another process; standing by for their lease", ", ".join(waiting))
        self._tasks.append(asyncio.create_task(self._hold_accounts_forever(), name="account-leases"))
        await self.wakeups.start()
        self._tasks.append(asyncio.create_task(self.sender.run_forever(), name="outbox-sender"))
        self._tasks.append(asyncio.create_task(self._flush_chatter_forever(), name="chatter-status"))
        await self.scheduler.start()

    async def _hold_accounts_forever(self) -> None:
        """Renew this process's account leases; take over an account whose holder stopped
        renewing (start its event stream: the gateway replays what nobody acknowledged), and
        let go of one another process took (it was judged dead: stop serving it)."""
        while True:
            await asyncio.sleep(self.settings.accounts.tick_seconds)
            try:
                gained, lost = await self.leases.renew()
                for account in sorted(lost):
                    await self._let_go(account)
                for account in sorted(gained):
                    await self._take_over(account)
            except Exception:  # a database hiccup: try again next tick (the lease has slack)
                log.exception("could not renew the account leases")

    async def _take_over(self, account: str) -> None:
        """Newly serving ``account``: settle its sends a dead holder left in flight, act on its
        messages stored but never acted on, then connect its event stream."""
        await self.sender.recover([account])
        recovered = await self.dispatcher.recover([account])
        if account not in self._started:
            await self.transports[account].start(self)
            self._started.add(account)
        log.warning("account %s taken over by this process (%s stored messages recovered)", account, recovered)
        self.outbox.notify()

    async def _let_go(self, account: str) -> None:
        if account in self._started:
            self._started.discard(account)
            try:
                await self.transports[account].stop()
            except Exception:
                log.exception("transport %s did not stop cleanly", account)

    async def _flush_chatter_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            await self._flush_chatter()

    async def _flush_chatter(self) -> None:
        try:
            await self.dispatcher.flush_chatter()
        except Exception:  # statuses are bookkeeping: never let them stop the bot
            log.exception("could not record chatter statuses")

    async def stop(self) -> None:
        if self.wakeups is not None:
            await self.wakeups.stop()
        if self.markers is not None:
            await self.markers.stop()
        if self.dispatcher is not None:
            await self._flush_chatter()
        if self.sender is not None:
            self.sender.stop()
            # A send in flight finishes and is recorded: a clean stop leaves no row uncertain.
            if not await self.sender.wait_send_finished(SEND_FINISH_SECONDS):
                log.warning("a send was still in flight after %s s at stop; its row may be left uncertain",
                            SEND_FINISH_SECONDS)
        if self.scheduler is not None:
            await self.scheduler.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()
        # Always: a partly started app (second account failed to log in) stops what did start.
        for transport in self.transports.values():
            try:
                await transport.stop()
            except Exception:
                log.exception("transport %s did not stop cleanly", transport.account)
        self._started.clear()
        if self.leases is not None:
            try:  # after the transports: a standby connects only once this one is gone
                await self.leases.release()
            except Exception:
                log.exception("could not hand the account leases back; they expire on their own")
        if self.engine is not None and self._owns_engine:
            await self.engine.dispose()
            if self.worker_engine is not None:
                await self.worker_engine.dispose()

    async def refresh_org(self) -> None:
        async with self.sessions() as session:
            await self.org.refresh(session)

    def media_fetcher(self, account: str) -> Callable[..., Any] | None:
        """How to fetch a message's photo or video on ``account`` (None: its transport cannot)."""
        return getattr(self.transports.get(account), "fetch_media", None)

    def _deps(self, session: AsyncSession) -> Deps:
        return Deps(session, self.clock, self.outbox, self.org, self.settings)

    # ------------------------------------------------------------------ EventSink
    async def on_message(self, incoming: Incoming) -> None:
        assert self.dispatcher is not None
        await self.dispatcher.handle(incoming)

    async def on_login(self, event: LoggedIn) -> None:
        event = replace(event, rooms=tuple(storable_room(room) for room in event.rooms))
        self.dispatcher.cache.clear()  # ids may have changed: resolve everyone afresh
        async with self.sessions() as session:
            _report, guessed = await relink_after_login(session, event, self.transports.get(event.account),
                                                        self.clock.now())
            await groups.ask_to_confirm_guesses(self._deps(session), guessed)
            await session.commit()
        self.markers.start(event.account)
        self.dispatcher.cache.clear()  # which account serves which room may have changed
        self.outbox.notify()

    async def on_room_joined(self, event: RoomJoined) -> None:
        room = storable_room(event.room)
        async with self.sessions() as session:
            await groups.room_joined(self._deps(session), event.account, room, bot_joined=event.bot_joined)
            await session.commit()
        if event.bot_joined:
            self.dispatcher.cache.clear()
        self.outbox.notify()

    async def on_room_left(self, event: RoomLeft) -> None:
        if not event.bot_left:
            return
        async with self.sessions() as session:
            if await groups.bot_removed(self._deps(session), event.account, event.room_id) is None:
                return
            await session.commit()
        self.dispatcher.cache.clear()
        self.outbox.notify()

    async def on_room_topic(self, event: RoomTopicChanged) -> None:
        async with self.sessions() as session:
            await groups.room_renamed(self._deps(session), event.account, event.room_id,
                                      storable_name(event.new_topic, 128))
            await session.commit()

    # ------------------------------------------------------------------ maintenance
    async def retry_failed(self, message_id: int | None = None) -> list[tuple[int, str]]:
        assert self.dispatcher is not None
        async with self.sessions() as session:
            query = select(InboundMessage.id).where(InboundMessage.status == InboundStatus.FAILED)
            if message_id is not None:
                query = select(InboundMessage.id).where(InboundMessage.id == message_id)
            ids = list((await session.execute(query.order_by(InboundMessage.id))).scalars())
        return [(mid, await self.dispatcher.retry(mid)) for mid in ids]

    async def purge(self) -> int:
        async with self.worker_sessions() as session:  # a month of chatter may take a while: off the loop
            count = await purge_chatter(session, self.clock.now(), self.settings.retention_days)
            await session.commit()
        return count

    async def run_due_jobs(self) -> None:
        """Run whatever the schedules have due now (the test kit calls this on advance)."""
        await self.scheduler.run_due()

