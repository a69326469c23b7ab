"""Runs the registered jobs that are due, with the database as the source of truth.

- Every fire time a job runs for is a ``job_runs`` row, unique per (job, due time), written
  before the job starts: a restart, a crash or a second process cannot run it twice.
- After downtime, a job's missed fire times are coalesced: the newest one runs once if it is
  still within the job's grace period, otherwise it (and any older ones) are recorded missed.
- One process runs the schedules: it holds the ``scheduler_lease`` row, renewed every tick;
  another process takes over once the lease has expired (the holder died or hung). The lease is
  timed on the database's clock (PostgreSQL ``now()``), never on a process's own clock, so two
  hosts whose clocks disagree cannot both hold it; with SQLite (one host) the injected clock is
  the database's clock. ``schedules.lease_seconds`` / ``schedules.tick_seconds`` (20 s / 5 s):
  a crashed holder is replaced within lease + tick; a clean stop hands over at once (on
  PostgreSQL the release is announced and the other processes tick right away).
- In production an APScheduler ``AsyncIOScheduler`` calls :meth:`Scheduler.run_due` every
  ``tick_seconds`` of real time; tests call it on the fake clock (``BotHarness.advance``), at
  the moments :meth:`Scheduler.next_due` names: polling jobs that say when they next have work
  (``registry.next_work``) are passed over at their idle fire times, so a simulated month
  costs per event, not per minute.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models.schedules import JobRun, JobStatus, SchedulerLease
from bot.wakeups import LEASE, announce
from schedules.registry import JOBS, Job

log = logging.getLogger(__name__)

LEASE_NAME = "schedules"
MAX_MISSED_RECORDS = 50             # older missed fire times of one job are not itemised


@dataclass(frozen=True)
class JobOutcome:
    job: str
    due_at: datetime
    status: str
    error: str | None = None
    run_id: int | None = None


def _insert(session: AsyncSession):  # noqa: ANN202
    return postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert


def new_holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Scheduler:
    def __init__(self, app: Any, *, holder: str | None = None, lease_ttl: timedelta | None = None,
                 tick_seconds: float | None = None, jobs: dict[str, Job] | None = None) -> None:
        self.app = app
        self.holder = holder or new_holder_id()
        configured = app.settings.schedules
        self.lease_ttl = lease_ttl or timedelta(seconds=configured.lease_seconds)
        self.tick_seconds = tick_seconds or configured.tick_seconds
        # Set after every production tick (whatever its outcome): what a caller waits on.
        self.ticked = asyncio.Event()
        self._poked: set[asyncio.Task] = set()
        self._jobs = jobs  # None: the live registry (modules may register jobs late)
        self._lock = asyncio.Lock()
        self._holding = False
        self._last: dict[str, datetime] = {}  # job → newest fire time handled (any status)
        self._next: dict[str, tuple[datetime, datetime]] = {}  # job → (last, its next fire time)
        self._driver: Any = None
        self._stopping = False
        self._renewed_at = 0.0  # monotonic: long ticks renew the lease between jobs
        # Set by next_due, used by the next run_due only: polling job → its first fire time with
        # work (None: no work in sight); its fire times before that pass without a run.
        self._idle_until: dict[str, datetime | None] = {}

    @property
    def jobs(self) -> list[Job]:
        return list((self._jobs if self._jobs is not None else JOBS).values())

    @property
    def holding(self) -> bool:
        return self._holding

    # ------------------------------------------------------------------ production driver
    async def start(self) -> None:
        """Drive :meth:`run_due` on real time with APScheduler (first tick right away)."""
        if self._driver is not None:
            return
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        tz = self.app.clock.tz
        # The driver is the real-time heartbeat (APScheduler sleeps on the event loop), so it is
        # anchored at wall-clock now; what is due is decided by run_due on the injected clock.
        now = datetime.now(timezone.utc)
        driver = AsyncIOScheduler(timezone=tz)
        driver.add_listener(self._on_driver_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        driver.add_job(
            self._tick, IntervalTrigger(seconds=self.tick_seconds, start_date=now, timezone=tz),
            id="zhibu-schedules", name="zhibu schedules tick", max_instances=1, coalesce=True,
            misfire_grace_time=max(1, int(self.tick_seconds)), next_run_time=now,
        )
        driver.start()
        self._driver = driver
        self._stopping = False
        log.info("schedules started (holder %s, %d jobs, tick %ss)", self.holder, len(self.jobs), self.tick_seconds)

    async def _tick(self) -> None:
        # The one place driver-level errors end up: a tick must never kill the schedule.
        try:
            await self.run_due()
        except Exception:
            log.exception("schedules tick failed")
        finally:
            self.ticked.set()

    def poke(self) -> None:
        """Tick now (another process handed the lease back), if the driver is running."""
        if self._driver is None or self._stopping or self._lock.locked():
            return
        task = asyncio.create_task(self._tick(), name="zhibu schedules poke")
        self._poked.add(task)
        task.add_done_callback(self._poked.discard)

    def _on_driver_event(self, event: Any) -> None:
        if getattr(event, "exception", None) is not None:
            log.error("schedules driver job %s raised %r", event.job_id, event.exception)
        else:
            log.warning("schedules driver event %s for %s", event.code, event.job_id)

    async def stop(self) -> None:
        """Stop the driver, let a running tick finish, and hand the lease back."""
        self._stopping = True
        if self._driver is not None:
            try:
                self._driver.shutdown(wait=False)
            except Exception:  # already stopped, or the loop is closing
                log.debug("driver shutdown", exc_info=True)
            self._driver = None
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout=30)
        except asyncio.TimeoutError:
            log.warning("a schedules tick is still running at stop; the lease will expire on its own")
            return
        try:
            if self._holding and self.app.worker_sessions is not None:
                await self._release()
        except Exception:
            log.exception("could not release the schedules lease")
        finally:
            self._holding = False
            self._lock.release()

    # ------------------------------------------------------------------ the tick
    async def run_due(self) -> list[JobOutcome]:
        """Run every job that is due now (if this process holds the lease)."""
        idle, self._idle_until = self._idle_until, {}
        if self.app.worker_sessions is None or self._stopping:
            return []
        async with self._lock:
            now = self.app.clock.now()
            async with self.app.worker_sessions() as session:
                if not await self._hold_lease(session, now, await self._lease_clock(session)):
                    await session.commit()
                    return []
                outcomes, to_run = await self._claim_due(session, now, idle)
                await session.commit()
            self._renewed_at = time.monotonic()
            finished: list[JobOutcome] = []
            try:
                for job, due, run_id in to_run:
                    if time.monotonic() - self._renewed_at > self.lease_ttl.total_seconds() / 3 \
                            and not await self._still_holding():
                        log.warning("lost the schedules lease mid-tick; leaving %s for the new holder", job.name)
                        break
                    finished.append(await self._execute(job, due, run_id))
            finally:
                # One write for the whole tick; a crash before it leaves "running" rows that the
                # next holder marks interrupted.
                await self._record_outcomes(finished)
                self.app.outbox.notify()
            return outcomes + finished

    async def _claim_due(self, session: AsyncSession, now: datetime, idle: dict[str, datetime | None] | None = None,
                         ) -> tuple[list[JobOutcome], list[tuple[Job, datetime, int]]]:
        """Work out what is due and write its rows in one statement: running (to run now),
        missed, or registered (first sight). ``idle``: see ``_idle_until``."""
        idle = idle or {}
        tz = self.app.clock.tz
        rows: list[dict[str, Any]] = []
        candidates: dict[tuple[str, datetime], Job] = {}
        for job in self.jobs:
            last = self._last.get(job.name)
            upcoming = self._next.get(job.name)
            if last is not None and upcoming is not None and upcoming[0] == last and upcoming[1] > now:
                continue  # not due yet (cached: computing cron fire times every tick adds up)
            if last is None:
                # First sight of this job: its fire times count from now (a fresh install does
                # not run this morning's digest at noon).
                rows.append(self._row(job.name, now, JobStatus.REGISTERED, now, "first seen"))
                self._last[job.name] = now
                continue
            times = job.fire_times(last, now, tz)
            if times and job.name in idle and not _has_work(times, idle[job.name], now):
                self._last[job.name] = times[-1]  # runs that would have found nothing: no row
                continue
            if not times:
                following = job.next_after(last, tz)
                if following is not None:
                    self._next[job.name] = (last, following)
                continue
            latest = times[-1]
            self._last[job.name] = latest
            if not job.is_interval:
                for due in times[:-1][-MAX_MISSED_RECORDS:]:
                    rows.append(self._row(job.name, due, JobStatus.MISSED, now, "scheduler not running"))
            if now - latest > job.grace:
                rows.append(self._row(job.name, latest, JobStatus.MISSED, now, f"past grace {job.grace}"))
                log.warning("job %s due %s missed (now %s, grace %s)", job.name, latest, now, job.grace)
                continue
            note = f"coalesced {len(times) - 1} earlier" if len(times) > 1 and job.is_interval else None
            rows.append(self._row(job.name, latest, JobStatus.RUNNING, now, note))
            candidates[(job.name, latest)] = job
        if not rows:
            return [], []
        # The rows as executemany parameters of one statement (SQLAlchemy sends them as one
        # multi-row INSERT): a VALUES list of its own per tick was compiled afresh each time.
        table = JobRun.__table__
        stmt = (_insert(session)(table).on_conflict_do_nothing(index_elements=["job", "due_at"])
                .returning(table.c.id, table.c.job, table.c.due_at, table.c.status))
        outcomes: list[JobOutcome] = []
        to_run: list[tuple[Job, datetime, int]] = []
        for run_id, name, due, status in (await session.execute(stmt, rows)).all():
            if status == JobStatus.MISSED:
                outcomes.append(JobOutcome(name, due, status))
            elif status == JobStatus.RUNNING and (name, due) in candidates:
                to_run.append((candidates[(name, due)], due, run_id))
        order = {job.name: i for i, job in enumerate(self.jobs)}  # RETURNING order is not guaranteed
        to_run.sort(key=lambda item: order[item[0].name])
        return outcomes, to_run

    def _row(self, job: str, due: datetime, status: str, now: datetime, note: str | None) -> dict[str, Any]:
        running = status == JobStatus.RUNNING
        return dict(job=job, due_at=due, status=status, holder=self.holder, note=note,
                    started_at=now if running else None, finished_at=None if running else now)

    async def _execute(self, job: Job, due: datetime, run_id: int) -> JobOutcome:
        """Run one job; every error ends up here, logged with the job's name and due time."""
        try:
            await job.func(self.app, due)
            return JobOutcome(job.name, due, JobStatus.OK, run_id=run_id)
        except Exception as exc:
            log.exception("scheduled job %s (due %s) failed", job.name, due)
            return JobOutcome(job.name, due, JobStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000], run_id)

    async def _record_outcomes(self, outcomes: list[JobOutcome]) -> None:
        if not outcomes:
            return
        try:
            async with self.app.worker_sessions() as session:
                finished_at = self.app.clock.now()
                ok = [o.run_id for o in outcomes if o.status == JobStatus.OK]
                if ok:
                    await session.execute(update(JobRun).where(JobRun.id.in_(ok)).values(
                        status=JobStatus.OK, finished_at=finished_at))
                for o in outcomes:
                    if o.status != JobStatus.OK:
                        await session.execute(update(JobRun).where(JobRun.id == o.run_id).values(
                            status=o.status, error=o.error, finished_at=finished_at))
                await session.commit()
        except Exception:
            log.exception("could not record the outcome of jobs %s", [o.job for o in outcomes])

    async def run_now(self, name: str) -> JobOutcome:
        """Run one job at once (operator command), recorded like a scheduled run."""
        job = next((j for j in self.jobs if j.name == name), None)
        if job is None:
            raise LookupError(name)
        async with self._lock:
            now = self.app.clock.now()
            async with self.app.worker_sessions() as session:
                stmt = (_insert(session)(JobRun).values(self._row(job.name, now, JobStatus.RUNNING, now, "manual"))
                        .on_conflict_do_nothing(index_elements=["job", "due_at"]).returning(JobRun.id))
                run_id = (await session.execute(stmt)).scalar_one_or_none()
                await session.commit()
            if run_id is None:
                return JobOutcome(job.name, now, "duplicate")
            outcome = await self._execute(job, now, run_id)
            await self._record_outcomes([outcome])
            self.app.outbox.notify()
            return outcome

    # ------------------------------------------------------------------ what is next
    async def next_due(self, after: datetime) -> datetime | None:
        """The next moment :meth:`run_due` has something to run, as seen at ``after`` (may be
        ``after`` itself when a fire time has already passed); None when no job will ever fire.

        A polling job with a ``next_work`` hint counts from its first fire time at or after the
        hint; its fire times before that are idle, and the next :meth:`run_due` passes them over
        (except one falling exactly on that run's moment, which runs as it always would: an
        earlier job of the same tick may have just made work for it)."""
        tz = self.app.clock.tz
        if not self._holding or any(job.name not in self._last for job in self.jobs):
            # Nothing known yet (the lease is not ours, or a job not seen): look in a minute.
            return after + timedelta(minutes=1)
        idle: dict[str, datetime | None] = {}
        soonest: datetime | None = None
        for job in self.jobs:
            first = job.next_after(self._last[job.name], tz)
            if first is not None and job.next_work is not None:
                try:
                    hint = await job.next_work(self.app, after)
                except Exception:
                    log.exception("next_work of job %s failed; counting its every fire time", job.name)
                else:
                    first = None if hint is None else job.next_at_or_after(max(hint, first), tz)
                    idle[job.name] = first
            if first is not None and (soonest is None or first < soonest):
                soonest = first
        self._idle_until = idle
        return soonest if soonest is None else max(soonest, after)

    # ------------------------------------------------------------------ the lease
    async def _lease_clock(self, session: AsyncSession) -> datetime:
        """Now on the database's clock: every process judges the lease by the same clock."""
        if session.bind.dialect.name == "postgresql":
            return (await session.execute(select(func.now()))).scalar_one()
        return self.app.clock.now()  # SQLite: one host, and tests move the injected clock

    async def _hold_lease(self, session: AsyncSession, now: datetime, lease_now: datetime) -> bool:
        """Renew or take the lease (times in ``lease_now``, the database clock)."""
        expires = lease_now + self.lease_ttl
        renewed = await session.execute(update(SchedulerLease).where(
            SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder,
        ).values(expires_at=expires))
        if renewed.rowcount == 1:
            if not self._holding:  # our own lease from before a pause: state may have moved on
                await self._take_over(session, now)
            return True
        taken = await session.execute(update(SchedulerLease).where(
            SchedulerLease.name == LEASE_NAME, SchedulerLease.expires_at < lease_now,
        ).values(holder=self.holder, acquired_at=lease_now, expires_at=expires))
        if taken.rowcount != 1:
            inserted = await session.execute(
                _insert(session)(SchedulerLease).values(name=LEASE_NAME, holder=self.holder, acquired_at=lease_now,
                                                        expires_at=expires)
                .on_conflict_do_nothing(index_elements=["name"]).returning(SchedulerLease.name))
            if inserted.scalar_one_or_none() is None:
                if self._holding:
                    log.warning("schedules lease lost to another process")
                self._holding = False
                return False
        await self._take_over(session, now)
        return True

    async def _take_over(self, session: AsyncSession, now: datetime) -> None:
        """Newly holding: read where every job stands, and close runs a dead holder left open."""
        self._holding = True
        interrupted = await session.execute(update(JobRun).where(
            JobRun.status == JobStatus.RUNNING, JobRun.holder != self.holder,
        ).values(status=JobStatus.FAILED, finished_at=now, error="interrupted: the process running it stopped"))
        if interrupted.rowcount:
            log.warning("%d job run(s) left running by a stopped process marked failed", interrupted.rowcount)
        rows = (await session.execute(select(JobRun.job, func.max(JobRun.due_at)).group_by(JobRun.job))).all()
        self._last = {job: due for job, due in rows}
        log.info("schedules lease taken by %s", self.holder)

    async def _still_holding(self) -> bool:
        """Between jobs of a long tick (real time, not the injected clock): renew the lease,
        and stop if another process took over."""
        async with self.app.worker_sessions() as session:
            now = await self._lease_clock(session)
            result = await session.execute(update(SchedulerLease).where(
                SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder,
            ).values(expires_at=now + self.lease_ttl))
            await session.commit()
        self._renewed_at = time.monotonic()
        self._holding = result.rowcount == 1
        return self._holding

    async def _release(self) -> None:
        async with self.app.worker_sessions() as session:
            now = await self._lease_clock(session)
            await session.execute(update(SchedulerLease).where(
                SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder,
            ).values(expires_at=now - timedelta(seconds=1)))
            await announce(session, LEASE)
            await session.commit()

    # ------------------------------------------------------------------ reading
    async def status(self) -> dict[str, Any]:
        """The lease and, per job, its last run and next fire time (for the CLI and dashboard)."""
        now = self.app.clock.now()
        tz = self.app.clock.tz
        async with self.app.worker_sessions() as session:
            lease_now = await self._lease_clock(session)
            lease = await session.get(SchedulerLease, LEASE_NAME)
            latest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
            runs = {r.job: r for r in (await session.execute(
                select(JobRun).join(latest, JobRun.id == latest.c.id))).scalars()}
        jobs = []
        for job in self.jobs:
            run = runs.get(job.name)
            jobs.append({
                "job": job.name, "trigger": job.describe(), "grace": job.grace,
                "last_due": run.due_at if run else None, "last_status": run.status if run else None,
                "last_error": run.error if run else None, "next": job.next_after(now, tz),
            })
        return {
            "lease_holder": lease.holder if lease and lease.expires_at > lease_now else None,
            "lease_expires": lease.expires_at if lease else None, "me": self.holder, "jobs": jobs,
        }


def _has_work(times: list[datetime], work_from: datetime | None, now: datetime) -> bool:
    """Whether any of a polling job's pending fire times is one to run (see ``next_due``)."""
    return any(t == now or (work_from is not None and t >= work_from) for t in times)


async def first_seen(app: Any, job_name: str) -> datetime | None:
    """When the schedules first knew ``job_name`` (its oldest kept row): a job doing its own
    per-item timing uses it so a fresh install does not catch up on this morning's work."""
    async with app.worker_sessions() as session:
        return (await session.execute(select(func.min(JobRun.due_at)).where(JobRun.job == job_name))).scalar_one()
