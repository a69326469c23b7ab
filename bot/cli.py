"""The ``zhibu`` command line: run, demo, db, import, invite, retry, purge and feature commands."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

from bot import db
from bot.app import BotApp
from bot.config import SAMPLE_ORG, ConfigError, Settings, load_settings
from bot.runner import serve, warn_if_demo_exposed
from bot.services import hotline
from bot.services.rating import cli as rating_cli
from bot.texts import operator as T
from bot.web import cli as web_cli
from handlers import tickets
from nlp import cli as nlp_cli
from schedules import cli as schedules_cli

log = logging.getLogger("zhibu")

# Feature modules that contribute subcommands through ``register_cli(subparsers)``.
CLI_EXTENSIONS = (tickets, hotline, schedules_cli, web_cli, nlp_cli, rating_cli)

AppCommand = Callable[[argparse.Namespace, Any], Awaitable[int]]


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def _with_app(settings: Settings, func: AppCommand, args: argparse.Namespace) -> int:
    """Open the bot on the configured database (no transports) and run one command."""
    app = BotApp(settings)
    try:
        await app.open(recover=False)  # messages belong to the running bot, never to a command
        return await func(args, app)
    finally:
        await app.stop()


# ---------------------------------------------------------------- commands
async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    history = None
    if args.command == "demo":  # first start: the sample district with six months of history
        from bot.demo_start import begin_demo

        warn_if_demo_exposed(settings)  # before anything else
        history = await begin_demo(settings, empty=args.empty)  # generated while the demo serves
    demo = args.command == "demo"
    web_chat = getattr(args, "web_chat", False)
    if getattr(args, "standby", False):  # same as [accounts] standby = true
        settings = settings.model_copy(update={"accounts": settings.accounts.model_copy(update={"standby": True})})
    if not demo and not web_chat and not settings.wechaty.all_accounts():
        # Serving the web chat on a production database by accident is how rosters leak.
        print(T.RUN_NO_GATEWAY, file=sys.stderr)
        return 2
    return await serve(settings, demo=demo, web_chat=web_chat, history=history)


async def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    engine = db.create_engine(settings.database_url)
    try:
        before, after = await db.upgrade(engine)
    finally:
        await engine.dispose()
    print(f"数据库已升级：{before or '空库'} → {after}")
    return 0


async def cmd_db_status(args: argparse.Namespace, settings: Settings) -> int:
    engine = db.create_engine(settings.database_url)
    try:
        current = await db.database_revision(engine)
    finally:
        await engine.dispose()
    head = db.head_revision()
    print(f"当前版本：{current or '未初始化'}；最新版本：{head}" + ("" if current == head else "（需要 zhibu db upgrade）"))
    return 0 if current == head else 1


async def cmd_import_org(args: argparse.Namespace, app: Any) -> int:
    from bot.orgimport import OrgImportError, apply_plan_with_progress, choose_account, groups_elsewhere, parse_file

    configured = [a.name for a in app.settings.wechaty.all_accounts()]
    try:
        plan = parse_file(Path(args.file))
        account = choose_account(configured, args.account, plan)
    except OrgImportError as exc:
        print("导入失败，未写入任何数据：", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    async with app.sessions() as session:
        result = await apply_plan_with_progress(session, plan, app.clock.now(), account=account)
        await session.commit()
    await app.refresh_org()
    print(f"导入完成：{result.compounds}个小区，{result.people}人，{result.groups}个群，新增{result.roles}项身份。")
    if configured:
        why = (T.IMPORT_ACCOUNT_FLAG if args.account else T.IMPORT_ACCOUNT_FILE if plan.account
               else T.IMPORT_ACCOUNT_CONFIG)
        print(T.IMPORT_ACCOUNT.format(account=account, why=why))
    else:
        print(T.IMPORT_DEMO_ACCOUNT.format(account=account))
    for other, count in sorted(result.moved.items()):
        print(T.IMPORT_MOVED.format(count=count, other=other, account=account))
    for topic, other in result.served_elsewhere:
        print(T.IMPORT_SERVED_ELSEWHERE.format(topic=topic, other=other, account=account))
    async with app.sessions() as session:
        elsewhere = await groups_elsewhere(session, account)
    for other, count in sorted(elsewhere.items()):
        print(T.IMPORT_ELSEWHERE.format(count=count, other=other, account=account))
    return 0


async def cmd_invite(args: argparse.Namespace, app: Any) -> int:
    from sqlalchemy import select

    from bot.invites import create_invite
    from bot.models import Person, RoleName

    role = args.role
    if role not in {r.value for r in RoleName}:
        print(f"未知角色“{role}”。可用：{', '.join(r.value for r in RoleName)}", file=sys.stderr)
        return 2
    info = app.org.find(args.compound)
    if info is None:
        print(f"没有找到小区“{args.compound}”。", file=sys.stderr)
        return 2
    async with app.sessions() as session:
        people = (await session.execute(select(Person).where(Person.name == args.name))).scalars().all()
        matches = [p for p in people if p.compound_id in (info.id, None)]
        if not matches:
            person = Person(name=args.name, compound_id=info.id, on_roster=True, created_at=app.clock.now())
            session.add(person)
            await session.flush()
        elif len(matches) > 1:
            print(f"“{args.name}”有{len(matches)}条同名记录，请先在名册中区分（如补充电话）。", file=sys.stderr)
            return 2
        else:
            person = matches[0]
        community_id = info.community_id if role == RoleName.COMMUNITY_STAFF else None
        compound_id = None if role in (RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF) else info.id
        invite = await create_invite(session, person, role, app.clock.now(), app.settings.invite_ttl_hours,
                                     compound_id=compound_id, community_id=community_id)
        await session.commit()
    expires = app.clock.local(invite.expires_at).strftime("%Y-%m-%d %H:%M")
    print(f"验证码：{invite.code}（{args.name}，{info.name}，{role}，{expires} 前有效）")
    print("请本人用微信私聊机器人发送这个验证码完成身份关联。")
    return 0


async def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from bot.doctor import diagnose, summary

    findings = await diagnose(settings)
    for finding in findings:
        print(finding.line())
    print(summary(findings))
    return 1 if any(f.level == "error" for f in findings) else 0


async def cmd_outbox_status(args: argparse.Namespace, app: Any) -> int:
    from bot.doctor import outbox_status_lines

    async with app.sessions() as session:
        lines = await outbox_status_lines(session, app.clock)
    print("\n".join(lines))
    return 0


async def cmd_retry(args: argparse.Namespace, app: Any) -> int:
    results = await app.retry_failed(args.message_id)
    if not results:
        print("没有需要重试的失败消息。")
    for message_id, status in results:
        print(f"消息 {message_id}: {status}")
    return 0 if all(status != "failed" for _, status in results) else 1


async def cmd_purge(args: argparse.Namespace, app: Any) -> int:
    count = await app.purge()
    print(f"已删除{count}条超过{app.settings.retention_days}天的闲聊消息。")
    return 0


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhibu", description="支部助手：有事找支部")
    parser.add_argument("--config", help="配置文件（默认 ./zhibu.toml 或 ZHIBU_CONFIG）")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="启动机器人（需要配置微信网关；本地演示用 zhibu demo）")
    run.add_argument("--web-chat", action="store_true",
                     help="同时提供本地网页聊天（需管理后台管理员登录）；未配置微信时也可启动")
    run.add_argument("--standby", action="store_true",
                     help="备用进程：同一网关、同一账号，等主进程失联（租约过期）后自动接管")
    run.set_defaults(settings_func=cmd_run)
    demo = sub.add_parser("demo", help="本地演示：SQLite + 网页聊天 http://127.0.0.1:8080")
    demo.add_argument("--empty", action="store_true", help="首次启动不生成六个月的示例历史（空白演示）")
    demo.set_defaults(settings_func=cmd_run)

    dbp = sub.add_parser("db", help="数据库维护").add_subparsers(dest="db_command", required=True)
    dbp.add_parser("upgrade", help="升级数据库到最新版本").set_defaults(settings_func=cmd_db_upgrade)
    dbp.add_parser("status", help="查看数据库版本").set_defaults(settings_func=cmd_db_status)

    imp = sub.add_parser("import", help="导入数据").add_subparsers(dest="import_command", required=True)
    org = imp.add_parser("org", help="导入组织与名册（YAML/CSV/XLSX，全部成功才写入）")
    org.add_argument("file")
    org.add_argument("--account", help="群所属的机器人账号名（默认：唯一配置的账号；未配置时为演示账号 sim）")
    org.set_defaults(func=cmd_import_org)

    inv = sub.add_parser("invite", help="生成一次性验证码，关联工作人员的微信身份")
    inv.add_argument("role", help="角色，如 secretary、grid_worker、community_staff")
    inv.add_argument("compound", help="小区名")
    inv.add_argument("name", help="姓名（名册中的）")
    inv.set_defaults(func=cmd_invite)

    doctor = sub.add_parser("doctor", help="检查配置、数据库、网关与登录、群的归属、发送队列和网页服务；有错误时退出码非零")
    doctor.set_defaults(settings_func=cmd_doctor)

    outbox = sub.add_parser("outbox", help="发送队列").add_subparsers(dest="outbox_command", required=True)
    outbox.add_parser("status", help="列出等待发送和发送失败的消息及原因").set_defaults(func=cmd_outbox_status)

    retry = sub.add_parser("retry", help="重新处理出错的消息")
    retry.add_argument("message_id", nargs="?", type=int)
    retry.set_defaults(func=cmd_retry)

    sub.add_parser("purge", help="立即删除过期的闲聊消息").set_defaults(func=cmd_purge)

    for module in CLI_EXTENSIONS:
        module.register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(Path(args.config) if args.config else None)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "demo" and settings.org_file is None:
        settings = settings.model_copy(update={"org_file": SAMPLE_ORG})
    _configure_logging(settings.log_level)
    try:
        if hasattr(args, "settings_func"):
            return asyncio.run(args.settings_func(args, settings))
        return asyncio.run(_with_app(settings, args.func, args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear line for the operator; the traceback goes to the log
        if isinstance(exc, db.SchemaOutdated):
            print(exc, file=sys.stderr)
            return 3
        log.exception("zhibu %s failed", args.command)
        print(f"出错了：{exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
