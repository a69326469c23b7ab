"""One grammar for buildings, units and rooms as people write them, shared by nlp, roster and notices.

Pure (no bot imports). Accepted forms, Chinese numerals included (by ``cn2an``):

- building: 3号楼 / 3栋 / 3幢 / 3座 / 3# / 3#楼 / 3号院楼 / 三号楼 / 十二栋 / B座 (a letter: B座),
  and "3号" only when a unit follows (3号2单元). "3楼" alone is a floor and "3号" alone a date: never.
- unit after a building: 2单元 / 东单元 / 2门 (not 门口, 门卫 …); alone: 2单元 / 二单元.
- room after a unit or building: 501 / 501室 / 501号 / 501户 (not 50元, 120平, a floor 12层 / 12楼 …),
  or the 3-2-501 form.

A building is named by its canonical string: "3", "12", "B" (``building_label`` turns it back into
"3号楼" / "B座").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Characters that may stand for a number in front of a location marker.
_NUMERAL_CHARS = "零〇一二两三四五六七八九十百"
# Markers in front of which Chinese numerals are read as numbers, for free text (nlp): places of
# every kind, floors and rooms included.
LOCATION_MARKERS = r"号楼|号院|号|栋|幢|座|#|单元|期|楼|室|层|门|区"
# Markers of a building or unit only: converting "三楼" or "十二号" would rewrite floors and dates.
HOME_MARKERS = r"号楼|号院|栋|幢|座|#|单元"

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF5B) if chr(code).isalnum()} | {0xFF03: ord("#"),
                                                                                                0xFF0D: ord("-")}

# What follows a building's number ("号" alone only before a unit: see BUILDING).
BUILDING_MARKERS = r"号楼|号院楼|#楼?|栋|幢|座"
# Regex sources with named groups, for callers composing their own patterns (nlp/location.py).
BUILDING = (r"(?<![\d.\-:/A-Za-z])(?P<building>\d{1,3}|[A-Za-z])\s*"
            rf"(?:{BUILDING_MARKERS}|号(?=\s*(?:\d{{1,2}}|[东西南北中])\s*单元))")
UNIT_AFTER = r"(?:(?P<unit_door>\d{1,2})\s*门(?![口卫岗禁面前])|(?P<unit>\d{1,2}|[东西南北中])\s*单元)"
UNIT = r"(?<![\d.])(?P<unit>\d{1,2}|[东西南北中])\s*单元"
ROOM_AFTER = (r"(?:的)?\s*(?P<room>\d{2,4})(?![\d.%])"
              r"(?!\s*(?:元|块|平|米|万|人|个|斤|天|分|次|年|辆|层|岁|mm|cm))(?!楼)(?:\s*(?:室|号|户))?")
TRIPLE = r"(?<![\d.\-:/])(?P<building>\d{1,3})\s*-\s*(?P<unit>\d{1,2})\s*-\s*(?P<room>\d{2,4})(?![\d\-])"

BUILDING_RE = re.compile(BUILDING)
UNIT_RE = re.compile(UNIT)
_UNIT_AFTER_RE = re.compile(r"\s*" + UNIT_AFTER)
_ROOM_AFTER_RE = re.compile(ROOM_AFTER)
_TRIPLE_RE = re.compile(TRIPLE)
_BUILDING_TOKEN_RE = re.compile(rf"\s*(?P<building>\d{{1,3}}|[A-Za-z])\s*(?:{BUILDING_MARKERS}|号)\s*")
_UNIT_TOKEN_RE = re.compile(r"\s*(?P<unit>\d{1,2}|[东西南北中])\s*单元\s*")
_NUMERALS_RE: dict[str, re.Pattern[str]] = {}


@lru_cache(maxsize=1024)
def cn_to_int(text: str) -> int | None:
    """"十二" → 12, "二十三" → 23, "一百零五" → 105, "两" → 2, "五零一" → 501 (digit by digit), "12" → 12;
    None when ``text`` is no numeral."""
    text = text.strip()
    if not text:
        return None
    if text.isascii():
        return int(text) if text.isdigit() else None
    # Imported on first use: importing cn2an reads its YAML configuration (~0.1 s, a sixth of
    # the analyzer's load), and most messages have no Chinese numeral before a location marker.
    import cn2an

    try:
        return int(cn2an.cn2an(text, "normal"))
    except (ValueError, KeyError, IndexError):
        return None


def ascii_digits(text: str) -> str:
    """Full-width digits, letters, ＃ and － to ASCII, the rest left alone."""
    return (text or "").translate(_FULLWIDTH)


def numerals_to_digits(text: str, markers: str = LOCATION_MARKERS) -> str:
    """Chinese numerals in front of one of ``markers`` become digits: "三号楼二单元" → "3号楼2单元"."""
    pattern = _NUMERALS_RE.get(markers)
    if pattern is None:
        pattern = _NUMERALS_RE[markers] = re.compile(rf"[{_NUMERAL_CHARS}]+(?=\s*(?:{markers}))")

    def digits(m: re.Match[str]) -> str:
        value = cn_to_int(m.group(0))
        return m.group(0) if value is None else str(value)

    return pattern.sub(digits, text)


def building_label(building: str) -> str:
    """"3" → "3号楼", "B" → "B座"."""
    return f"{building}座" if building.isalpha() else f"{building}号楼"


def building_of(token: str) -> str | None:
    """The building a whole token names ("3#楼", "十二栋", "b座" → "3", "12", "B"); None otherwise.

    A bare "3号" is taken as building 3 here: a token standing alone as a target is no date."""
    m = _BUILDING_TOKEN_RE.fullmatch(numerals_to_digits(ascii_digits(token), HOME_MARKERS + "|号"))
    return m.group("building").upper() if m else None


def unit_of(token: str) -> str | None:
    """The unit a whole token names ("2单元", "二单元", "东单元" → "2", "2", "东"); None otherwise."""
    m = _UNIT_TOKEN_RE.fullmatch(numerals_to_digits(ascii_digits(token), HOME_MARKERS))
    return m.group("unit") if m else None


@dataclass(frozen=True)
class Home:
    """Where someone lives or something is: building, unit, room (each optional)."""

    building: str | None = None
    unit: str | None = None
    room: str | None = None
    text: str = ""  # the matched text, e.g. "3号楼2单元501"

    def label(self) -> str:
        parts = []
        if self.building:
            parts.append(building_label(self.building))
        if self.unit:
            parts.append(f"{self.unit}单元")
        if self.room:
            parts.append(self.room)
        return "".join(parts)


def find_home(text: str) -> tuple[Home | None, str]:
    """The first "3号楼2单元501" / "3#楼" / "B座" / "3-2-501" in ``text``, and the text without it.

    The returned rest has full-width digits made ASCII and building/unit numerals made digits."""
    text = numerals_to_digits(ascii_digits(text), HOME_MARKERS)
    found = first_home(text)
    if found is None:
        return None, text
    home, start, end = found
    rest = (text[:start] + " " + text[end:]).strip()
    return home, re.sub(r"\s{2,}", " ", rest)


def first_home(text: str) -> tuple[Home, int, int] | None:
    """The first home in ``text`` and its span; ``text`` already has ASCII digits and numerals as
    digits (``find_home`` does that; nlp/location.py reads normalised text)."""
    triple = _TRIPLE_RE.search(text) if "-" in text else None
    m = BUILDING_RE.search(text)
    if triple and (m is None or triple.start() <= m.start()):
        return Home(triple["building"], triple["unit"], triple["room"], triple.group(0)), triple.start(), triple.end()
    if m is None:
        return None
    building, unit, room, end = m["building"].upper(), None, None, m.end()
    u = _UNIT_AFTER_RE.match(text, end)
    if u:
        unit, end = u["unit"] or u["unit_door"], u.end()
    r = _ROOM_AFTER_RE.match(text, end)
    if r:
        room, end = r["room"], r.end()
    return Home(building, unit, room, text[m.start():end]), m.start(), end
