"""Injected time, so deadlines, rate limits and schedules are testable without sleeping."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

UTC = timezone.utc


class Clock(Protocol):
    tz: ZoneInfo

    def now(self) -> datetime:
        """Current time, timezone-aware (UTC)."""

    async def sleep(self, seconds: float) -> None: ...

    def local(self, moment: datetime | None = None) -> datetime:
        """``moment`` (default: now) in the district's timezone."""


class SystemClock:
    def __init__(self, tz: str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def local(self, moment: datetime | None = None) -> datetime:
        return (moment or self.now()).astimezone(self.tz)


class FakeClock:
    """A clock that moves only when told; ``sleep`` advances it instantly."""

    def __init__(self, start: datetime | None = None, tz: str = "Asia/Shanghai") -> None:
        self.tz = ZoneInfo(tz)
        start = start or datetime(2026, 12, 1, 9, 0)
        if start.tzinfo is None:  # a naive start means district-local time
            start = start.replace(tzinfo=self.tz)
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)

    def local(self, moment: datetime | None = None) -> datetime:
        return (moment or self._now).astimezone(self.tz)
