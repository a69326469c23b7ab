"""``zhibu demo``'s first start: the page answers at once while the sample history is made.

Generating six months of sample activity (``bot.demo_history``) takes many seconds of CPU. A
newcomer should not stare at a terminal meanwhile, so on SQLite the history is generated on a
thread of its own (its own event loop and engine, statements inline) while the demo serves:

- the generator loads the sample district first (on its fake clock, six months ago); the demo
  opens on the database once that is there, so the sample groups and people are on the page;
- messages typed meanwhile are shown on the chat page at once and handled, in the order they
  came, when the history is complete (``HeldMessages``): a ticket opened meanwhile would take
  the next number of the sample's compound and shift every later sample number (the sample
  must not depend on what the newcomer types). The demo's outbox sender and schedules start
  then too (until then the generator's own rows wait in the outbox for its next fake-clock
  tick, and the schedules' runs would interleave with its), so the bot's answers arrive then;
- the chat page and the dashboard show ``示例历史生成中：已完成 45%…`` (``/demo/progress``).

A half-made demo database is never served silently: a marker row in the database
(``bot.demo_marker``) exists from before the first sample row until the history is complete and
on disk. If the process is interrupted (Ctrl-C, kill, a crash), the next start finds the marker,
throws the database away and generates it again. That is also why the generator may skip fsync.
On PostgreSQL the history is generated in the foreground before the demo serves, under the same
marker.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import SAMPLE_ORG, Settings
from bot.demo_marker import clear_incomplete, database_file, discard_half_made, mark_incomplete
from bot.texts import demo as T

log = logging.getLogger(__name__)

SERVING_WAIT_SECONDS = 20.0  # the generator waits this long at most for the demo's page to answer


def _wants_history(settings: Settings, empty: bool) -> bool:
    return not empty and Path(settings.org_file or SAMPLE_ORG).resolve() == SAMPLE_ORG.resolve()


async def begin_demo(settings: Settings, *, empty: bool = False, until: datetime | None = None,
                     days: int | None = None) -> HistoryJob | None:
    """Before the demo serves: throw away a half-made database, and on an empty one with the
    sample organisation start generating the history. Returns the running job (None: nothing
    to generate, or, off SQLite, generated here in the foreground as before)."""
    from bot.demo_history import DAYS, database_is_empty, prepare_demo

    if await discard_half_made(settings):
        print(T.HALF_MADE_DISCARDED, flush=True)
    if not _wants_history(settings, empty) or not await database_is_empty(settings):
        return None
    await mark_incomplete(settings)  # before the first row: an interruption is noticed
    database = database_file(settings)
    if database is None:  # PostgreSQL: in the foreground, as before
        await prepare_demo(settings, until=until, days=days or DAYS)
        await clear_incomplete(settings)
        return None
    job = HistoryJob(settings, database, until=until, days=days or DAYS)
    job.start()
    return job


class HistoryJob:
    """The sample history being generated on its own thread; what the pages and the demo's
    start need to know of it. ``update`` is the generator's progress protocol (days done)."""

    def __init__(self, settings: Settings, database: Path, *, until: datetime | None, days: int) -> None:
        self.settings, self.database, self.until, self.days = settings, database, until, days
        self.done_days = 0
        self.summary: Any = None
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = asyncio.Event()     # the sample district is in the database
        self._finished = asyncio.Event()  # the history is complete (or failed)
        self._serving = threading.Event()  # the demo's page answers: the generator may go on
        self.thread: threading.Thread | None = None
        self.held: HeldMessages | None = None

    # ------------------------------------------------------------------ the generator's side
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # A daemon thread: Ctrl-C stops the demo at once; the marker makes the next start redo it.
        self.thread = threading.Thread(target=self._run, name="demo-history", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from bot.demo_history import generate_history

        try:
            self.summary = asyncio.run(generate_history(
                self.settings, until=self.until, days=self.days, progress=self,
                on_open=self._opened, busy_timeout_ms=30_000))
            _make_durable(self.database)
            asyncio.run(clear_incomplete(self.settings))
        except BaseException as exc:  # noqa: BLE001 (shown on the pages; the marker stays: redone next start)
            self.error = exc
            log.error("the sample history could not be generated", exc_info=exc)
        finally:
            self._signal(self._ready)
            self._signal(self._finished)

    def _opened(self) -> None:
        """The sample district is in the database: let the demo open on it, and wait (a bounded
        while) until its page answers, so the newcomer's page does not share the CPU with us."""
        self._signal(self._ready)
        self._serving.wait(timeout=SERVING_WAIT_SECONDS)

    def update(self, days: int = 1) -> None:
        self.done_days = min(self.days, self.done_days + days)

    def _signal(self, event: asyncio.Event) -> None:
        try:
            self._loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # the demo has stopped meanwhile
            pass

    # ------------------------------------------------------------------ the demo's side
    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def percent(self) -> int:
        if self.finished and self.error is None:
            return 100
        return min(99, int(100 * self.done_days / max(1, self.days)))

    async def wait_ready(self) -> None:
        await self._ready.wait()

    def serving(self) -> None:
        """The demo's page answers (or the demo gave up starting): generate on."""
        self._serving.set()

    async def wait_finished(self) -> None:
        await self._finished.wait()

    def sink(self, app: Any) -> HeldMessages:
        """What the demo's transports deliver to meanwhile (instead of ``app``)."""
        self.held = HeldMessages(app)
        return self.held

    def status(self) -> dict[str, Any]:
        if not self.finished:
            text = T.HISTORY_PROGRESS.format(percent=self.percent)
        elif self.error is not None:
            text = T.HISTORY_FAILED
        else:
            text = T.HISTORY_DONE
        return {"finished": self.finished, "failed": self.error is not None, "percent": self.percent, "text": text}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/demo/progress", self._progress)]

    async def _progress(self, request: web.Request) -> web.Response:
        return web.json_response(self.status(), headers={"Cache-Control": "no-store"})


class HeldMessages:
    """The demo's event sink while the history is generated: messages wait, in the order they
    came, until ``release`` hands them to the app; everything else goes to the app at once. A
    message held when the demo is stopped is lost with the half-made database it would have
    gone into (the next start generates that again)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.waiting: list[Any] = []
        self.holding = True

    async def on_message(self, incoming: Any) -> None:
        if self.holding:
            self.waiting.append(incoming)
            return
        await self.app.on_message(incoming)

    async def release(self) -> int:
        """Handle the waiting messages in order (newer ones keep waiting behind them), then
        pass messages through. Returns how many waited."""
        count = 0
        try:
            while self.waiting:
                incoming = self._not_stale(self.waiting.pop(0))
                count += 1
                try:
                    await self.app.on_message(incoming)
                except Exception:  # noqa: BLE001 (one message must not hold back the rest, or the demo)
                    log.exception("demo: a message typed during the history failed: %s", incoming.message_id)
        finally:
            self.holding = False
        return count

    def _not_stale(self, incoming: Any) -> Any:
        """A message older than ``replay_max_age_seconds`` is stored as a replay and not acted on.
        One typed meanwhile is no replay: should the history have taken that long (a very busy
        machine), it counts as sent just within the limit, so it is still acted on."""
        limit = timedelta(seconds=self.app.settings.replay_max_age_seconds)
        oldest = self.app.clock.now() - limit + min(limit / 2, timedelta(seconds=30))
        return dataclasses.replace(incoming, sent_at=oldest) if incoming.sent_at < oldest else incoming

    def __getattr__(self, name: str) -> Any:  # on_login, sessions …: the app's own
        return getattr(self.app, name)


def _make_durable(database: Path) -> None:
    """The generator skipped fsync: fold its WAL into the file and flush both to disk before the
    marker goes (the demo keeps the database open meanwhile; a passive checkpoint never waits)."""
    conn = sqlite3.connect(str(database), timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()
    for suffix in ("", "-wal"):
        path = database.with_name(database.name + suffix)
        if path.exists():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


async def serve_when_complete(app: Any, job: HistoryJob) -> None:
    """The demo opened without serving its account (``open(recover=False)``): once the history is
    complete, take the account, act on anything stored but not acted on, and start the outbox
    sender and the schedules, as ``BotApp.open``/``start`` do on an ordinary start."""
    await job.wait_finished()
    await app.refresh_org()  # the other compounds were loaded after the demo opened
    app.dispatcher.cache.clear()
    if job.summary is not None:
        print(job.summary.line(), flush=True)
    else:
        print(T.HISTORY_FAILED, flush=True)
    await app.leases.renew()
    await app.sender.recover(app.leases.held)
    await app.dispatcher.recover(sorted(app.leases.held))
    try:
        if job.held is not None:
            await job.held.release()
    finally:
        await app.start()  # the demo serves whatever became of the held messages
