"""Cells for every CSV/XLSX the project writes: text from residents must never become a formula.

A spreadsheet treats a cell starting with ``= + - @`` (or a tab/CR before one) as a formula,
so ``=HYPERLINK(...)`` in a WeChat name or an answer would run when a secretary opens the
export. Every writer passes each cell through ``safe_cell`` (the OWASP "CSV injection" rule:
prefix such text with an apostrophe, which spreadsheets show as plain text).
"""
from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Characters Excel refuses in a sheet name (openpyxl raises on them).
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def safe_cell(value: Any) -> Any:
    """The value to write: text that a spreadsheet would read as a formula gets a leading
    apostrophe; numbers, dates, booleans and None are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [safe_cell(v) for v in values]


def sheet_title(text: str, fallback: str = "Sheet") -> str:
    """A worksheet name Excel accepts (no ``[]:*?/\\``, at most 31 characters, not empty)."""
    cleaned = _BAD_TITLE.sub("_", text or "").strip().strip("'")[:31]
    return cleaned or fallback
