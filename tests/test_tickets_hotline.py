"""12345 hotline: linking a ticket, importing the hotline's export, monthly counts per compound."""
from __future__ import annotations

import argparse
import csv
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.models.tickets import HotlineOrder, Ticket
from bot.services import hotline as H
from insert_log import inserts_into

G1 = "阳光花园业主1群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"
HEADER = ["工单号", "受理时间", "小区", "地址", "诉求内容", "分类"]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


async def counts(h, month: str = "2026-12") -> dict[str, int]:
    async with h.session() as s:
        found = await H.hotline_counts(s, month, h.bot.clock.tz)
    return {h.bot.org.name_of(cid): n for cid, n in found.items()}


async def test_link_a_ticket_to_a_hotline_order(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "热线 0001 LS20261201-0007")
    assert "也反映到了12345热线（工单号 LS20261201-0007）" in h.texts_to("李书记")[-1]
    async with h.session() as s:
        ticket = (await s.execute(select(Ticket))).scalar_one()
        order = (await s.execute(select(HotlineOrder))).scalar_one()
    assert ticket.hotline_order_no == "LS20261201-0007"
    assert (order.ticket_id, order.compound_id, order.source) == (ticket.id, ticket.compound_id, "linked")
    assert await counts(h) == {"阳光花园": 1}


async def test_link_refuses_bad_or_taken_order_numbers(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "5号楼门口垃圾桶满了好几天没人清")
    await h.dm("李书记", "热线 0001 @@")
    assert "12345工单号不对" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "热线 0001 LS-0001")
    await h.dm("李书记", "热线 0002 LS-0001")
    assert "已关联到工单 阳光花园-0001" in h.texts_to("李书记")[-1]
    await h.dm("李书记", "热线 0001")
    assert "用法：热线" in h.texts_to("李书记")[-1]
    await h.dm("张三", "热线 0001 LS-0002")
    assert "“热线”需要" in h.texts_to("张三")[-1]


async def test_import_csv_counts_per_compound_and_month(h, tmp_path):
    path = write_csv(tmp_path / "12345.csv", [
        ["A001", "2026-12-01 09:30", "阳光花园", "", "楼道灯不亮", "城建"],
        ["A002", "2026/12/03 14:00", "", "兰山区兰亭水岸8号楼", "下水道堵塞", "市政"],
        ["A003", "2026-11-28", "阳光花园", "", "噪音", "环保"],
        ["A004", "2026-12-05 10:00", "", "某某路100号", "其他小区的事", ""],
    ])
    rows = H.parse_hotline_file(path, h.bot.org, h.bot.clock.tz)
    async with h.session() as s:
        result = await H.import_hotline_orders(s, rows, h.now)
        await s.commit()
    assert (result.created, result.updated, result.unmatched) == (4, 0, 1)
    assert await counts(h) == {"阳光花园": 1, "兰亭水岸": 1}
    assert await counts(h, "2026-11") == {"阳光花园": 1}
    async with h.session() as s:  # importing again changes nothing but the import time
        again = await H.import_hotline_orders(s, H.parse_hotline_file(path, h.bot.org, h.bot.clock.tz), h.now)
        await s.commit()
        assert len((await s.execute(select(HotlineOrder))).all()) == 4
    assert (again.created, again.updated) == (0, 4)


async def test_new_orders_of_an_import_are_written_in_one_insert(h, tmp_path):
    path = write_csv(tmp_path / "12345.csv", [
        [f"B{n:03d}", "2026-12-01 09:30", "阳光花园", "", f"第{n}件诉求", "城建"] for n in range(50)])
    rows = H.parse_hotline_file(path, h.bot.org, h.bot.clock.tz)
    with inserts_into(h, "hotline_orders") as seen:
        async with h.session() as s:
            result = await H.import_hotline_orders(s, rows, h.now)
            await s.commit()
    assert result.created == 50 and len(seen) == 1  # one executemany, not an INSERT per order
    assert await counts(h) == {"阳光花园": 50}


async def test_import_keeps_a_hand_made_ticket_link(h, tmp_path):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "热线 0001 A001")
    path = write_csv(tmp_path / "12345.csv", [["A001", "2026-12-01 08:00", "阳光花园", "", "楼道灯", ""]])
    async with h.session() as s:
        await H.import_hotline_orders(s, H.parse_hotline_file(path, h.bot.org, h.bot.clock.tz), h.now)
        await s.commit()
        order = (await s.execute(select(HotlineOrder))).scalar_one()
    assert order.ticket_id is not None and order.content == "楼道灯"
    assert await counts(h) == {"阳光花园": 1}


async def test_import_xlsx(h, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["工单编号", "来电时间", "所属小区", "来电内容"])
    sheet.append(["X1", datetime(2026, 12, 2, 10, 0), "沂龙湾润园", "电梯故障"])
    sheet.append(["X2", "2026-12-09 11:00", "沂龙湾润园", "噪音"])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    rows = H.parse_hotline_file(path, h.bot.org, h.bot.clock.tz)
    async with h.session() as s:
        await H.import_hotline_orders(s, rows, h.now)
        await s.commit()
    assert await counts(h) == {"沂龙湾润园": 2}


async def test_import_with_problems_writes_nothing_and_names_the_rows(h, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [
        ["B1", "2026-12-01", "阳光花园", "", "", ""],
        ["", "2026-12-01", "阳光花园", "", "", ""],
        ["B3", "昨天下午", "阳光花园", "", "", ""],
        ["B1", "2026-12-02", "阳光花园", "", "", ""],
    ])
    with pytest.raises(H.HotlineImportError) as exc:
        H.parse_hotline_file(bad, h.bot.org, h.bot.clock.tz)
    problems = exc.value.problems
    assert any("第3行" in p and "工单号" in p for p in problems)
    assert any("第4行" in p and "昨天下午" in p for p in problems)
    assert any("第5行" in p and "重复" in p for p in problems)
    missing = write_csv(tmp_path / "missing.csv", [["x"]], header=["内容"])
    with pytest.raises(H.HotlineImportError) as exc:
        H.parse_hotline_file(missing, h.bot.org, h.bot.clock.tz)
    assert "缺少“工单号”列" in exc.value.problems[0]
    with pytest.raises(H.HotlineImportError):
        H.parse_hotline_file(tmp_path / "orders.txt", h.bot.org, h.bot.clock.tz)


async def test_cli_import_command(h, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    H.register_cli(parser.add_subparsers(dest="command"))
    path = write_csv(tmp_path / "12345.csv", [["C1", "2026-12-01 09:30", "阳光花园", "", "楼道灯不亮", ""]])
    args = parser.parse_args(["hotline", "import", str(path)])
    assert await args.func(args, h.bot) == 0
    assert "新增 1 条" in capsys.readouterr().out
    args = parser.parse_args(["hotline", "counts", "2026-12"])
    assert await args.func(args, h.bot) == 0
    assert "阳光花园\t1" in capsys.readouterr().out
    bad = write_csv(tmp_path / "bad.csv", [["", "x", "", "", "", ""]])
    args = parser.parse_args(["hotline", "import", str(bad)])
    assert await args.func(args, h.bot) == 2
