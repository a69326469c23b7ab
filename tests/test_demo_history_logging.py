"""While the sample history is generated (bot/demo_history.py, on a thread of its own in the
demo), its routine warnings stay out of the console, and the live demo's own warnings do not."""
from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

import pytest

from bot.config import Settings
from bot.demo_history import QUIET_LOGGERS, generate_history
from bot.log_filters import ThreadFilter
from test_demo_history import UNTIL


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _LiveDemoLogsMeanwhile:
    """The generator's progress protocol: at its first day, the live demo (the main thread) logs
    a warning while the generator waits."""

    def __init__(self) -> None:
        self.generating, self.logged = threading.Event(), threading.Event()
        self.thread: int | None = None

    def update(self, days: int = 1) -> None:
        if not self.generating.is_set():
            self.thread = threading.get_ident()
            self.generating.set()
            self.logged.wait(timeout=60)


@pytest.mark.asyncio
async def test_the_live_demos_warnings_appear_while_the_generators_stay_quiet(tmp_path: Path, caplog):
    caplog.set_level(logging.INFO)
    settings = Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"})
    live = _LiveDemoLogsMeanwhile()
    behind_the_filter = _Collect()  # on the loggers themselves: it sees what the root handlers are spared
    for name in QUIET_LOGGERS:
        logging.getLogger(name).addHandler(behind_the_filter)
    try:
        generating = asyncio.create_task(asyncio.to_thread(
            asyncio.run, generate_history(settings, until=UNTIL, days=4, progress=live)))
        await asyncio.to_thread(live.generating.wait, 60)
        logging.getLogger("bot.web.app").warning("the live demo's own warning")
        live.logged.set()
        await generating
    finally:
        live.logged.set()
        for name in QUIET_LOGGERS:
            logging.getLogger(name).removeHandler(behind_the_filter)

    assert "the live demo's own warning" in caplog.text
    generators = [r for r in behind_the_filter.records if r.thread == live.thread and r.levelno < logging.ERROR]
    assert generators, "the sample history logged nothing: nothing here shows the filter works"
    shown = [r for r in caplog.records if r.thread == live.thread and r.levelno < logging.ERROR
             and r.name.split(".")[0] in QUIET_LOGGERS]
    assert not shown, [r.getMessage() for r in shown[:3]]


def test_the_filter_passes_errors_other_loggers_and_other_threads():
    quiet = ThreadFilter(7, ("bot",))

    def record(name: str, level: int, thread: int) -> logging.LogRecord:
        r = logging.LogRecord(name, level, __file__, 1, "x", None, None)
        r.thread = thread
        return r

    assert not quiet.filter(record("bot.dispatch", logging.WARNING, 7))
    assert not quiet.filter(record("bot", logging.INFO, 7))
    assert quiet.filter(record("bot.dispatch", logging.ERROR, 7))
    assert quiet.filter(record("bot.dispatch", logging.WARNING, 8))
    assert quiet.filter(record("botany", logging.WARNING, 7))
    assert quiet.filter(record("aiohttp.access", logging.WARNING, 7))
