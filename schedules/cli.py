"""``zhibu schedules …``, ``zhibu ranking``, ``zhibu visits import``: the schedules from the shell."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from bot.roles import Grant, Roles
from bot.services import Actor, Deps

# The operator at the shell acts district-wide (they could edit the database anyway).
OPERATOR = Actor(name="运维", roles=Roles([Grant("district_staff", None, None)], {}), web_user="cli")


def _deps(app: Any, session: Any) -> Deps:
    return Deps(session, app.clock, app.outbox, app.org, app.settings)


def _fmt(app: Any, moment: Any) -> str:
    return app.clock.local(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


async def cmd_status(args: argparse.Namespace, app: Any) -> int:
    status = await app.scheduler.status()
    holder = status["lease_holder"] or "（无：没有进程在运行定时任务）"
    print(f"当前执行者：{holder}（租约到期 {_fmt(app, status['lease_expires'])}）")
    for job in status["jobs"]:
        line = f"{job['job']:<32} {job['trigger']:<40} 上次 {_fmt(app, job['last_due'])} {job['last_status'] or '—':<10} 下次 {_fmt(app, job['next'])}"
        print(line)
        if job["last_error"]:
            print(f"    错误：{job['last_error'][:200]}")
    return 0


async def cmd_run(args: argparse.Namespace, app: Any) -> int:
    try:
        outcome = await app.scheduler.run_now(args.job)
    except LookupError:
        print(f"没有名为 {args.job} 的定时任务。用 `zhibu schedules status` 查看。", file=sys.stderr)
        return 2
    if app.sender is not None:
        await app.sender.drain()  # texts go out only where a transport is configured
    print(f"{outcome.job}: {outcome.status}" + (f"（{outcome.error}）" if outcome.error else ""))
    return 0 if outcome.status == "ok" else 1


async def cmd_ranking(args: argparse.Namespace, app: Any) -> int:
    from bot.months import previous_month
    from bot.services import rankings

    month = args.month or previous_month(app.clock.local())
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        print("月份格式：2026-11", file=sys.stderr)
        return 2
    from bot.progress import progress

    async with app.sessions() as session:
        deps = _deps(app, session)
        with progress(2, f"正在计算{month}排名", unit="步") as bar:
            ranking = await rankings.compute_ranking(deps, month)
            bar.update()
            if args.publish and ranking.created:
                await rankings.publish(deps, ranking)
            bar.update()
        await session.commit()
    print(rankings.render(_deps(app, None), ranking))
    return 0


async def cmd_visits_import(args: argparse.Namespace, app: Any) -> int:
    from bot.services.visits import import_targets, read_rows

    path = Path(args.file)
    if not path.exists():
        print(f"{path}：文件不存在", file=sys.stderr)
        return 2
    async with app.sessions() as session:
        added, problems = await import_targets(_deps(app, session), OPERATOR, read_rows(path))
        if problems:
            print("导入失败，未写入任何数据：", file=sys.stderr)
            for problem in problems:
                print(f"  {path} {problem}", file=sys.stderr)
            return 1
        await session.commit()
    print(f"已导入{added}条走访对象（已有的跳过）。")
    return 0


async def cmd_collection_export(args: argparse.Namespace, app: Any) -> int:
    from bot.services import ServiceError
    from bot.services.collections import export_xlsx

    async with app.sessions() as session:
        try:
            data = await export_xlsx(_deps(app, session), OPERATOR, args.notice_id)
        except ServiceError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    out = Path(args.out or f"收集-{args.notice_id}.xlsx")
    out.write_bytes(data)
    print(f"已导出：{out}")
    return 0


def register_cli(sub: Any) -> None:
    sched = sub.add_parser("schedules", help="定时任务：状态、立即执行").add_subparsers(dest="schedules_command", required=True)
    sched.add_parser("status", help="各定时任务的上次、下次执行时间和当前执行进程").set_defaults(func=cmd_status)
    run = sched.add_parser("run", help="立即执行一个定时任务（记录在任务表中）")
    run.add_argument("job", help="任务名，如 digests.weekly、rankings.monthly")
    run.set_defaults(func=cmd_run)

    ranking = sub.add_parser("ranking", help="物业服务项目投诉量月度排名（默认上个月）")
    ranking.add_argument("--month", help="月份，如 2026-11")
    ranking.add_argument("--publish", action="store_true", help="首次计算时私信区、社区工作人员")
    ranking.set_defaults(func=cmd_ranking)

    visits = sub.add_parser("visits", help="社工走访名单").add_subparsers(dest="visits_command", required=True)
    imp = visits.add_parser("import", help="导入走访名单（CSV/XLSX：小区、类型、对象、备注、社工）")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_visits_import)

    collection = sub.add_parser("collection", help="通知收集（统计/接龙）").add_subparsers(
        dest="collection_command", required=True)
    export = collection.add_parser("export", help="导出收集结果为 XLSX")
    export.add_argument("notice_id", type=int)
    export.add_argument("--out", help="输出文件（默认 收集-编号.xlsx）")
    export.set_defaults(func=cmd_collection_export)
