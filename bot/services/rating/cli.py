"""``zhibu rating …``: check a standard file, compute a period's draft, show results, build the
monthly red/black lists. Review and approval are people's acts: they happen in the dashboard."""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError


async def cmd_check(args: argparse.Namespace, settings: Any) -> int:
    from bot.services.rating import standard

    path = Path(args.file) if args.file else (settings.rating_standard_file or standard.SAMPLE_STANDARD)
    try:
        std = standard.parse(Path(path).read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        print(f"标准文件有误（{path}）：\n{exc}")
        return 1
    items = sum(len(a.items) for a in std.aspects)
    print(f"{std.name}（{std.version}）：{len(std.aspects)}个方面、{items}项，一票否决{len(std.vetoes)}项，"
          f"物业评议占{std.property_weight:.0%}，评定周期 {std.period}" + ("；这是示例标准" if std.sample else ""))
    return 0


async def cmd_run(args: argparse.Namespace, app: Any) -> int:
    from bot.services.rating import periods, runs, standard
    from schedules.context import SYSTEM, job_deps

    std = standard.for_settings(app.settings)
    period = args.period or periods.last_finished(app.clock.local(), std.period)
    async with job_deps(app) as deps:
        run = await runs.compute_run(deps, std, period, SYSTEM)
        rows = await runs.ratings_of(deps, run)
    stars = Counter(r.stars for r in rows)
    print(f"{periods.label(period)}评星草稿：{len(rows)}个小区；" +
          "、".join(f"{s}星{stars[s]}个" for s in sorted(stars, reverse=True)) + "。请在管理后台“评星”页审核、审定。")
    return 0


async def cmd_show(args: argparse.Namespace, app: Any) -> int:
    from bot.services.rating import periods, runs
    from schedules.context import job_deps

    async with job_deps(app) as deps:
        run = await runs.run_for(deps, args.period)
        if run is None:
            print(f"没有{args.period}的评星")
            return 1
        rows = await runs.ratings_of(deps, run)
    for r in rows:
        name = app.org.name_of(r.compound_id)
        if args.compound and name != args.compound:
            continue
        print(f"{name}\t{runs.stars_text(r.stars)}\t{r.klass}\t{r.total:g}")
        if args.compound:
            for item in r.items:
                print(f"  {item['name']}：{item['shown'] or '—'} → {item['points']:g}/{item['max']:g}（{item['rule']}）")
    print(f"{periods.label(run.period)}，状态：{run.status}")
    return 0


async def cmd_lists(args: argparse.Namespace, app: Any) -> int:
    from bot.months import previous_month
    from bot.services.rating import lists, standard
    from schedules.context import job_deps

    std = standard.for_settings(app.settings)
    month = args.month or previous_month(app.clock.local())
    async with job_deps(app) as deps:
        result = await lists.compute_lists(deps, std, month)
        if args.publish and result.created:
            await lists.publish(deps, std, result)
        if args.xlsx:
            Path(args.xlsx).write_bytes(await lists.export_xlsx(deps, result))
    print(f"{month}：红榜{len(result.red)}个，黑榜{len(result.black)}个" + ("" if result.created else "（已有，未重算）"))
    return 0


def register_cli(sub: Any) -> None:
    parser = sub.add_parser("rating", help="支部评星：检查标准文件、计算草稿、查看结果、红黑榜")
    commands = parser.add_subparsers(dest="rating_command", required=True)
    check = commands.add_parser("check", help="检查评星标准文件（默认：配置的文件，否则示例）")
    check.add_argument("file", nargs="?")
    check.set_defaults(settings_func=cmd_check)
    run = commands.add_parser("run", help="计算一期评星草稿（默认：刚结束的一期）")
    run.add_argument("period", nargs="?", help="2026-Q4 / 2026-12 / 2026-H2 / 2026")
    run.set_defaults(func=cmd_run)
    show = commands.add_parser("show", help="列出一期的结果；--compound 给出各项得分")
    show.add_argument("period")
    show.add_argument("--compound")
    show.set_defaults(func=cmd_show)
    lst = commands.add_parser("lists", help="计算某月物业红黑榜（默认：上个月）")
    lst.add_argument("month", nargs="?")
    lst.add_argument("--xlsx", help="导出到 XLSX 文件")
    lst.add_argument("--publish", action="store_true", help="发给区、社区工作人员（机器人运行时发出）")
    lst.set_defaults(func=cmd_lists)
