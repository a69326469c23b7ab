"""The schedules' shell commands, on the test kit's app."""
from __future__ import annotations

import argparse

from schedules import cli


async def test_status_lists_jobs_and_the_lease_holder(h, capsys):
    await h.advance(minutes=2)
    assert await cli.cmd_status(argparse.Namespace(), h.bot) == 0
    out = capsys.readouterr().out
    assert h.bot.scheduler.holder in out and "notices.tick" in out and "rankings.monthly" in out


async def test_run_now_runs_a_job_once(h, capsys):
    assert await cli.cmd_run(argparse.Namespace(job="rankings.monthly"), h.bot) == 0
    assert "rankings.monthly: ok" in capsys.readouterr().out
    assert await cli.cmd_run(argparse.Namespace(job="nope"), h.bot) == 2


async def test_ranking_command_prints_the_month(h, capsys):
    assert await cli.cmd_ranking(argparse.Namespace(month="2026-11", publish=False), h.bot) == 0
    assert "2026年11月" in capsys.readouterr().out
    assert await cli.cmd_ranking(argparse.Namespace(month="2026-13", publish=False), h.bot) == 2


async def test_visits_import_reports_row_errors(h, tmp_path, capsys):
    good = tmp_path / "v.csv"
    good.write_text("小区,类型,对象,备注\n阳光花园,日走访,北门岗亭,夜间重点\n", encoding="utf-8")
    assert await cli.cmd_visits_import(argparse.Namespace(file=str(good)), h.bot) == 0
    bad = tmp_path / "b.csv"
    bad.write_text("小区,类型,对象\n阳光花园,每天,北门\n", encoding="utf-8")
    assert await cli.cmd_visits_import(argparse.Namespace(file=str(bad)), h.bot) == 1
    assert "第2行" in capsys.readouterr().err


async def test_collection_export_writes_a_workbook(h, tmp_path):
    await h.dm("孙书记", "通知 收集 报名: 楼号 人数")
    out = tmp_path / "x.xlsx"
    assert await cli.cmd_collection_export(argparse.Namespace(notice_id=1, out=str(out)), h.bot) == 0
    assert out.read_bytes()[:2] == b"PK"
