"""The social workers' visit lists in chat (社工来敲门): 添加走访, 走访名单, 已走访, 删除走访; the
scheduled visit reminders read these lists. Only translation between chat and ``bot.services.visits``.
"""
from __future__ import annotations

import re

from bot import timefmt
from bot.context import Context
from bot.router import Router
from bot.services import visits as V
from bot.texts import visits as TV

router = Router("visits")


def _visit_compound(ctx: Context, args: str) -> tuple[int | None, str]:
    """The compound a visit command is about: a leading compound name, the group's, or the
    sender's only one."""
    first, _, rest = args.strip().partition(" ")
    if first in ctx.org.by_name:
        return ctx.org.by_name[first].id, rest.strip()
    if ctx.in_group and ctx.group_compound_id is not None:
        return ctx.group_compound_id, args.strip()
    mine = ctx.roles.compounds_with(V.VISIT_ROLES, ctx.org.compounds)
    if len(mine) == 1:
        return mine[0], args.strip()
    if ctx.person.compound_id in mine:
        return ctx.person.compound_id, args.strip()
    return None, args.strip()


def _ids(args: str) -> list[int]:
    tokens = re.split(r"[\s,，、]+", args.strip())
    if not tokens or not all(re.fullmatch(r"[#＃]?\d{1,9}", t) for t in tokens):
        return []
    return [int(t.lstrip("#＃")) for t in tokens]


@router.command("添加走访", roles=V.VISIT_ROLES, usage="添加走访 日走访/周入户/月遍访 对象 [备注]",
                summary="维护社工走访名单")
async def visit_add(ctx: Context, args: str) -> None:
    kind_word, _, rest = args.strip().partition(" ")
    kind = V.kind_of(kind_word)
    if not args.strip() or kind is None:
        ctx.reply(TV.USAGE_ADD if not args.strip() else TV.BAD_KIND)
        return
    compound_id, rest = _visit_compound(ctx, rest)
    if compound_id is None:
        ctx.reply(TV.NO_COMPOUND)
        return
    label, _, note = rest.partition(" ")
    target = await V.add_target(ctx.deps, ctx.actor, compound_id, kind, label, note or None)
    ctx.reply(TV.ADDED.format(compound=ctx.org.name_of(compound_id), kind=TV.KIND_LABELS[kind], id=target.id,
                              label=target.label))


@router.command("删除走访", roles=V.VISIT_ROLES, usage="删除走访 编号", summary="从走访名单删除", in_help=False)
async def visit_remove(ctx: Context, args: str) -> None:
    ids = _ids(args)
    if len(ids) != 1:
        ctx.reply(TV.USAGE_REMOVE)
        return
    target = await V.remove_target(ctx.deps, ctx.actor, ids[0])
    ctx.reply(TV.REMOVED.format(id=target.id, label=target.label))


@router.command("已走访", roles=V.VISIT_ROLES, usage="已走访 编号", summary="记录完成的走访")
async def visit_done(ctx: Context, args: str) -> None:
    ids = _ids(args)
    if not ids:
        ctx.reply(TV.USAGE_DONE)
        return
    done = await V.mark_visited(ctx.deps, ctx.actor, ids[:50])
    ctx.reply(TV.DONE.format(items="、".join(f"#{t.id} {t.label}" for t in done)))


@router.command("走访名单", roles=V.VISIT_ROLES, usage="走访名单 [日走访/周入户/月遍访]", summary="查看走访名单")
async def visit_list(ctx: Context, args: str) -> None:
    kind = V.kind_of(args.split()[-1]) if args.strip() else None
    compound_id, _ = _visit_compound(ctx, args if kind is None else "")
    if compound_id is None:
        ctx.reply(TV.NO_COMPOUND)
        return
    targets = await V.list_targets(ctx.deps, ctx.actor, compound_id, kind)
    name = ctx.org.name_of(compound_id)
    if not targets:
        ctx.reply(TV.LIST_EMPTY.format(compound=name))
        return
    lines = [TV.LIST_HEADER.format(compound=name, count=len(targets))]
    current = None
    for t in targets:
        if t.kind != current:
            current = t.kind
            lines.append(TV.LIST_KIND.format(kind=TV.KIND_LABELS.get(t.kind, t.kind)))
        last = TV.LIST_LAST.format(when=timefmt.stored(ctx.deps.clock, t.last_visited_at)) if t.last_visited_at else ""
        lines.append(TV.LIST_LINE.format(id=t.id, label=t.label, note=f"（{t.note}）" if t.note else "", last=last))
    ctx.reply("\n".join(lines))
