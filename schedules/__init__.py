"""Scheduled work: periodic sweeps, digests and rankings, driven by the injected clock.

Feature modules register jobs with ``schedules.registry``; ``schedules.runner`` runs the
ones that are due (APScheduler triggers compute the times; in production an APScheduler
``AsyncIOScheduler`` drives the runner on real time). Importing this package registers
every job module below.
"""
from __future__ import annotations

import importlib

# Job modules, in the order their jobs run within one tick. The tickets and wishes modules
# belong to those features and may not exist yet in a given checkout.
JOB_MODULES = (
    "schedules.maintenance",
    "schedules.notices_jobs",
    "schedules.notices_reminders",
    "schedules.tickets_jobs",
    "schedules.wishes_jobs",
    "schedules.digests_jobs",
    "schedules.rankings_jobs",
    "schedules.visits_jobs",
    "schedules.rating_jobs",
)

for _name in JOB_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as _exc:
        if _exc.name != _name:
            raise
