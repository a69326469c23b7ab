"""``zhibu user …``: dashboard accounts and API tokens from the command line.

    zhibu user add 李书记 --role secretary --compound 阳光花园 [--person 李书记] [--password-stdin]
    zhibu user add 陈社区 --role community_staff --community 兰新社区
    zhibu user add admin --role district_staff --admin
    zhibu user list | passwd NAME | disable NAME | enable NAME | token NAME [--name 用途]
"""
from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from typing import Any

from sqlalchemy import select

from bot.models.web import WebRole, WebUser
from bot.texts import web as T


def register_cli(sub: Any) -> None:
    user = sub.add_parser("user", help="管理后台账号（用户、密码、接口令牌）")
    commands = user.add_subparsers(dest="user_command", required=True)

    add = commands.add_parser("add", help="新建后台账号")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in WebRole],
                     help="secretary（支部书记）/ community_staff（社区）/ district_staff（区级）")
    add.add_argument("--compound", action="append", default=[], help="所属小区（可重复）")
    add.add_argument("--community", action="append", default=[], help="所属社区（可重复）")
    add.add_argument("--person", help="关联名册中的人员（姓名或编号）")
    add.add_argument("--display-name", help="显示的姓名（默认同用户名）")
    add.add_argument("--admin", action="store_true", help="区级管理员：可在后台管理账号")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（否则生成随机密码）")
    add.set_defaults(func=cmd_add)

    lst = commands.add_parser("list", help="列出后台账号")
    lst.set_defaults(func=cmd_list)

    passwd = commands.add_parser("passwd", help="重置密码（其他登录随之失效）")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=cmd_passwd)

    for name, active, help_text in (("disable", False, "停用账号"), ("enable", True, "启用账号")):
        p = commands.add_parser(name, help=help_text)
        p.add_argument("username")
        p.set_defaults(func=cmd_active, active=active)

    token = commands.add_parser("token", help="为账号生成接口令牌（只显示一次）")
    token.add_argument("username")
    token.add_argument("--name", default="接口令牌", help="令牌用途，如 12345平台")
    token.set_defaults(func=cmd_token)


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated?)"""
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n"), False
    if sys.stdin.isatty():
        first = getpass.getpass("新密码：")
        if first and first == getpass.getpass("再输入一次："):
            return first, False
        if first:
            raise SystemExit(T.PASSWORD_MISMATCH)
    return secrets.token_urlsafe(12), True


async def cmd_add(args: argparse.Namespace, app: Any) -> int:
    from bot.web import accounts

    password, generated = _read_password(args)
    spec = accounts.NewUser(username=args.username, password=password, role=args.role,
                            display_name=args.display_name, compounds=tuple(args.compound),
                            communities=tuple(args.community), person=args.person, is_admin=args.admin)
    async with app.sessions() as session:
        try:
            user = await accounts.create_user(session, app.org, app.clock.now(), spec, created_by="cli")
        except accounts.AccountError as exc:
            print(exc.message, file=sys.stderr)
            return 2
        await session.commit()
    print(T.USER_CREATED.format(name=user.username))
    if generated:
        print(f"初始密码：{password}（请登录后在“我的账号”中修改）")
    return 0


async def cmd_list(args: argparse.Namespace, app: Any) -> int:
    async with app.sessions() as session:
        users = list((await session.execute(select(WebUser).order_by(WebUser.username))).scalars())
        for u in users:
            if u.role == WebRole.DISTRICT_STAFF:
                scope = T.DISTRICT_WIDE
            elif u.role == WebRole.COMMUNITY_STAFF:
                scope = "、".join(app.org.communities.get(s.community_id, "?") for s in u.scopes)
            else:
                scope = "、".join(app.org.name_of(s.compound_id) for s in u.scopes)
            flags = ("管理员 " if u.is_admin else "") + ("" if u.active else "已停用")
            print(f"{u.username}\t{T.WEB_ROLE_LABELS.get(u.role, u.role)}\t{scope}\t{flags}".rstrip())
    if not users:
        print("（暂无账号）")
    return 0


async def _user_or_fail(session: Any, username: str) -> WebUser | None:
    from bot.web import accounts

    user = await accounts.get_user(session, username)
    if user is None:
        print(T.USER_UNKNOWN.format(name=username), file=sys.stderr)
    return user


async def cmd_passwd(args: argparse.Namespace, app: Any) -> int:
    from bot.web import accounts

    password, generated = _read_password(args)
    async with app.sessions() as session:
        user = await _user_or_fail(session, args.username)
        if user is None:
            return 2
        try:
            await accounts.set_password(session, user, password, app.clock.now(), "cli")
        except accounts.AccountError as exc:
            print(exc.message, file=sys.stderr)
            return 2
        await session.commit()
    print(T.PASSWORD_CHANGED)
    if generated:
        print(f"新密码：{password}")
    return 0


async def cmd_active(args: argparse.Namespace, app: Any) -> int:
    from bot.web import accounts

    async with app.sessions() as session:
        user = await _user_or_fail(session, args.username)
        if user is None:
            return 2
        await accounts.set_active(session, user, args.active, app.clock.now(), "cli")
        await session.commit()
    print((T.USER_ENABLED if args.active else T.USER_DISABLED).format(name=user.username))
    return 0


async def cmd_token(args: argparse.Namespace, app: Any) -> int:
    from bot.web import accounts

    async with app.sessions() as session:
        user = await _user_or_fail(session, args.username)
        if user is None:
            return 2
        _, raw = await accounts.create_api_token(session, user, args.name, app.clock.now(), "cli")
        await session.commit()
    print(T.TOKEN_CREATED)
    print(raw)
    return 0
