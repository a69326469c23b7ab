"""Personal data in messages: mobile numbers, ID card numbers, landlines.

Offsets refer to the ORIGINAL text (full-width digits are recognised too).
Masking keeps enough to recognise a number without exposing it:
13812345678 -> 138****5678, 370102199001011234 -> 3701**********1234,
0539-1234567 -> 0539-***4567.
"""
from __future__ import annotations

import re

from .types import PiiSpan

_D = r"[0-9０-９]"
_ID_RE = re.compile(rf"(?<![0-9０-９A-Za-z]){_D}{{6}}(?:19|20|１９|２０){_D}{{2}}[01０１]{_D}[0-3０-３]{_D}{_D}{{3}}[0-9０-９Xx]?(?![0-9０-９])")
_MOBILE_RE = re.compile(rf"(?<![0-9０-９])(?:\+?86[\s\-]?)?[1１][3-9３-９]{_D}[\s\-]?{_D}{{4}}[\s\-]?{_D}{{4}}(?![0-9０-９])")
_LANDLINE_RE = re.compile(rf"(?<![0-9０-９])[0０]{_D}{{2,3}}[\s\-]?[1-9１-９]{_D}{{6,7}}(?![0-9０-９])")

_DIGITS = set("0123456789０１２３４５６７８９")
_ANY_DIGIT = re.compile(r"[0-9０-９]")


def find_pii(text: str) -> tuple[PiiSpan, ...]:
    """All PII spans in ``text``, sorted and non-overlapping."""
    if not text or not _ANY_DIGIT.search(text):
        return ()
    spans: list[PiiSpan] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (("id_card", _ID_RE), ("mobile", _MOBILE_RE), ("landline", _LANDLINE_RE)):
        for m in pattern.finditer(text):
            start, end = m.span()
            if kind == "id_card" and end - start not in (15, 18):
                continue
            if any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            spans.append(PiiSpan(start, end, kind))
    return tuple(sorted(spans, key=lambda s: s.start))


def _mask_digits(chunk: str, keep_head: int, keep_tail: int) -> str:
    """Replace digits in ``chunk`` by '*' except the first/last few digits."""
    positions = [i for i, ch in enumerate(chunk) if ch in _DIGITS or ch in "Xx"]
    hide = set(positions[keep_head : len(positions) - keep_tail])
    return "".join("*" if i in hide else ch for i, ch in enumerate(chunk))


def mask_span(text: str, span: PiiSpan) -> str:
    chunk = text[span.start : span.end]
    if span.kind == "id_card":
        return _mask_digits(chunk, 4, 4)
    if span.kind == "mobile":
        # keep the +86 prefix untouched: mask relative to the last 11 digits
        digits = [i for i, ch in enumerate(chunk) if ch in _DIGITS]
        prefix_len = digits[-11] if len(digits) >= 11 else 0
        return chunk[:prefix_len] + _mask_digits(chunk[prefix_len:], 3, 4)
    # landline: keep the area code (up to the separator, or 3-4 digits) and the last 4 digits
    sep = re.search(r"[\s\-]", chunk)
    area = sep.start() if sep else (4 if len(chunk) >= 12 else 3)
    return chunk[:area] + _mask_digits(chunk[area:], 0, 4)


def mask_pii(text: str, spans: tuple[PiiSpan, ...] | None = None) -> str:
    """Text with phone and ID numbers masked; everything else unchanged."""
    if not isinstance(text, str) or not text:
        return text if isinstance(text, str) else ""
    spans = find_pii(text) if spans is None else spans
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(mask_span(text, span))
        pos = span.end
    out.append(text[pos:])
    return "".join(out)
