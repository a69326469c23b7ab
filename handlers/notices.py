"""Notices in chat: 通知, 定时 … 通知, 确认, 通知列表, 通知详情, 撤回通知, 统计, and the
residents' side: 收到 acknowledgements and answers to collections.

Only translation between chat and the notice services (``notice_targets``, ``notices``,
``notice_delivery``, ``collections``).
"""
from __future__ import annotations

import re

from bot import timefmt
from bot.context import Context
from bot.models.notices import Notice, NoticeStatus
from bot.roles import STAFF_ROLES
from bot.router import Router
from bot.services import collections as C
from bot.services import notice_delivery as ND
from bot.services import notice_targets as NT
from bot.services import notices as N
from bot.services.ticket_talk import open_assignments, ticket_asking_location
from bot.services.timeparse import TimeParseError, parse_when
from bot.texts import core as TC
from bot.texts import notices as T
from nlp.buildings import building_label

router = Router("notices")

_COLLECT = re.compile(r"^(?:收集|统计|接龙)(?:[\s:：]+|$)(.*)$", re.S)
# Bare 确认 or 确认 N (确认 W12 and the like belong to other features).
_CONFIRM = re.compile(r"^[#/＃]?\s*确认\s*(?:通知)?\s*[#＃]?\s*(\d{1,9})?\s*[。.!！]?$")
_ID = re.compile(r"^[#＃]?\s*(\d{1,9})$")


def _notice_id(args: str) -> int | None:
    m = _ID.match(args.strip())
    return int(m.group(1)) if m else None


def _group_compound(ctx: Context) -> int | None:
    return ctx.group_compound_id if ctx.in_group else None


# ---------------------------------------------------------------- publishing
@router.command("通知", "发通知", usage="通知 内容", summary="向本小区各群发通知", in_help=False)
async def notice(ctx: Context, args: str) -> None:
    if not NT.is_notice_staff(ctx.actor):
        if not ctx.in_group:  # in a group, "通知：…" from a resident or the property is just chat
            ctx.reply(T.NOT_STAFF)
        return
    await _compose(ctx, args, send_at=None)


@router.command("定时", "定时通知", roles=STAFF_ROLES, usage="定时 2026-12-01 09:00 通知 内容",
                summary="定时发送通知")
async def schedule(ctx: Context, args: str) -> None:
    try:
        when, rest = parse_when(args, ctx.clock.local())
    except TimeParseError:
        ctx.reply(T.BAD_TIME.format(text=args[:20]) + "\n" + T.USAGE_SCHEDULE)
        return
    if when is None:
        ctx.reply(T.USAGE_SCHEDULE)
        return
    body = re.sub(r"^[#/＃]?\s*(?:发)?通知(?:[\s:：,，]+|$)", "", rest, count=1)
    if body == rest and not rest.startswith("通知"):
        ctx.reply(T.SCHEDULE_NEEDS_NOTICE)
        return
    await _compose(ctx, body, send_at=when)


async def _compose(ctx: Context, args: str, *, send_at) -> None:  # noqa: ANN001
    if not args.strip():
        ctx.reply(T.USAGE_NOTICE)
        return
    deps, actor = ctx.deps, ctx.actor
    target, rest = await NT.parse_scope(deps, actor, args, _group_compound(ctx))
    spec = None
    m = _COLLECT.match(rest)
    if m:
        spec = C.parse_spec(m.group(1), ctx.clock.local())
        text = C.notice_text(spec)
    else:
        text = rest
    plan = await N.create_notice(deps, actor, text, target, send_at=send_at, collection=spec,
                                 origin_group_id=ctx.group_id)
    ctx.keep_message()
    _answer_plan(ctx, plan)


def _answer_plan(ctx: Context, plan: N.NoticePlan) -> None:
    """Previews, confirmations and receipts are the author's business: typed in a residents'
    group they continue in the private chat, and the group hears nothing but the notice."""
    notice = plan.notice
    deps = ctx.deps
    common = dict(id=notice.id, count=len(plan.recipients), unit=plan.unit, targets=plan.targets_text())
    if plan.needs_confirm:
        when = T.PREVIEW_WHEN.format(when=timefmt.stored(deps.clock, notice.send_at)) if notice.send_at else ""
        _to_author(ctx, T.PREVIEW.format(**common, when=when, body=ND.render(deps, notice, plan.collection),
                                         minutes=int(N.DRAFT_TTL.total_seconds() // 60)))
    elif notice.status == NoticeStatus.SCHEDULED:
        _to_author(ctx, T.SCHEDULED.format(**common, when=timefmt.stored(deps.clock, notice.send_at)))
    elif not (ctx.in_group and [r.group_id for r in plan.recipients] == [ctx.group.id]):
        _to_author(ctx, T.SENT_NOW.format(**common))  # (in the one target group the notice itself is the answer)


def _to_author(ctx: Context, text: str) -> None:
    if ctx.in_group:
        ctx.tell(ctx.person_id, text)
    else:
        ctx.reply(text)


@router.text(order=5)
async def confirm(ctx: Context) -> bool:
    """确认 / 确认 N: send the sender's previewed notice. Anything else is not ours."""
    m = _CONFIRM.match(ctx.text)
    if not m or not NT.is_notice_staff(ctx.actor):
        return False
    notice_id = int(m.group(1)) if m.group(1) else None
    deps = ctx.deps
    if notice_id is None and await N.latest_draft(deps, ctx.actor) is None:
        return False
    if notice_id is not None:
        found = await deps.session.get(Notice, notice_id)
        if found is None or not NT.is_author(found, ctx.actor):
            return False
    await _confirm(ctx, notice_id)
    return True


@router.command("确认通知", roles=STAFF_ROLES, usage="确认通知 [编号]", summary="确认发送预览中的通知", in_help=False)
async def confirm_command(ctx: Context, args: str) -> None:
    await _confirm(ctx, _notice_id(args) if args else None)


async def _confirm(ctx: Context, notice_id: int | None) -> None:
    plan = await N.confirm_notice(ctx.deps, ctx.actor, notice_id)
    ctx.keep_message()
    _answer_plan(ctx, plan)


@router.command("撤回通知", "取消通知", roles=STAFF_ROLES, usage="撤回通知 编号", summary="撤回未发出的通知")
async def cancel(ctx: Context, args: str) -> None:
    notice_id = _notice_id(args)
    if notice_id is None:
        ctx.reply(T.USAGE_CANCEL)
        return
    result = await N.cancel_notice(ctx.deps, ctx.actor, notice_id)
    if result.partly:
        ctx.reply(T.CANCELLED_PARTLY.format(id=notice_id, sent=result.sent, stopped=result.stopped))
    else:
        ctx.reply(T.CANCELLED.format(id=notice_id))


# ---------------------------------------------------------------- records
@router.command("通知列表", roles=STAFF_ROLES, usage="通知列表", summary=T.SUMMARY_LIST)
async def list_(ctx: Context) -> None:
    deps = ctx.deps
    lines = await N.list_notices(deps, ctx.actor)
    if not lines:
        ctx.reply(T.LIST_EMPTY)
        return
    out = [T.LIST_HEADER.format(count=len(lines))]
    for line in lines:
        n = line.notice
        state = T.STATE_LABELS.get(n.status, n.status)
        when = n.send_at if n.status == NoticeStatus.SCHEDULED else (n.sent_at or n.created_at)
        extra = ""
        if n.status in (NoticeStatus.SENT, NoticeStatus.CANCELLED) and line.counts.total:
            extra = T.LIST_EXTRA_SENT.format(sent=line.counts.sent, total=line.counts.total, acks=line.acks)
        if line.answers is not None:
            extra += T.LIST_EXTRA_COLLECTION.format(answers=line.answers)
        out.append(T.LIST_LINE.format(id=n.id, state=f"{state} {timefmt.stored(deps.clock, when)}", scope=n.scope_label,
                                      preview=_preview(n.text), extra=extra))
    ctx.reply("\n".join(out))


def _preview(text: str, limit: int = 24) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[:limit] + "…"


_SILENT_WORDS = ("未回复", "没回复", "未收到", "谁没回", "名单")
_REMIND_WORDS = ("提醒楼长", "提醒")


@router.command("通知详情", roles=STAFF_ROLES, usage="通知详情 编号 [未回复]", summary="查看通知的发送情况和未回复名单")
async def detail(ctx: Context, args: str) -> None:
    words = args.split()
    ids = [w for w in words if _notice_id(w) is not None]
    rest = [w for w in words if _notice_id(w) is None]
    notice_id = _notice_id(ids[0]) if len(ids) == 1 else None
    if notice_id is None or len(rest) > 1:
        ctx.reply(T.USAGE_DETAIL)
        return
    if rest:
        if rest[0] in _REMIND_WORDS:
            await _remind_leaders(ctx, notice_id)
        elif rest[0] in _SILENT_WORDS:
            await _silent(ctx, notice_id)
        else:
            ctx.reply(T.USAGE_SILENT)
        return
    deps = ctx.deps
    d = await N.notice_detail(deps, ctx.actor, notice_id)
    n = d.notice
    silent_hint = ""
    if n.status == NoticeStatus.SENT:
        silent = await ND.silent_people(deps, ctx.actor, notice_id)
        if silent.count:
            silent_hint = T.DETAIL_SILENT_HINT.format(count=silent.count, id=n.id)
    group_lines = [T.DETAIL_GROUP_ACK_LINE.format(label=x.label, status=T.DELIVERY_LABELS.get(x.status, x.status),
                                                  acks=d.acks_by_delivery.get(x.id, 0)) for x in d.deliveries[:20]]
    failed_rest = [x for x in d.deliveries[20:] if x.status == "failed"]
    failures = "".join(T.DETAIL_FAILURE_LINE.format(label=x.label, error=x.error or T.UNKNOWN_ERROR)
                       for x in failed_rest[:20])
    if len(failed_rest) > 20:
        failures += T.DETAIL_MORE_FAILURES.format(count=len(failed_rest) - 20)
    ctx.reply(T.DETAIL.format(
        id=n.id, state=T.STATE_LABELS.get(n.status, n.status), scope=n.scope_label, author=n.author_name,
        created=timefmt.stored(deps.clock, n.created_at),
        when=T.DETAIL_WHEN.format(when=timefmt.stored(deps.clock, n.send_at)) if n.send_at else "",
        preview=_preview(n.text, 60), sent=d.counts.sent, failed=d.counts.failed, pending=d.counts.pending,
        cancelled=T.DETAIL_CANCELLED.format(count=d.counts.cancelled) if d.counts.cancelled else "",
        acks=d.acks, per_group=T.DETAIL_GROUP_ACKS.format(lines="\n".join(group_lines)) if group_lines else "",
        failures=failures) + silent_hint)


MAX_NAMES_PER_BUILDING = 30  # a phone screen; the dashboard and the export have everyone


async def _silent(ctx: Context, notice_id: int) -> None:
    silent = await ND.silent_people(ctx.deps, ctx.actor, notice_id)
    preview = _preview(silent.notice.text, 16)
    if not silent.count:
        ctx.reply(T.SILENT_NONE.format(id=notice_id, preview=preview, expected=silent.expected))
        return
    lines = [T.SILENT_HEADER.format(id=notice_id, preview=preview, count=silent.count, expected=silent.expected,
                                    replied=silent.expected - silent.count)]
    for building, people in silent.by_building.items():
        names = "、".join(f"{p.name}{ND.person_place(p)}" for p in people[:MAX_NAMES_PER_BUILDING])
        if len(people) > MAX_NAMES_PER_BUILDING:
            names += T.SILENT_MORE.format(count=len(people))
        label = building_label(building) if building else T.SILENT_NO_BUILDING
        lines.append(T.SILENT_BUILDING.format(building=label, count=len(people), names=names))
    lines.append(T.SILENT_TAIL.format(id=notice_id))
    ctx.reply("\n".join(lines))


async def _remind_leaders(ctx: Context, notice_id: int) -> None:
    _, reminded, orphans = await ND.remind_building_leaders(ctx.deps, ctx.actor, notice_id)
    ctx.keep_message()
    text = T.LEADERS_REMINDED.format(count=len(reminded), leaders="、".join(reminded)) if reminded \
        else T.LEADERS_NONE_REMINDED
    if orphans:
        text += T.LEADERS_ORPHANS.format(buildings="、".join(orphans))
    ctx.reply(text)


@router.command("统计", "接龙统计", roles=STAFF_ROLES, usage="统计 [编号]", summary="查看收集（接龙）的分楼统计")
async def tally(ctx: Context, args: str) -> None:
    notice_id = _notice_id(args) if args else None
    if args and notice_id is None:
        ctx.reply(TC.USAGE.format(usage="统计 编号（不写编号则为您最近一次收集）"))
        return
    deps = ctx.deps
    t = await C.tally(deps, ctx.actor, notice_id)
    ctx.reply(C.render_tally(deps, t))


# ---------------------------------------------------------------- residents
@router.text(order=6)
async def acknowledge(ctx: Context) -> bool:
    """收到 after a notice: counted; in a group not answered (a group full of bot replies helps nobody)."""
    if not ND.is_ack(ctx.text):
        return False
    # A private 收到 from someone with open ticket assignments answers the assignment (the
    # tickets' hooks take it), unless a notice was sent to them in person.
    fallback = ctx.in_group or not await open_assignments(ctx.deps, ctx.person_id)
    notice = await ND.record_ack(ctx.deps, ctx.person_id, group_id=ctx.group_id, compound_fallback=fallback)
    if notice is None:
        return False
    if not ctx.in_group:  # privately, silence would look like the bot did not understand
        ctx.reply(T.ACK_PRIVATE.format(id=notice.id, preview=_preview(notice.text, 16)))
    return True


@router.text(order=7)
async def collection_answer(ctx: Context) -> bool:
    if not C.may_be_answer(ctx.text) or not await C.any_recent.get(ctx.deps):
        return False  # (before touching ctx.person: attaching it is the dearest part of chatter)
    if await ticket_asking_location(ctx.deps, ctx.person_id, ctx.group_id) is not None:
        return False  # the bot just asked this person "哪栋楼？": "4栋" answers that, not a 接龙
    result = await C.answer(ctx.deps, ctx.person, ctx.text, group_id=ctx.group_id,
                            message_id=ctx.message_id)
    if result is None:
        return False
    ctx.keep_message()
    ctx.reply(result.reply(ctx.deps), mention=ctx.in_group)
    return True
