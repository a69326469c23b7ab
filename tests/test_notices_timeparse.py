"""Times as people type them, read as district-local time."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services.timeparse import TimeParseError, parse_when

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)


@pytest.mark.parametrize("text, expected, rest", [
    ("2026-12-01 09:00 通知 停水", datetime(2026, 12, 1, 9, 0), "通知 停水"),
    ("2026/12/3 9:30通知", datetime(2026, 12, 3, 9, 30), "通知"),
    ("12-05 18:00", datetime(2026, 12, 5, 18, 0), ""),
    ("12月5日18点", datetime(2026, 12, 5, 18, 0), ""),
    ("明天 9:00 通知", datetime(2026, 12, 2, 9, 0), "通知"),
    ("后天下午3点半", datetime(2026, 12, 3, 15, 30), ""),
    ("01-05 08:00", datetime(2027, 1, 5, 8, 0), ""),  # a past date without a year is next year
])
def test_leading_times_are_read_as_local(text, expected, rest):
    when, remainder = parse_when(text, NOW)
    assert when == expected.replace(tzinfo=TZ) and remainder == rest


def test_text_without_a_time_is_left_alone():
    assert parse_when("通知 停水", NOW) == (None, "通知 停水")


@pytest.mark.parametrize("text", ["2026-13-45 10:00", "12-01 25:00"])
def test_impossible_times_raise(text):
    with pytest.raises(TimeParseError):
        parse_when(text, NOW)


def test_a_bare_date_means_the_given_time_of_day():
    when, _ = parse_when("12-05", NOW, date_only_time=datetime(2000, 1, 1, 23, 59).time())
    assert when == datetime(2026, 12, 5, 23, 59, tzinfo=TZ)
