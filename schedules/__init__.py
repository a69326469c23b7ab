"""Scheduled work: periodic sweeps, digests and rankings, driven by the injected clock.

Feature modules register jobs with ``schedules.registry``; ``schedules.runner`` runs the
ones that are due (APScheduler triggers compute the times; in production an APScheduler
``AsyncIOScheduler`` drives the runner on real time). Importing this package registers
every job module below.
"""
from __future__ import annotations

# Job modules, in the order their jobs run within one tick (each registers its jobs on import).
from schedules import (  # noqa: F401
    maintenance, notices_jobs, notices_reminders, tickets_jobs, wishes_jobs, digests_jobs, rankings_jobs,
    visits_jobs, rating_jobs,
)
