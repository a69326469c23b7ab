"""The one way people read times from the bot: "12月5日 18:00", or "12月5日" for a day.

Callers pass a local time (``deps.clock.local(moment)``); no year, no leading zeros, the
way people write dates in WeChat ("12-05" reads like a room number)."""
from __future__ import annotations

from datetime import date, datetime

from bot.clock import Clock


def day(value: date | datetime) -> str:
    """12月5日."""
    return f"{value.month}月{value.day}日"


def moment(value: datetime) -> str:
    """12月5日 18:00."""
    return f"{day(value)} {value:%H:%M}"


def moment_near(value: datetime, today: date) -> str:
    """12月5日 18:00, with the year in front when it is not this year's (2025年12月5日 18:00)."""
    return moment(value) if value.year == today.year else f"{value.year}年{moment(value)}"


def stored(clock: Clock, value: datetime | None) -> str:
    """A stored (UTC) moment as people read it in district time: 12月5日 18:00, the year only
    when it is not this year's; "" for none."""
    if value is None:
        return ""
    return moment_near(clock.local(value), clock.local().date())
