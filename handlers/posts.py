"""Volunteer-post commands (志愿岗位): 设岗, 撤岗, 岗位, 认岗, 退岗, 到岗. Only translation
between chat and ``bot.services.posts``."""
from __future__ import annotations

import re

from bot.context import Context
from bot.roles import STAFF_ROLES
from bot.router import Router
from bot.services import chat_words as CW
from bot.services import posts as P
from bot.texts import core as TC
from bot.texts import wishes as T
from handlers.members import pick_compound, tokens, usage
from nlp.buildings import cn_to_int

router = Router("posts")


def _compound(ctx: Context) -> int | None:
    """The group's compound, or the sender's only one."""
    compound_id, _ = pick_compound(ctx, [])
    return compound_id


_POST_LABELS = re.compile(r"(职责|任务|时间|值守时间|人数|名额)\s*[:：]\s*")


def _post_fields(args: str) -> tuple[str, dict[str, str]]:
    marks = list(_POST_LABELS.finditer(args))
    head = (args[:marks[0].start()] if marks else args).strip()
    found: dict[str, str] = {}
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(args)
        key = {"任务": "职责", "值守时间": "时间", "名额": "人数"}.get(mark.group(1), mark.group(1))
        found[key] = args[mark.end():end].strip(" \t\n,，;；。")
    return head, found


@router.command("设岗", "设立岗位", roles=STAFF_ROLES, usage=T.HELP_POST_CREATE, summary="设立志愿岗位（支部书记）")
async def create_post(ctx: Context, args: str) -> None:
    head, found = _post_fields(args)
    words = tokens(head)
    if not words:
        usage(ctx, T.POST_CREATE_USAGE)
        return
    compound_id, words = pick_compound(ctx, words)
    if compound_id is None or not words:
        ctx.reply(TC.NEED_COMPOUND if compound_id is None else TC.USAGE.format(usage=T.POST_CREATE_USAGE))
        return
    name = words[0]
    duties = found.get("职责") or (" ".join(words[1:]) or None)
    capacity = None
    if found.get("人数"):
        capacity = cn_to_int(re.sub(r"[人个位名\s]", "", found["人数"]))
        if capacity is None:
            ctx.reply(T.POST_BAD_CAPACITY.format(limit=P.CAPACITY_MAX))
            return
    post = await P.create_post(ctx.deps, ctx.actor, compound_id, name, duties=duties,
                               schedule_text=found.get("时间"), capacity=capacity)
    ctx.reply(T.POST_CREATED.format(number=P.post_number(post.id), name=post.name, duties=post.duties or T.DUTIES_NONE,
                                    schedule=P.describe_schedule(post.schedule),
                                    capacity=post.capacity or T.CAPACITY_ANY))


@router.command("撤岗", "撤销岗位", roles=STAFF_ROLES, usage=T.CLOSE_POST_USAGE, summary="撤销志愿岗位（支部书记）",
                in_help=False)
async def close_post(ctx: Context, args: str) -> None:
    if not args:
        usage(ctx, T.CLOSE_POST_USAGE)
        return
    post = await P.find_post(ctx.session, _compound(ctx), args)
    await P.close_post(ctx.deps, ctx.actor, post.id)
    ctx.reply(T.POST_CLOSED_OK.format(name=post.name))


@router.command("岗位", "岗位列表", usage="岗位", summary="看看本小区的志愿岗位")
async def list_posts(ctx: Context, args: str) -> None:
    compound_id, _ = pick_compound(ctx, tokens(args))
    if compound_id is None:
        ctx.reply(T.NEED_COMPOUND)
        return
    compound = ctx.org.name_of(compound_id)
    infos = await P.list_posts(ctx.session, compound_id)
    if not infos:
        ctx.reply(T.POSTS_EMPTY.format(compound=compound))
        return
    lines = [T.POSTS_HEADER.format(compound=compound)]
    for info in infos:
        holders = T.POSTS_HOLDERS.format(names="、".join(info.holders)) if info.holders else T.POSTS_NOBODY
        if info.post.capacity:
            holders += T.POSTS_SPACE.format(have=len(info.holders), capacity=info.post.capacity)
        lines.append(T.POSTS_LINE.format(number=info.number, name=info.post.name,
                                         schedule=P.describe_schedule(info.post.schedule), holders=holders))
        if info.post.duties:
            lines.append(f"  {info.post.duties}")
    lines.append(T.POSTS_TAIL)
    ctx.reply("\n".join(lines))


@router.command("认岗", "认领岗位", usage=T.HELP_SIGNUP, summary="认领志愿岗位（党员、志愿者）")
async def sign_up(ctx: Context, args: str) -> None:
    if not args:
        usage(ctx, T.SIGNUP_USAGE)
        return
    post = await P.find_post(ctx.session, _compound(ctx), args)
    await P.sign_up(ctx.deps, ctx.actor, post.id)
    ctx.keep_message()
    ctx.reply(T.SIGNUP_OK.format(name=post.name, number=P.post_number(post.id), duties=post.duties or T.DUTIES_NONE,
                                 schedule=P.describe_schedule(post.schedule)))


@router.command("退岗", "退出岗位", usage=T.LEAVE_USAGE, summary="退出志愿岗位")
async def leave(ctx: Context, args: str) -> None:
    if not args:
        held = await P.held_posts(ctx.session, ctx.person_id)
        if len(held) != 1:
            usage(ctx, T.LEAVE_USAGE)
            return
        post = held[0]
    else:
        post = await P.find_post(ctx.session, _compound(ctx), args)
    await P.leave(ctx.deps, ctx.actor, post.id)
    ctx.reply(T.LEAVE_OK.format(name=post.name))


@router.command("到岗", "打卡", usage=T.DUTY_USAGE, summary="记录一次岗位值守")
async def report_duty(ctx: Context, args: str) -> None:
    parts = CW.normalize(args).split(maxsplit=1)
    post_id = CW.parse_number(parts[0], "P") if parts else None
    note = (parts[1] if len(parts) > 1 else "") if post_id is not None else CW.normalize(args)
    if post_id is None and parts and not parts[0].isdigit():
        # "到岗 楼道安全巡查员 …": a post named instead of numbered
        held = await P.held_posts(ctx.session, ctx.person_id)
        named = next((p for p in held if p.name == parts[0]), None)
        if named is not None:
            post_id, note = named.id, parts[1] if len(parts) > 1 else ""
    result = await P.report_duty(ctx.deps, ctx.actor, post_id, note)
    ctx.keep_message()
    ctx.reply(T.DUTY_OK.format(name=result.post.name, points=result.points, n=result.month_reports))
