"""Member commands: 亮身份 and its approval, secretaries adding people, rosters, consent, 表彰.

Handlers only translate chat into ``bot.services.members`` calls and answers back.
"""
from __future__ import annotations

import re
from datetime import datetime

from bot.context import Context
from bot.models import Person
from bot.roles import STAFF_ROLES, role_label
from bot.router import Router
from bot.services import chat_words as CW
from bot.services import member_points as MP
from bot.services import members as M
from bot.texts import core as TC
from bot.texts import members as T
from nlp.buildings import Home, building_label, find_home

router = Router("members")

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")


def usage(ctx: Context, text: str) -> None:
    ctx.reply(TC.USAGE.format(usage=text))


def tokens(args: str) -> list[str]:
    return [t for t in re.split(r"[\s,，、;；]+", CW.normalize(args)) if t]


def pick_compound(ctx: Context, words: list[str]) -> tuple[int | None, list[str]]:
    """The compound a command is about: the group's; else one named in the words; else the sender's."""
    if ctx.in_group and ctx.group_compound_id is not None:
        return ctx.group_compound_id, words
    for index, word in enumerate(words):
        info = ctx.org.by_name.get(word)
        if info is not None:
            return info.id, words[:index] + words[index + 1:]
    if ctx.person.compound_id is not None:
        return ctx.person.compound_id, words
    staff = ctx.roles.compounds_with(STAFF_ROLES, sorted(ctx.org.compounds))
    if len(staff) == 1:
        return staff[0], words
    own = sorted({r.compound_id for r in ctx.person.roles if r.compound_id is not None})
    return (own[0] if len(own) == 1 else None), words


# ------------------------------------------------------------------ 亮身份
@router.command("亮身份", "申请身份", usage=T.HELP_APPLY, summary="党员、楼长、志愿者登记身份（支部确认）")
async def show_identity(ctx: Context, args: str) -> None:
    home, rest = find_home(args)
    words = tokens(rest)
    role = next((CW.role_from_word(w) for w in words if CW.role_from_word(w)), None)
    if role is None:
        usage(ctx, T.APPLY_USAGE)
        return
    words = [w for w in words if CW.role_from_word(w) is None]
    compound_id, words = pick_compound(ctx, words)
    if compound_id is None:
        ctx.reply(T.APPLY_NEED_COMPOUND)
        return
    note = " ".join(words)[:200] or None
    req = await M.apply_identity(ctx.deps, ctx.actor, compound_id, role, home=home, note=note,
                                 group_id=ctx.group_id,
                                 applicant_name=ctx.incoming.sender_name or "")
    ctx.keep_message()
    label = home.label() if home else ""
    ctx.reply(T.APPLY_OK.format(number=M.request_number(req.id), compound=ctx.org.name_of(compound_id),
                                role=role_label(role), home=f"（{label}）" if label else ""))


@router.command("身份申请", "待审核", roles=STAFF_ROLES, usage="身份申请", summary="查看待处理的身份申请（支部书记）")
async def pending(ctx: Context) -> None:
    rows = await M.pending_requests(ctx.deps, ctx.actor)
    if not rows:
        ctx.reply(T.PENDING_NONE)
        return
    lines = [T.PENDING_HEADER.format(count=len(rows))]
    lines += [T.PENDING_LINE.format(number=r.number, name=r.name, compound=ctx.org.name_of(r.compound_id),
                                    role=role_label(r.role), detail=r.detail or "—") for r in rows[:30]]
    lines.append(T.PENDING_TAIL)
    ctx.reply("\n".join(lines))


async def _request_id(ctx: Context, word: str, use: str) -> int | None:
    if word:
        number = CW.parse_number(word, "R")
        if number is None:
            usage(ctx, use)
        return number
    only = await M.only_pending_for(ctx.deps, ctx.actor)
    if only is None:
        usage(ctx, use)
    return only


@router.command("同意", roles=STAFF_ROLES, usage=T.HELP_APPROVE, summary="同意身份申请（支部书记）")
async def approve(ctx: Context, args: str) -> None:
    words = tokens(args)
    request_id = await _request_id(ctx, words[0] if words else "", T.APPROVE_USAGE)
    if request_id is None:
        return
    req = await M.approve_request(ctx.deps, ctx.actor, request_id)
    person = await ctx.session.get(Person, req.person_id)
    ctx.reply(T.APPROVED_OK.format(number=M.request_number(req.id), name=person.name if person else "",
                                   compound=ctx.org.name_of(req.compound_id), role=role_label(req.role)))


@router.command("拒绝", roles=STAFF_ROLES, usage=T.REJECT_USAGE, summary="拒绝身份申请并说明原因（支部书记）")
async def reject(ctx: Context, args: str) -> None:
    parts = CW.normalize(args).split(maxsplit=1)
    if not parts or CW.parse_number(parts[0], "R") is None:
        usage(ctx, T.REJECT_USAGE)
        return
    reason = parts[1].strip() if len(parts) > 1 else ""
    req = await M.reject_request(ctx.deps, ctx.actor, CW.parse_number(parts[0], "R"), reason)
    person = await ctx.session.get(Person, req.person_id)
    ctx.reply(T.REJECTED_OK.format(number=M.request_number(req.id), name=person.name if person else "申请人"))


# ------------------------------------------------------------------ 添加 / 移除
@router.command("添加", "添加成员", roles=STAFF_ROLES, usage=T.HELP_ADD, summary="把人登记进名册并给身份（支部书记）")
async def add(ctx: Context, args: str) -> None:
    home, rest = find_home(args)
    phone_match = _PHONE.search(rest)
    phone = phone_match.group(1).replace("-", "") if phone_match else None
    if phone_match:
        rest = rest[:phone_match.start()] + " " + rest[phone_match.end():]
    words = tokens(rest)
    if len(words) < 2:
        usage(ctx, T.ADD_USAGE)
        return
    compound_id, words = pick_compound(ctx, words)
    if compound_id is None:
        ctx.reply(TC.NEED_COMPOUND)
        return
    name, role_word = words[0], words[1]
    role = CW.role_from_word(role_word)
    if role is None:
        ctx.reply(T.ADD_UNKNOWN_ROLE.format(word=role_word[:10]))
        return
    result = await M.add_member(ctx.deps, ctx.actor, compound_id, name, role, home=home, phone=phone)
    compound = ctx.org.name_of(compound_id)
    label = home.label() if home else ""
    if result.added:
        ctx.reply(T.ADD_OK.format(name=result.person.name, compound=compound, role=role_label(role),
                                  home=f"（{label}）" if label else ""))
    else:
        ctx.reply(T.ADD_ALREADY.format(name=result.person.name, compound=compound, role=role_label(role)))
    if result.invite_code:
        # Never into a group: whoever sends the code first becomes this person.
        ctx.tell(ctx.person_id, T.ADD_CODE_TO_STAFF.format(name=result.person.name, code=result.invite_code,
                                                           hours=ctx.settings.invite_ttl_hours))


@router.command("移除", "移除成员", roles=STAFF_ROLES, usage=T.REMOVE_USAGE, summary="取消某人的身份（支部书记）",
                in_help=False)
async def remove(ctx: Context, args: str) -> None:
    words = tokens(args)
    if len(words) < 2:
        usage(ctx, T.REMOVE_USAGE)
        return
    compound_id, words = pick_compound(ctx, words)
    role = CW.role_from_word(words[1]) if len(words) > 1 else None
    if compound_id is None or role is None:
        usage(ctx, T.REMOVE_USAGE)
        return
    person = await M.remove_member(ctx.deps, ctx.actor, compound_id, words[0], role)
    ctx.reply(T.REMOVED_OK.format(name=person.name, role=role_label(role), compound=ctx.org.name_of(compound_id)))


# ------------------------------------------------------------------ 名单
@router.command("党员名单", "成员", "成员名单", roles=STAFF_ROLES, where="private", usage=T.HELP_ROSTER,
                summary="按楼查看党员和成员名单（支部书记）")
async def roster(ctx: Context, args: str) -> None:
    only_party = ctx.text.lstrip("#/＃ ").startswith("党员")
    home, rest = find_home(args)
    words = tokens(rest)
    if not home and words and words[0].isdigit():
        home, words = Home(words[0]), words[1:]
    compound_id, words = pick_compound(ctx, words)
    if compound_id is None or words:
        usage(ctx, T.ROSTER_USAGE)
        return
    rows = await M.list_members(ctx.deps, ctx.actor, compound_id, building=home.building if home else None,
                                role="party_member" if only_party else None)
    compound = ctx.org.name_of(compound_id) + (building_label(home.building) if home else "")
    what = T.ROSTER_PARTY if only_party else T.ROSTER_ALL
    if not rows:
        ctx.reply(T.ROSTER_EMPTY.format(compound=compound, what=what))
        return
    lines = [T.ROSTER_HEADER.format(compound=compound, what=what, count=len(rows))]
    current = object()
    for row in rows:
        if row.building != current:
            current = row.building
            lines.append(T.ROSTER_BUILDING.format(building=building_label(row.building)) if row.building
                         else T.ROSTER_NO_BUILDING)
        labels = [role_label(r) for r in row.roles if not (only_party and r == "party_member")]
        lines.append("  " + T.ROSTER_PERSON.format(
            name=row.name, unit=f" {row.unit}单元" if row.unit else "",
            roles=f"（{'、'.join(labels)}）" if labels else ""))
    ctx.reply("\n".join(lines))


# ------------------------------------------------------------------ consent
@router.command("公开", "公开姓名", usage="公开", summary="同意在表彰和感谢中写上我的名字")
async def consent_on(ctx: Context) -> None:
    await M.set_consent(ctx.deps, ctx.actor, True)
    ctx.reply(T.CONSENT_ON)


@router.command("不公开", "不公开姓名", usage="不公开", summary="表彰和感谢中不写我的名字")
async def consent_off(ctx: Context) -> None:
    await M.set_consent(ctx.deps, ctx.actor, False)
    ctx.reply(T.CONSENT_OFF)


# ------------------------------------------------------------------ 表彰
def parse_month(words: list[str], now_local: datetime) -> tuple[int, int] | None:
    """本月 / 上月 (default) / 2026-11 / 2026年11月 / 11月 → (year, month)."""
    text = "".join(words)
    if not text or text in ("上月", "上个月"):
        year, month = now_local.year, now_local.month - 1
        return (year - 1, 12) if month == 0 else (year, month)
    if text in ("本月", "这个月", "当月"):
        return now_local.year, now_local.month
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?", text) or re.fullmatch(r"(\d{1,2})月", text)
    if not m:
        return None
    if len(m.groups()) == 2:
        year, month = int(m.group(1)), int(m.group(2))
    else:
        month = int(m.group(1))
        year = now_local.year if month <= now_local.month else now_local.year - 1
    return (year, month) if 1 <= month <= 12 and 2000 <= year <= 2100 else None


@router.command("表彰", "光荣榜", roles=STAFF_ROLES, usage=T.HELP_ROLL, summary="本小区月度服务之星（支部书记）")
async def honour(ctx: Context, args: str) -> None:
    words = tokens(args)
    publish = "发布" in words
    words = [w for w in words if w != "发布"]
    compound_id, words = pick_compound(ctx, words)
    if compound_id is None:
        ctx.reply(TC.NEED_COMPOUND)
        return
    month = parse_month(words, ctx.clock.local())
    if month is None:
        ctx.reply(T.ROLL_BAD_MONTH + "\n" + TC.USAGE.format(usage=T.ROLL_USAGE))
        return
    year, mon = month
    if ctx.in_group:
        await MP.publish_honour_roll(ctx.deps, ctx.actor, compound_id, year, mon, group_ids=[ctx.group_id])
        return
    if publish:
        _, groups = await MP.publish_honour_roll(ctx.deps, ctx.actor, compound_id, year, mon)
        compound = ctx.org.name_of(compound_id)
        ctx.reply(T.ROLL_POSTED.format(year=year, month=mon, groups=groups) if groups
                  else T.ROLL_NO_GROUPS.format(compound=compound))
        return
    M.require_staff(ctx.actor, compound_id, ctx.org)
    roll = await MP.honour_roll(ctx.session, ctx.org, compound_id, year, mon, ctx.clock.tz)
    ctx.reply(T.ROLL_PREVIEW.format(roll=MP.honour_roll_text(ctx.org, roll)))
