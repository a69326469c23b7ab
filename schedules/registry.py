"""Where features declare their scheduled jobs.

    from schedules.registry import every, daily

    @every("tickets.escalate", minutes=5)
    async def escalate(app, now): ...

    @daily("digests.daily", hour=8, minute=30)
    async def digest(app, now): ...

A job gets the BotApp (sessions, outbox, clock, org, settings) and the time it was due.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

JobFunc = Callable[[Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    name: str
    func: JobFunc
    trigger_args: tuple[str, dict]
    grace: timedelta

    def trigger(self, tz, start) -> BaseTrigger:  # noqa: ANN001
        """The APScheduler trigger, anchored at ``start`` (never at the wall clock: tests use a fake one)."""
        kind, args = self.trigger_args
        if kind == "interval":
            return IntervalTrigger(timezone=tz, start_date=start, **args)
        return CronTrigger(timezone=tz, start_date=start, **args)

    def next_after(self, moment, tz):  # noqa: ANN001, ANN201
        """The first fire time strictly after ``moment``."""
        start = moment + timedelta(microseconds=1)
        if self.trigger_args[0] == "interval":
            start = moment + timedelta(seconds=self.trigger_args[1]["seconds"])
        return self.trigger(tz, start).get_next_fire_time(None, start)


JOBS: dict[str, Job] = {}


def _register(name: str, kind: str, args: dict, grace: timedelta) -> Callable[[JobFunc], JobFunc]:
    def decorate(func: JobFunc) -> JobFunc:
        JOBS[name] = Job(name, func, (kind, args), grace)
        return func
    return decorate


def every(name: str, *, minutes: float = 0, hours: float = 0, grace: timedelta | None = None):  # noqa: ANN201
    seconds = minutes * 60 + hours * 3600
    return _register(name, "interval", {"seconds": seconds}, grace or timedelta(seconds=seconds))


def daily(name: str, *, hour: int, minute: int = 0, grace: timedelta = timedelta(hours=2)):  # noqa: ANN201
    return _register(name, "cron", {"hour": hour, "minute": minute}, grace)


def weekly(name: str, *, day_of_week: str, hour: int, minute: int = 0,
           grace: timedelta = timedelta(hours=6)):  # noqa: ANN201
    return _register(name, "cron", {"day_of_week": day_of_week, "hour": hour, "minute": minute}, grace)


def monthly(name: str, *, day: int, hour: int, minute: int = 0,
            grace: timedelta = timedelta(days=1)):  # noqa: ANN201
    return _register(name, "cron", {"day": day, "hour": hour, "minute": minute}, grace)
