"""议定: the outcome of a discussion-day item, typed by the branch after the meeting.

Only translation between chat and ``bot.services.agenda``.
"""
from __future__ import annotations

from bot import timefmt
from bot.context import Context
from bot.roles import HANDLING_ROLES
from bot.router import Router
from bot.services import agenda as A
from bot.services.tickets import naming
from bot.services.timeparse import TimeParseError, parse_when
from bot.texts import agenda as TA
from bot.texts import core as TC
from handlers.tickets import split_args, ticket_from

router = Router("agenda")


@router.command("议定", "议事结果", roles=HANDLING_ROLES, usage=TA.OUTCOME_USAGE, summary=TA.SUMMARY_OUTCOME)
async def outcome(ctx: Context, args: str) -> None:
    ref, rest = split_args(args)
    if not ref:
        ctx.reply(TC.USAGE.format(usage=TA.OUTCOME_USAGE))
        return
    ticket = await ticket_from(ctx, ref, TA.OUTCOME_USAGE)
    fixes = A.parse_outcome(rest)
    if not fixes.get("outcome"):
        ctx.reply(TA.OUTCOME_NEED_TEXT)
        return
    due = None
    if fixes.get("due"):
        try:
            due, _ = parse_when(fixes["due"], ctx.clock.local(), date_only_time=A.DUE_TIME)
        except TimeParseError:
            due = None
        if due is None:
            ctx.reply(TA.OUTCOME_BAD_DUE.format(text=fixes["due"][:20]))
            return
    result = await A.record_outcome(ctx.deps, ctx.actor, ticket, fixes["outcome"], owner=fixes.get("owner"), due=due)
    ctx.keep_message()
    ctx.reply(TA.OUTCOME_OK.format(code=naming.ticket_code(ctx.org, ticket), outcome=result.item.outcome,
                                   owner=result.owner, due=timefmt.stored(ctx.deps.clock, result.due), count=result.told))
