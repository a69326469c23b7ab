"""Core commands: help, privacy, binding a group, linking an identity, my roles."""
from __future__ import annotations

import re

from sqlalchemy import select

from bot import helpmenu as H
from bot.context import Context
from bot.invites import InviteError, redeem
from bot.marker_writer import MarkerWriter
from bot.models import Role
from bot.models.tickets import OPEN_STATES, Ticket
from bot.privacy import forget_person_chatter
from bot.roles import STAFF_ROLES, role_label
from bot.router import CommandTable, Router
from bot.services import groups
from bot.texts import core as T

router = Router("core")

_CODE = re.compile(r"^(?:验证码|邀请码)?\s*([2-9A-Za-z]{6})$")


@router.command("帮助", "help", "菜单", usage="帮助 [主题]", summary="查看我能做什么")
async def help_(ctx: Context, table: CommandTable, args: str) -> None:
    viewer = H.Viewer(ctx.roles, ctx.group_compound_id if ctx.in_group else None, ctx.in_group,
                      assignee=await _has_open_assignments(ctx))
    topics = H.topics_for(table, viewer)
    if args.strip():
        topic = H.find_topic(args.split()[0])
        if topic is None or topic not in topics:
            ctx.reply(T.HELP_UNKNOWN_TOPIC.format(topic=args.strip()[:10], topics=_topic_list(topics)))
            return
        lines = [T.HELP_TOPIC_HEADER.format(topic=topic)]
        lines += [T.HELP_LINE.format(usage=c.usage, summary=c.summary) for c in H.topic_commands(table, topic, viewer)]
        ctx.reply("\n".join(lines))
        return
    lines = [T.HELP_HEADER, T.HELP_REPORT_LINE]
    lines += [T.HELP_LINE.format(usage=c.usage, summary=c.summary) for c in H.everyday(table, viewer)]
    lines.append(T.HELP_TOPICS.format(topics=_topic_list(topics)))
    ctx.reply("\n".join(lines[:H.MAX_MENU_LINES]))


def _topic_list(topics: list[str]) -> str:
    return "、".join(f"帮助 {t}" for t in topics)


async def _has_open_assignments(ctx: Context) -> bool:
    """Someone a ticket was handed to (派单/转办) sees 备注/转办/办结 without a staff role."""
    found = (await ctx.session.execute(select(Ticket.id).where(
        Ticket.assignee_person_id == ctx.person_id, Ticket.state.in_(OPEN_STATES)).limit(1))).first()
    return found is not None


@router.command("隐私", "隐私说明", usage="隐私", summary="我保存什么、谁能看到、如何删除")
async def privacy(ctx: Context) -> None:
    ctx.reply(T.PRIVACY_NOTICE.format(days=ctx.settings.retention_days))


@router.command("删除我的信息", where="private", usage="删除我的信息", summary="删除您与办事无关的聊天记录")
async def forget_me(ctx: Context) -> None:
    count = await forget_person_chatter(ctx.session, ctx.person_id, except_id=ctx.message_id)
    ctx.reply(f"已删除您的{count}条聊天记录。与工单、心愿有关的必要记录按规定保留。")


@router.command("绑定", roles=STAFF_ROLES, where="group", usage=T.BIND_USAGE,
                summary="把本群绑定到小区（支部书记）", unbound_ok=True)
async def bind(ctx: Context, args: str) -> None:
    assert ctx.in_group
    if not args:
        ctx.reply(T.USAGE.format(usage=T.BIND_USAGE))
        return
    info = ctx.org.find(args)
    if info is None:
        known = "、".join(sorted(ctx.org.by_name)[:10])
        ctx.reply(T.BIND_UNKNOWN_COMPOUND.format(name=args[:30], known=known))
        return
    outcome = groups.bind_from_chat(ctx.deps, ctx.actor, ctx.group, info.id)
    if outcome == "confirmed":  # the secretary confirmed a group re-linked by a guess
        ctx.reply(T.BIND_CONFIRMED.format(compound=info.name))
        return
    if outcome == "already":
        ctx.reply(T.BIND_ALREADY.format(compound=info.name))
        return
    ctx.reply(T.BIND_OK.format(compound=info.name, community=info.community, bot_name=T.BOT_NAME))
    ctx.reply(T.SELF_INTRO.format(bot_name=T.BOT_NAME, compound=info.name, days=ctx.settings.retention_days))


@router.command("我的身份", usage="我的身份", summary="查看您在各小区的身份")
async def my_roles(ctx: Context) -> None:
    if not ctx.person.roles:
        ctx.reply(T.MY_ROLES_NONE.format(name=ctx.person.name))
        return
    lines = [f"· {role_label(r.name)}（{_scope(ctx, r)}）" for r in ctx.person.roles]
    ctx.reply(T.MY_ROLES.format(name=ctx.person.name, lines="\n".join(lines)))


def _scope(ctx: Context, role: Role) -> str:
    if role.compound_id:
        return ctx.org.name_of(role.compound_id)
    if role.community_id:
        return ctx.org.communities.get(role.community_id, "社区")
    return "全区"


@router.text(order=0)
async def invite_code(ctx: Context, markers: MarkerWriter) -> bool:
    """A private message that is just a code: link this chat identity to a roster record."""
    if ctx.in_group:
        return False
    match = _CODE.match(ctx.text.strip())
    if not match or not any(ch.isdigit() for ch in match.group(1)):
        return False
    try:
        person = await redeem(ctx.session, match.group(1), ctx.person, ctx.clock.now())
    except InviteError as exc:
        ctx.reply(T.LINK_ALREADY if str(exc) == "used" else T.LINK_BAD_CODE)
        return True
    ctx.person = person
    markers.request(ctx.incoming.account)  # write the stable marker into the contact's remark right away
    labels = "、".join(role_label(r.name) for r in person.roles) or "居民"
    scopes = "、".join(sorted({_scope(ctx, r) for r in person.roles})) or "—"
    ctx.reply(T.LINK_OK.format(name=person.name, roles=labels, scope=scopes))  # on the account just used
    return True

