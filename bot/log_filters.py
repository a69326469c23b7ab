"""Keep one thread's routine log lines quiet while the rest of the process logs as configured.

The demo generates its sample history on a thread of its own while it serves (``bot.demo_start``).
The sample's expected warnings (texts to people who have no WeChat linked, digests nobody reads,
schedules recorded missed) would flood the newcomer's console; setting the loggers' levels would
also silence the live demo's own warnings, since levels are process-wide. A filter on the root
handlers, keyed on the thread, drops only the generating thread's lines.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator


class ThreadFilter(logging.Filter):
    """Drops records of ``thread`` (an ident) from ``loggers`` (and their children) below ``level``."""

    def __init__(self, thread: int, loggers: tuple[str, ...], level: int = logging.ERROR) -> None:
        super().__init__()
        self.thread, self.level = thread, level
        self.names = loggers
        self.prefixes = tuple(f"{name}." for name in loggers)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread or record.levelno >= self.level:
            return True
        return not (record.name in self.names or record.name.startswith(self.prefixes))


@contextmanager
def quiet_this_thread(loggers: tuple[str, ...], level: int = logging.ERROR) -> Iterator[ThreadFilter]:
    """While inside, this thread's records of ``loggers`` below ``level`` reach no handler of the
    root logger (nor the last-resort handler). Other threads are not affected."""
    quiet = ThreadFilter(threading.get_ident(), loggers, level)
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    for handler in handlers:
        if handler is not None:
            handler.addFilter(quiet)
    try:
        yield quiet
    finally:
        for handler in handlers:
            if handler is not None:
                handler.removeFilter(quiet)
