"""Dates and times as people type them: "2026-12-01 09:00", "12-05 18:00", "12月5日18点",
"明天 9:00", "下午3点半". Read as district-local time; returned timezone-aware UTC."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

_DAY_WORDS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
_PERIOD = r"(?P<period>凌晨|早上|上午|中午|下午|傍晚|晚上)?"
_CLOCK = _PERIOD + r"\s*(?P<hour>\d{1,2})\s*(?:[:：]\s*(?P<minute>\d{2})|点\s*(?:(?P<half>半)|(?P<minute2>\d{1,2})\s*分?)?)"
_FULL = re.compile(r"^\s*(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?[\sT]*" + _CLOCK)
_SHORT = re.compile(r"^\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?\s*" + _CLOCK)
_RELATIVE = re.compile(r"^\s*(?P<word>今天|今日|明天|明日|后天)\s*" + _CLOCK)
_DATE_ONLY_FULL = re.compile(r"^\s*(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?")
_DATE_ONLY_SHORT = re.compile(r"^\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?")


class TimeParseError(ValueError):
    """Looked like a time but is not a valid one (month 13, 25:00)."""


def _clock(m: re.Match) -> time:
    hour = int(m.group("hour"))
    minute = int(m.group("minute") or m.group("minute2") or (30 if m.group("half") else 0))
    period = m.group("period")
    if period in ("下午", "傍晚", "晚上") and hour < 12:
        hour += 12
    if period == "中午" and hour < 11:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise TimeParseError(f"{hour}:{minute:02d}")
    return time(hour, minute)


def parse_when(text: str, now_local: datetime, *, date_only_time: time | None = None) -> tuple[datetime | None, str]:
    """A leading date/time in ``text``: (UTC datetime, the rest of the text), or (None, text).

    ``now_local`` is district-local; a year-less date already past by more than a day means next
    year. With ``date_only_time``, a bare date ("12-05") means that time of day.
    """
    tz = now_local.tzinfo
    try:
        if m := _FULL.match(text):
            day = date(int(m.group("year")), int(m.group("month")), int(m.group("day")))
            moment = datetime.combine(day, _clock(m), tzinfo=tz)
        elif m := _RELATIVE.match(text):
            day = now_local.date() + timedelta(days=_DAY_WORDS[m.group("word")])
            moment = datetime.combine(day, _clock(m), tzinfo=tz)
        elif m := _SHORT.match(text):
            moment = _year_less(int(m.group("month")), int(m.group("day")), _clock(m), now_local)
        elif date_only_time is not None and (m := _DATE_ONLY_FULL.match(text)):
            day = date(int(m.group("year")), int(m.group("month")), int(m.group("day")))
            moment = datetime.combine(day, date_only_time, tzinfo=tz)
        elif date_only_time is not None and (m := _DATE_ONLY_SHORT.match(text)):
            moment = _year_less(int(m.group("month")), int(m.group("day")), date_only_time, now_local)
        else:
            return None, text
    except ValueError as exc:
        raise TimeParseError(str(exc)) from exc
    return moment.astimezone(timezone.utc), text[m.end():].strip()


def _year_less(month: int, day_of_month: int, clock: time, now_local: datetime) -> datetime:
    moment = datetime.combine(date(now_local.year, month, day_of_month), clock, tzinfo=now_local.tzinfo)
    if moment < now_local - timedelta(days=1):
        moment = moment.replace(year=now_local.year + 1)
    return moment

