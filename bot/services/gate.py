"""A cheap answer for hooks that see every group message ("is any notice open?", "who was
just asked 哪栋楼？").

Every chat line passes the 收到, 接龙 and location-answer hooks, and almost always nothing of
the kind is going on: the question is asked of the database once per few seconds, not once
per message. Changes made in this process reset the answer at once; another process's are
seen within the TTL.
"""
from __future__ import annotations

import time
import weakref
from typing import Any, Awaitable, Callable, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.db import on_add_now
from bot.services import Deps

DEFAULT_TTL = 5.0

T = TypeVar("T")

_every: weakref.WeakSet[CachedAnswer] = weakref.WeakSet()


def forget_all() -> None:
    """Reset every cached answer. For a test kit that starts a bot on a fresh copy of a
    database through an engine it used before (answers are kept per engine)."""
    for answer in list(_every):
        answer.reset()


class CachedAnswer(Generic[T]):
    """The answer of ``query`` per database, asked again after ``ttl`` seconds or a reset()."""

    def __init__(self, query: Callable[[Deps], Awaitable[T]], ttl: float = DEFAULT_TTL) -> None:
        self._query = query
        self._ttl = ttl
        self._generation = 0  # bumped by reset(): an answer asked for before it is not kept
        self._cache: dict[int, tuple[float, T]] = {}  # per engine: tests run several databases
        self._asking: set[int] = set()
        _every.add(self)

    def reset(self) -> None:
        self._generation += 1
        self._cache.clear()

    def forget_on_write(self, touches: Callable[[Any], bool]) -> None:
        """Reset whenever a session of this process flushes (or ``bot.db.add_now`` writes) a new
        or changed object for which ``touches`` is true, and again once that session commits: an
        answer read between the write and the commit could not see the change."""
        key = f"gate-{id(self)}"

        def written(session: Session, rows: Any) -> None:
            if any(touches(obj) for obj in rows):
                session.info[key] = True
                self.reset()

        @event.listens_for(Session, "before_flush")
        def _flushed(session: Session, _context: Any, _instances: Any) -> None:
            written(session, (*session.new, *session.dirty))

        @on_add_now
        def _added(session: Session, row: Any) -> None:
            written(session, (row,))

        @event.listens_for(Session, "after_commit")
        def _committed(session: Session) -> None:
            if session.info.pop(key, False):
                self.reset()

    async def get(self, deps: Deps) -> T:
        key = id(deps.session.bind)
        hit = self._cache.get(key)
        if hit is not None and (time.monotonic() < hit[0] or key in self._asking):
            # Fresh, or another message is asking right now: the answer it replaces is at most
            # a moment older. (Never wait for another session's query: a session holding the
            # SQLite write lock must not wait on one that waits for the lock.)
            return hit[1]
        generation = self._generation
        self._asking.add(key)
        try:
            value = await self._query(deps)
        finally:
            self._asking.discard(key)
        if generation == self._generation:
            self._cache[key] = (time.monotonic() + self._ttl, value)
        return value


class CachedFlag(CachedAnswer[bool]):
    """"Is anything of this kind going on?" (a notice open for 收到, a recent 接龙)."""
