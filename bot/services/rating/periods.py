"""Rating periods: "2026-Q4", "2026-12", "2026-H2", "2026" — local calendar bounds in UTC."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.months import shift_month

_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}


def _first_month(period: str) -> tuple[int, int, int]:
    """(year, first month, number of months)."""
    if "-Q" in period:
        year, q = period.split("-Q")
        return int(year), (int(q) - 1) * 3 + 1, 3
    if "-H" in period:
        year, h = period.split("-H")
        return int(year), (int(h) - 1) * 6 + 1, 6
    if "-" in period:
        year, mon = period.split("-")
        return int(year), int(mon), 1
    return int(period), 1, 12


def period_of(local: datetime, kind: str) -> str:
    y, m = local.year, local.month
    if kind == "quarter":
        return f"{y}-Q{(m - 1) // 3 + 1}"
    if kind == "half":
        return f"{y}-H{(m - 1) // 6 + 1}"
    if kind == "year":
        return f"{y}"
    return f"{y:04d}-{m:02d}"


def bounds(period: str, tz) -> tuple[datetime, datetime]:  # noqa: ANN001
    year, first, n = _first_month(period)
    start = datetime(year, first, 1, tzinfo=tz)
    ey, em = (int(x) for x in shift_month(f"{year:04d}-{first:02d}", n).split("-"))
    end = datetime(ey, em, 1, tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def previous(period: str, kind: str) -> str:
    year, first, n = _first_month(period)
    y, m = (int(x) for x in shift_month(f"{year:04d}-{first:02d}", -_MONTHS[kind]).split("-"))
    return period_of(datetime(y, m, 1), kind)


def last_finished(local_now: datetime, kind: str) -> str:
    """The period that ended most recently (what the scheduled run rates)."""
    return previous(period_of(local_now, kind), kind)


def label(period: str) -> str:
    if "-Q" in period:
        year, q = period.split("-Q")
        return f"{year}年第{'一二三四'[int(q) - 1]}季度"
    if "-H" in period:
        year, h = period.split("-H")
        return f"{year}年{'上下'[int(h) - 1]}半年"
    if "-" in period:
        year, mon = period.split("-")
        return f"{year}年{int(mon)}月"
    return f"{period}年"
