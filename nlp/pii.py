"""Personal data in messages: mobile numbers, ID card numbers, landlines.

Offsets refer to the ORIGINAL text. Numbers are found after normalisation, so that the ways
people (and copy-paste) write them are all recognised: full-width and other decimal digits,
any run of spaces, dots or hyphens between digits ("138.1234.5678", "138  1234  5678",
"138－1234－5678"), and invisible format characters (Unicode category Cf: soft hyphen,
zero-width space, word joiner, direction marks …) anywhere inside.
Masking keeps enough to recognise a number without exposing it:
13812345678 -> 138****5678, 370102199001011234 -> 3701**********1234,
0539-1234567 -> 0539-***4567.
"""
from __future__ import annotations

import re
import sys
import unicodedata

from .types import PiiSpan

# Separators people put between digit groups; any run of them (and of whitespace) counts as one.
_SEPARATORS = ".-_·・‐‑‒–—―−－．。﹒﹣"


def _build_tables() -> tuple[dict[int, str], str]:
    """Translation to a normalised form of the same length (digits → ASCII, separators and
    whitespace → ' ', X → 'X'), and a character class of the format characters (Cf)."""
    table: dict[int, str] = {}
    cf: list[str] = []
    ranges = [range(0x10000), range(0x1D7CE, 0x1D800), range(0x1FBF0, 0x1FBFA), range(0xE0000, 0xE0080)]
    for block in ranges:
        for code in block:
            ch = chr(code)
            category = unicodedata.category(ch)
            if category == "Nd":
                table[code] = str(unicodedata.decimal(ch))
            elif category == "Cf":
                cf.append(re.escape(ch))
            elif ch.isspace() or ch in _SEPARATORS:
                table[code] = " "
    for ch in "XxＸｘ":
        table[ord(ch)] = "X"
    return table, "[" + "".join(cf) + "]"


_TABLE, _CF_CLASS = _build_tables()
_CF = re.compile(_CF_CLASS)
_TEN_DIGITS = re.compile(r"\d(?:\D*\d){9}")
"""Ten Unicode decimal digits anywhere: the fewest any number below has (a landline), so a
message without them (most: "3号楼", "5斤") skips the normalisation and the patterns."""

_S = " *"  # between any two digits: any run of separators


def _digits(*parts: str) -> str:
    """A pattern of digit classes with separators allowed between them."""
    return _S.join(parts)


_D = "[0-9]"
_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])" + _digits(*[_D] * 6, "(?:1 *9|2 *0)", _D, _D, "[01]", _D, "[0-3]", _D, *[_D] * 3, "[0-9X]")
    + r"(?! *[0-9])(?![A-Za-z])")
_MOBILE_RE = re.compile(r"(?<![0-9])(?:\+? *8 *6 *)?" + _digits("1", "[3-9]", *[_D] * 9) + r"(?! *[0-9])")
_LANDLINE_RE = re.compile(r"(?<![0-9])" + _digits("0", _D, _D) + f"(?:{_S}{_D})?" + _S
                          + _digits("[1-9]", *[_D] * 5) + f"(?:{_S}{_D}){{1,2}}" + r"(?! *[0-9])")


def _normalised(text: str) -> tuple[str, list[int] | None]:
    """The normalised text and, when format characters were dropped, the original index of
    each normalised character (None: the same positions)."""
    if not _CF.search(text):
        return text.translate(_TABLE), None
    index = [i for i, ch in enumerate(text) if not _CF.fullmatch(ch)]
    kept = "".join(text[i] for i in index)
    return kept.translate(_TABLE), index


def find_pii(text: str) -> tuple[PiiSpan, ...]:
    """All PII spans in ``text``, sorted and non-overlapping."""
    if not text or not _TEN_DIGITS.search(text):
        return ()
    norm, index = _normalised(text)
    spans: list[PiiSpan] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (("id_card", _ID_RE), ("mobile", _MOBILE_RE), ("landline", _LANDLINE_RE)):
        for m in pattern.finditer(norm):
            start, end = m.span()
            if any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            if index is not None:
                start, end = index[start], index[end - 1] + 1
            spans.append(PiiSpan(start, end, kind))
    return tuple(sorted(spans, key=lambda s: s.start))


def _is_digit(ch: str) -> bool:
    return _TABLE.get(ord(ch), "") in "0123456789" and ord(ch) in _TABLE


def _mask_digits(chunk: str, keep_head: int, keep_tail: int) -> str:
    """Replace digits (and an ID's X) in ``chunk`` by '*' except the first/last few."""
    positions = [i for i, ch in enumerate(chunk) if _is_digit(ch) or _TABLE.get(ord(ch), ch) == "X"]
    hide = set(positions[keep_head : len(positions) - keep_tail])
    return "".join("*" if i in hide else ch for i, ch in enumerate(chunk))


def mask_span(text: str, span: PiiSpan) -> str:
    chunk = text[span.start : span.end]
    digits = [i for i, ch in enumerate(chunk) if _is_digit(ch)]
    if span.kind == "id_card":
        return _mask_digits(chunk, 4, 4)
    if span.kind == "mobile":
        # keep a +86 prefix: mask relative to the last 11 digits
        return _mask_digits(chunk, len(digits) - 11 + 3, 4)
    # landline: keep the area code (the digits before a separator, else 3-4) and the last 4
    head = 0
    for n, (a, b) in enumerate(zip(digits, digits[1:]), start=1):
        if b != a + 1 and _TABLE.get(ord(chunk[a + 1])) == " ":
            head = n
            break
    if not 3 <= head <= 4:
        head = 4 if len(digits) >= 11 else 3
    return _mask_digits(chunk, head, 4)


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


if sys.maxunicode < 0x10FFFF:  # pragma: no cover  (narrow builds are gone; keep the promise explicit)
    raise RuntimeError("nlp.pii needs a wide Unicode build")
