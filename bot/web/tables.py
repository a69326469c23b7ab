"""Tables shared by pages, the API and exports: columns, rows, pagination, CSV/XLSX.

Every list in the dashboard is a ``Table``, so each can be downloaded as CSV or XLSX with
the same columns the page shows.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bot.clock import Clock
from bot.spreadsheet import safe_cell, safe_row, sheet_title

MAX_EXPORT_ROWS = 100_000


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(50, ge=1, le=200)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, number, datetime, date, bool


@dataclass
class Table:
    name: str                      # file name stem for exports
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: int = 0
    page: int = 1
    per_page: int = 50
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1

    def as_json(self, *hidden: str) -> dict[str, Any]:
        """One page as JSON (a ``Paged`` model's fields), without the ``hidden`` columns."""
        return {"items": [json_row(r, *hidden) for r in self.rows], "page": self.page, "per_page": self.per_page,
                "total": self.total}


def json_row(row: dict[str, Any], *hidden: str) -> dict[str, Any]:
    """A row as JSON values, without its private (``_``) and ``hidden`` columns."""
    return {k: (v.isoformat() if isinstance(v, (datetime, date)) else v) for k, v in row.items()
            if not k.startswith("_") and k not in hidden}


def cell_text(value: Any, kind: str, clock: Clock) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def _disposition(filename: str) -> str:
    return f"attachment; filename=\"export.{filename.rsplit('.', 1)[-1]}\"; filename*=UTF-8''{quote(filename)}"


def to_csv(table: Table, clock: Clock) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row([c.label for c in table.columns]))
    for row in table.rows:
        writer.writerow([safe_cell(cell_text(row.get(c.key), c.kind, clock)) for c in table.columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 Chinese correctly


def to_xlsx(table: Table, clock: Clock, title: str = "") -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=sheet_title(title or table.name, table.name))
    sheet.append(safe_row([c.label for c in table.columns]))
    for row in table.rows:
        out = []
        for c in table.columns:
            value = row.get(c.key)
            if c.kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
                out.append(value)
            else:
                out.append(safe_cell(cell_text(value, c.kind, clock)))
        sheet.append(out)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_response(table: Table, fmt: str, clock: Clock, title: str = "") -> web.Response:
    stamp = clock.local().strftime("%Y%m%d")
    if fmt == "xlsx":
        body = to_xlsx(table, clock, title)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, content_type, fmt = to_csv(table, clock), "text/csv", "csv"
    name = f"{title or table.name}-{stamp}.{fmt}"
    return web.Response(body=body, content_type=content_type,
                        headers={"Content-Disposition": _disposition(name)})


def paginate(rows: Iterable[dict[str, Any]], page: PageQuery) -> tuple[list[dict[str, Any]], int]:
    """In-memory pagination for small lists (computed figures)."""
    rows = list(rows)
    return rows[page.offset:page.offset + page.per_page], len(rows)
