"""Runs the registered jobs that are due at the clock's current time.

Minimal first version: last runs kept in memory. (Persistence, grace periods and a
single-runner lease across processes come with the schedules issue.)
"""
from __future__ import annotations

import logging
from datetime import datetime

from schedules.registry import JOBS

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app
        self.last_run: dict[str, datetime] = {}
        self.started_at = app.clock.now()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def run_due(self) -> None:
        now = self.app.clock.now()
        for job in list(JOBS.values()):
            previous = self.last_run.get(job.name, self.started_at)
            due = job.next_after(previous, self.app.clock.tz)
            if due is None or due > now:
                continue
            self.last_run[job.name] = due if due > now - job.grace else now
            try:
                await job.func(self.app, due)
            except Exception:
                log.exception("scheduled job %s failed", job.name)
