"""Housekeeping jobs: the chatter purge and the pruning of old job-run rows."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from bot.models.schedules import JobRun, JobStatus
from schedules.registry import JOBS, daily

log = logging.getLogger(__name__)

# Rows of frequent jobs that ran fine are only interesting for a few days.
KEEP_INTERVAL_OK = timedelta(days=3)
KEEP_ANY = timedelta(days=400)


@daily("maintenance.purge_chatter", hour=3, minute=30, grace=timedelta(hours=12))
async def purge_chatter(app, now: datetime) -> None:  # noqa: ANN001
    count = await app.purge()
    log.info("purged %d chatter messages", count)


@daily("maintenance.prune_job_runs", hour=3, minute=40, grace=timedelta(hours=12))
async def prune_job_runs(app, now: datetime) -> None:  # noqa: ANN001
    """Drop old rows, but never a job's newest one: it anchors the job's next fire time."""
    async with app.worker_sessions() as session:
        newest = select(func.max(JobRun.id)).group_by(JobRun.job)
        interval_jobs = [j.name for j in JOBS.values() if j.is_interval]
        await session.execute(delete(JobRun).where(
            JobRun.job.in_(interval_jobs), JobRun.status.in_([JobStatus.OK, JobStatus.REGISTERED]),
            JobRun.due_at < now - KEEP_INTERVAL_OK, JobRun.id.not_in(newest)))
        await session.execute(delete(JobRun).where(JobRun.due_at < now - KEEP_ANY, JobRun.id.not_in(newest)))
        await session.commit()
