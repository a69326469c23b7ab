"""Text clean-up shared by every other module: one canonical form per message.

Steps: drop control / zero-width characters, NFKC (full-width digits and
letters become ASCII: "３号楼" -> "3号楼"), traditional -> simplified by OpenCC
(``t2s``: phrase-aware, "乾淨" -> "干净" but "乾隆" stays), lower-case Latin
letters, collapse spaces. The result has no fixed offset relation to the input,
so PII offsets are always computed on the original text (see pii.py).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

MAX_MODEL_CHARS = 1200
"""The model and the location parser see at most this many characters."""

_ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"
_SPACE_RE = re.compile(r"[ \t\r\f\v\u3000\xa0]+")
_NEWLINES_RE = re.compile(r"\n{2,}")
_DIALECT = {"冇": "没"}
"""Cantonese 冇 is 没(有): not a traditional character, so OpenCC keeps it; the rules and the
model read 没 (the shipped single-character table used to fold it)."""


def _cleanup_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(ch): None for ch in _ZERO_WIDTH}
    # C0/C1 control characters except \t and \n become spaces.
    for code in list(range(0x00, 0x20)) + [0x7F] + list(range(0x80, 0xA0)):
        if code not in (0x09, 0x0A):
            table[code] = " "
    for ch, folded in _DIALECT.items():
        table[ord(ch)] = folded
    return table


_CLEANUP = _cleanup_table()
_NEEDS_CLEANUP = re.compile("[" + re.escape("".join(map(chr, _CLEANUP))) + "]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    # Taiwan-standard traditional to simplified: residents who write traditional characters write
    # 著 for 着 ("樓道著火了", "睡著了"), which plain t2s keeps as 著; "著名", "顯著" stay.
    return opencc.OpenCC("tw2s")


_CJK_BMP = (range(0x3400, 0xA000), range(0xF900, 0xFB00))


@lru_cache(maxsize=1)
def _traditional() -> re.Pattern[str]:
    """Traditional characters: those OpenCC's plain t2s changes on their own.

    Only a text with one of them goes through OpenCC. Besides being fast for the (mostly
    simplified) messages, this keeps OpenCC's variant rules off simplified text: alone, 著
    becomes 着 and 么 幺 ("显著" -> "显着"), and "打坏" is read as 打坯. Found by converting every
    BMP ideograph once at load (~15 ms); ideographs of the supplementary planes (rare) always
    count.
    """
    chars = [chr(code) for block in _CJK_BMP for code in block]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    changed = "".join(ch for ch, out in zip(chars, converted) if out != ch)
    return re.compile("[" + re.escape(changed) + "\U00020000-\U0003FFFF]")


def to_text(value: object) -> str:
    """Accept anything; return a str (None and non-text become "")."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    try:
        return str(value)
    except Exception:  # pragma: no cover - exotic __str__
        return ""


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _strip_surrogates(text: str) -> str:
    if _SURROGATE_RE.search(text):
        return _SURROGATE_RE.sub("\ufffd", text)
    return text


_COMPAT_BLOCKS = (
    range(0x00A0, 0x0100),  # Latin-1 punctuation and symbols (no-break space, ², ¼ …)
    range(0x2000, 0x2160),  # general punctuation (…, ‥, spaces), letterlike symbols (℃, №)
    range(0x2460, 0x2500),  # enclosed numbers (①)
    range(0x3000, 0x3040),  # ideographic space and CJK punctuation
    range(0xFE30, 0xFE70),  # CJK compatibility and small forms
    range(0xFF00, 0xFFF0),  # full-width ASCII (，！？：０-９), half-width forms
)


@lru_cache(maxsize=1)
def _compat_table() -> dict[int, str]:
    """Common compatibility characters -> their NFKD form, for a cheap NFKC.

    Only characters whose NFKD form consists of non-combining characters are
    listed: replacing them leaves the NFKD of the whole text unchanged, so when
    the replaced text is already NFKC it IS the NFKC of the original text.
    """
    table: dict[int, str] = {}
    for block in _COMPAT_BLOCKS:
        for code in block:
            ch = chr(code)
            if unicodedata.normalize("NFKC", ch) == ch:
                continue
            decomposed = unicodedata.normalize("NFKD", ch)
            if all(unicodedata.combining(x) == 0 for x in decomposed):
                table[code] = decomposed
    return table


def _nfkc(text: str) -> str:
    """unicodedata.normalize("NFKC", text), faster for the usual full-width punctuation.

    About a third of chat messages contain "，！？…", and full NFKC costs more than
    all the rest of the normalisation; a translate table covers them (see _compat_table).
    """
    replaced = text.translate(_compat_table())
    if unicodedata.is_normalized("NFKC", replaced):
        return replaced
    return unicodedata.normalize("NFKC", text)


def normalize(text: str) -> str:
    """Canonical form used for matching and features (not for display)."""
    if not text:
        return ""
    text = _strip_surrogates(text)
    if _NEEDS_CLEANUP.search(text):
        text = text.translate(_CLEANUP)
    if not unicodedata.is_normalized("NFKC", text):
        text = _nfkc(text)
    text = to_simplified(text)
    text = text.lower()
    # NFKC turned \u3000 and \xa0 into " " and the clean-up table turned \r \f \v into " ",
    # so " " and "\t" are the only spaces left: test them before running the regex.
    if " " in text or "\t" in text:
        text = _SPACE_RE.sub(" ", text)
    if "\n\n" in text:
        text = _NEWLINES_RE.sub("\n", text)
    return text.strip()


def to_simplified(text: str) -> str:
    """Traditional -> simplified only (keeps everything else); OpenCC runs only when needed."""
    if _traditional().search(text):
        return _t2s().convert(text)
    return text
