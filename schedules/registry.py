"""Where features declare their scheduled jobs.

    from schedules.registry import every, daily

    @every("tickets.escalate", minutes=5)
    async def escalate(app, now): ...

    @daily("digests.daily", hour=8, minute=30)
    async def digest(app, now): ...

A job gets the BotApp (sessions, outbox, clock, org, settings) and the time it was due
(timezone-aware UTC). Hours and minutes are district-local time (``settings.timezone``).

Fire times come from APScheduler triggers, always anchored at a fixed start date and asked
about a given moment — never at the wall clock, so tests on a fake clock get the same times.
Interval jobs are aligned to that anchor (every 5 minutes fires at :00, :05, … local time),
so their times are the same in every process and after every restart.

A polling job (every minute, every 5 minutes…) may say when it next has work:

    @next_work("tickets.sweep")
    async def sweep_due(app, after): ...   # the earliest moment work may be due, or None

The runner asks it only to tell a caller when something is next due (``Scheduler.next_due``,
which the test kit's clock jumps by); in production the job still runs at every fire time.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any, Awaitable, Callable

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

JobFunc = Callable[[Any, datetime], Awaitable[None]]
# (app, after) -> the earliest moment the job may have work (None: none until something else
# changes). Early is allowed (a run that finds nothing); late is not.
HintFunc = Callable[[Any, datetime], Awaitable[datetime | None]]

# The anchor of every trigger (local midnight): aligned interval jobs, and a start date that
# keeps APScheduler from reading the wall clock.
_ANCHOR = datetime(2000, 1, 3)  # a Monday
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class Job:
    name: str
    func: JobFunc
    trigger_args: tuple[str, dict]
    grace: timedelta  # a fire time missed by up to this much still runs (once); older ones are recorded missed
    next_work: HintFunc | None = None  # a polling job's own next due time (see the module doc)

    @property
    def is_interval(self) -> bool:
        return self.trigger_args[0] == "interval"

    @property
    def interval(self) -> timedelta | None:
        return timedelta(seconds=self.trigger_args[1]["seconds"]) if self.is_interval else None

    def trigger(self, tz: tzinfo) -> BaseTrigger:
        """The APScheduler trigger, anchored at a fixed local midnight."""
        kind, args = self.trigger_args
        start = _ANCHOR.replace(tzinfo=tz)
        if kind == "interval":
            return IntervalTrigger(timezone=tz, start_date=start, **args)
        return CronTrigger(timezone=tz, start_date=start, **args)

    def next_after(self, moment: datetime, tz: tzinfo) -> datetime | None:
        """The first fire time strictly after ``moment``."""
        fire = self.trigger(tz).get_next_fire_time(None, moment + _EPSILON)
        return fire if fire is None else fire.astimezone(moment.tzinfo)

    def next_at_or_after(self, moment: datetime, tz: tzinfo) -> datetime | None:
        """The first fire time at ``moment`` or later."""
        return self.next_after(moment - _EPSILON, tz)

    def fire_times(self, after: datetime, until: datetime, tz: tzinfo, limit: int = 1000) -> list[datetime]:
        """Fire times in (after, until], oldest first; at most the newest ``limit`` of them."""
        if self.is_interval:
            # Arithmetic, not iteration: a week's downtime of a 1-minute job is 10,080 fire times.
            step = self.interval
            assert step is not None
            last = self._latest_interval_fire(until, tz)
            times = []
            moment = last
            while moment > after and len(times) < limit:
                times.append(moment)
                moment -= step
            return times[::-1]
        trigger = self.trigger(tz)
        times: list[datetime] = []
        # Look back at most ~13 months: a job down for years would otherwise iterate for long.
        moment = max(after, until - timedelta(days=400))
        while True:
            fire = trigger.get_next_fire_time(None, moment + _EPSILON)
            if fire is None or fire > until:
                break
            times.append(fire.astimezone(until.tzinfo))
            if len(times) > limit:
                times.pop(0)
            moment = fire
        return times

    def _latest_interval_fire(self, moment: datetime, tz: tzinfo) -> datetime:
        step = self.interval
        assert step is not None
        anchor = _ANCHOR.replace(tzinfo=tz)
        count = (moment - anchor) // step
        return (anchor + count * step).astimezone(moment.tzinfo)

    def describe(self) -> str:
        kind, args = self.trigger_args
        if kind == "interval":
            return f"every {args['seconds']:g}s"
        return "cron " + " ".join(f"{k}={v}" for k, v in args.items())


JOBS: dict[str, Job] = {}


def _register(name: str, kind: str, args: dict, grace: timedelta) -> Callable[[JobFunc], JobFunc]:
    def decorate(func: JobFunc) -> JobFunc:
        JOBS[name] = Job(name, func, (kind, args), grace)
        return func
    return decorate


def next_work(name: str) -> Callable[[HintFunc], HintFunc]:
    """Declare when the job ``name`` (registered above this) next has work: see the module doc."""
    def decorate(func: HintFunc) -> HintFunc:
        JOBS[name] = replace(JOBS[name], next_work=func)
        return func
    return decorate


def every(name: str, *, minutes: float = 0, hours: float = 0, grace: timedelta | None = None):  # noqa: ANN201
    """Every so often, aligned to local midnight (every 5 minutes: :00, :05, …)."""
    seconds = minutes * 60 + hours * 3600
    if seconds <= 0:
        raise ValueError(f"job {name}: an interval must be positive")
    return _register(name, "interval", {"seconds": seconds}, grace or timedelta(seconds=seconds))


def daily(name: str, *, hour: int, minute: int = 0, grace: timedelta = timedelta(hours=2)):  # noqa: ANN201
    return _register(name, "cron", {"hour": hour, "minute": minute}, grace)


def weekly(name: str, *, day_of_week: str, hour: int, minute: int = 0,
           grace: timedelta = timedelta(hours=6)):  # noqa: ANN201
    return _register(name, "cron", {"day_of_week": day_of_week, "hour": hour, "minute": minute}, grace)


def monthly(name: str, *, day: int, hour: int, minute: int = 0,
            grace: timedelta = timedelta(days=1)):  # noqa: ANN201
    return _register(name, "cron", {"day": day, "hour": hour, "minute": minute}, grace)


def cron(name: str, *, grace: timedelta = timedelta(hours=1), **fields: Any):  # noqa: ANN201
    """Any APScheduler cron expression (``day_of_week="mon-fri", hour="8-18", minute="*/15"``)."""
    return _register(name, "cron", dict(fields), grace)
