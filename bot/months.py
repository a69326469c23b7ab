"""Calendar months as the district counts them: "2026-11" is a month of the district's local
calendar (rankings, honour rolls, ratings, stats); moments in the database are UTC."""
from __future__ import annotations

from datetime import date, datetime, timezone, tzinfo


def month_key(day: date) -> str:
    """"2026-11" for any day (or local datetime) of November 2026."""
    return f"{day.year:04d}-{day.month:02d}"


def shift_month(month: str, delta: int) -> str:
    """"2026-11" moved by ``delta`` months ("2026-12", "2027-01", …)."""
    year, mon = (int(p) for p in month.split("-"))
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def previous_month(local_now: datetime) -> str:
    """The month before the local ``local_now``'s month (what a monthly report covers)."""
    return shift_month(month_key(local_now), -1)


def month_bounds(month: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar month "YYYY-MM" in ``tz``, as UTC instants."""
    return _first_moment(month, tz), _first_moment(shift_month(month, 1), tz)


def _first_moment(month: str, tz: tzinfo) -> datetime:
    year, mon = (int(p) for p in month.split("-"))
    return datetime(year, mon, 1, tzinfo=tz).astimezone(timezone.utc)
