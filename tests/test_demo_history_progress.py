"""Progress of long command-line work (bot/progress.py): a bar on a terminal, nothing on a pipe,
one summary line at the end either way."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

from bot import db
from bot.cli import main
from bot.config import SAMPLE_ORG
from bot.orgimport import apply_plan_with_progress, parse_file
from bot.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal_and_the_summary_follows_it():
    screen, out = Terminal(), io.StringIO()
    with progress(3, "正在导入12345工单", unit="条", file=screen, summary_file=out) as bar:
        for _ in range(3):
            bar.update()
        bar.summary("导入完成：新增3条")
    assert "正在导入12345工单" in screen.getvalue() and "3/3条" in screen.getvalue()
    assert out.getvalue() == "导入完成：新增3条\n"


def test_nothing_but_the_summary_is_written_when_output_is_not_a_terminal():
    piped, out = io.StringIO(), io.StringIO()
    with progress(3, "正在导入12345工单", unit="条", file=piped, summary_file=out) as bar:
        bar.update(3)
        bar.summary("导入完成：新增3条")
    assert piped.getvalue() == "" and out.getvalue() == "导入完成：新增3条\n"


async def test_roster_import_moves_the_bar_person_by_person(tmp_path):
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'org.db'}")
    await db.create_all_and_stamp(engine)
    plan = parse_file(SAMPLE_ORG)
    screen = Terminal()
    try:
        async with db.session_factory(engine)() as session:
            result = await apply_plan_with_progress(session, plan, datetime.now(timezone.utc), account="sim",
                                                    file=screen)
            await session.commit()
    finally:
        await engine.dispose()
    assert (result.compounds, result.people, result.groups) == (3, len(plan.people), 4)
    assert f"{len(plan.people) + 1}/{len(plan.people) + 1}人" in screen.getvalue()


def test_import_org_command_ends_with_a_summary_and_no_bar_when_piped(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["import", "org", str(Path(SAMPLE_ORG))]) == 0
    captured = capsys.readouterr()
    assert "导入完成：3个小区" in captured.out
    assert "正在导入" not in captured.err
