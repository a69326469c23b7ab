"""Find where a message says the problem is: building / unit / room, zone, compound, landmarks.

Works on normalised text (see normalize.py). Buildings, units and rooms are read by the one
grammar shared with the roster and notices (nlp/buildings.py); Chinese numerals in front of
位置 markers become digits first ("三号楼" -> "3号楼", "十二栋" -> "12栋").
"N楼" alone is a floor, not a building, and "N号" alone is a date; neither is used.
"""
from __future__ import annotations

import re

from .buildings import ROOM_AFTER, UNIT_RE, first_home, numerals_to_digits
from .rules import Lexicon
from .types import Location

# Forms only free text uses, beside the shared grammar:
# 12-1单元 (building-unit without a room)
_BUILD_UNIT_RE = re.compile(r"(?<![\d.\-:/])(\d{1,3})\s*-\s*(\d{1,2})\s*单元")
# a room alone, named by 室/房 ("501室", "502房间")
_ROOM_RE = re.compile(r"(?<![\d\-.])(\d{3,4})\s*(?:室|房间|房(?!子|东))")
_ROOM_AFTER_RE = re.compile(ROOM_AFTER)
_ZONE_RE = re.compile(r"(?<![\d.])(\d{1,2})\s*期|(?<![a-z])([a-z])\s*区(?![域别])")
_COMPOUND_RE = re.compile(r"([\u4e00-\u9fff]{2,12})(小区|家园|新村|嘉园|华府|名邸)")
_COMPOUND_CUT = re.compile(r".*(?:区|县|市|街道|路|镇|乡|是|在|住|于|的|了|对|个|和|与|反映|投诉)")
_COMPOUND_BAD_END = ("我们", "咱们", "本", "这个", "那个", "这", "那", "整个", "我", "你们", "他们", "全", "各", "该",
                     "老旧", "隔壁", "其他", "别的", "周边", "附近", "对面", "所在", "新", "老", "高档", "普通", "多个")


def _compound(text: str) -> tuple[str | None, tuple[int, int] | None]:
    for m in _COMPOUND_RE.finditer(text):
        name, suffix = m.group(1), m.group(2)
        cut = _COMPOUND_CUT.match(name)
        start = m.start(1) + (cut.end() if cut else 0)
        name = name[cut.end():] if cut else name
        if len(name) < 2 or name.endswith(_COMPOUND_BAD_END) or len(name) > 8:
            continue
        return name + suffix, (start, m.end())
    return None, None


def _landmarks(hits, skip: tuple[int, int] | None, landmark_words: frozenset[str]) -> tuple[str, ...]:
    """Landmark names from lexicon hits (longest match wins, nothing inside ``skip``)."""
    marks = [h for h in hits if h[1] in landmark_words]
    if not marks:
        return ()
    names: list[str] = []
    covered: list[tuple[int, int]] = [skip] if skip else []
    for i, w, tags in sorted(marks, key=lambda h: (-len(h[1]), h[0])):
        end = i + len(w)
        if any(s <= i and end <= e for s, e in covered):
            continue
        covered.append((i, end))
        for kind, name in tags:
            if kind == "lm" and name not in names:
                names.append(name)
    return tuple(names)


_EMPTY = Location()
# Character-class searches (C speed, no per-character string objects) as literal guards:
_MARKERS = re.compile(r"[号栋幢座#单\-室房期区门]")
"""Every building / unit / room / zone form needs one of these characters."""
_BUILDING_CHARS = re.compile(r"[号栋幢座#]")
_CN_NUMERALS = re.compile(r"[零〇一二两三四五六七八九十百]")
_COMPOUND_HINT = re.compile(r"小区|家园|新村|嘉园|华府|名邸")


def extract(text: str, lexicon: Lexicon, hits=None) -> Location:
    """Location named in the normalised ``text`` (first building mentioned wins).

    ``hits`` are ``lexicon.scan(text)`` results when the caller already has them.
    """
    if not text:
        return Location()
    if hits is None:
        hits = lexicon.scan(text)
    compound, span = _compound(text) if _COMPOUND_HINT.search(text) else (None, None)
    if not _MARKERS.search(text):
        marks = _landmarks(hits, span, lexicon.landmark_words)
        return Location(landmarks=marks, compound=compound) if marks or compound else _EMPTY
    if _CN_NUMERALS.search(text):
        text = numerals_to_digits(text)  # hits and span keep the offsets of the original text
    building = unit = room = None
    has_dash = "-" in text
    found = first_home(text) if has_dash or _BUILDING_CHARS.search(text) else None
    if found:
        home = found[0]
        building, unit, room = home.building, home.unit, home.room
    elif has_dash and "单元" in text:
        m = _BUILD_UNIT_RE.search(text)
        if m:
            building, unit = m.group(1), m.group(2)
            r = _ROOM_AFTER_RE.match(text, m.end())
            room = r["room"] if r else None
    if unit is None and "单元" in text:
        u = UNIT_RE.search(text)
        if u:
            unit = u["unit"]
            if room is None:
                r = _ROOM_AFTER_RE.match(text, u.end())
                room = r["room"] if r else None
    if room is None and ("室" in text or "房" in text):
        r = _ROOM_RE.search(text)
        if r:
            room = r.group(1)

    zone = None
    z = _ZONE_RE.search(text) if ("期" in text or "区" in text) else None
    if z:
        zone = f"{z.group(1)}期" if z.group(1) else f"{z.group(2).upper()}区"

    return Location(
        building=building,
        unit=unit,
        room=room,
        landmarks=_landmarks(hits, span, lexicon.landmark_words),
        zone=zone,
        compound=compound,
    )
