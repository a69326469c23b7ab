"""``评星``: a secretary's current standing (an estimate for the period so far, what would
raise it, last period's result); ``物业评议``: the branch's property review form, privately.

Both are private: a branch's score is for its secretary and the staff, not for the group."""
from __future__ import annotations

import re

from bot import timefmt
from bot.context import Context
from bot.models import PropertyProject
from bot.roles import STAFF_ROLES
from bot.router import Router
from bot.services.rating import entries as E
from bot.services.rating import periods, runs, standard
from bot.services.rating.complaints import project_of_compound
from bot.texts import core as TC
from bot.texts import rating as T
from handlers.members import pick_compound, tokens

router = Router("rating")


def _compound(ctx: Context, args: str) -> tuple[int | None, list[str]]:
    cid, rest = pick_compound(ctx, tokens(args))
    if cid is None or not ctx.roles.is_staff_for(cid):
        return None, rest
    return cid, rest


@router.command("评星", "星级", roles=STAFF_ROLES, where="private", usage=T.HELP_STANDING,
                summary="查看本小区本期评星预估和可提升的项目（书记）")
async def standing(ctx: Context, args: str) -> None:
    cid, _ = _compound(ctx, args)
    if cid is None:
        ctx.reply(TC.NEED_COMPOUND)
        return
    std = standard.for_settings(ctx.deps.settings)
    period = periods.period_of(ctx.clock.local(), std.period)
    [scored] = await runs.score_period(ctx.deps, std, period, [cid])
    r = scored.result
    text = T.STANDING_HEADER.format(compound=ctx.org.name_of(cid), period=periods.label(period),
                                    now=timefmt.day(ctx.clock.local()))
    text += "\n" + T.STANDING_TOTAL.format(
        stars=runs.stars_text(r.stars), klass=r.klass, total=r.total, branch=r.branch_score,
        property=T.PROPERTY_NONE if r.property_score is None else f"{r.property_score:g}分",
        bw=1 - std.property_weight if r.property_score is not None else 1,
        pw=std.property_weight if r.property_score is not None else 0)
    text += "".join(T.STANDING_ASPECT.format(name=a["name"], score=a["score"], max=a["max"]) for a in r.aspects)
    text += "".join(T.STANDING_VETO.format(name=v["name"], max_stars=v["max_stars"]) for v in r.vetoes)
    if r.property_detail and r.property_detail.get("form") is None:
        text += T.STANDING_FORM_MISSING
    advice = runs.advice_lines(r.items + r.property_detail.get("objective", []))
    if advice:
        text += T.STANDING_ADVICE.format(lines="".join(T.RESULT_ADVICE_LINE.format(line=a) for a in advice))
    last = await runs.last_result(ctx.deps, cid, other_than=period)
    if last is not None:
        text += T.STANDING_LAST.format(period=periods.label(last[0]), stars=runs.stars_text(last[1]), klass=last[2])
    ctx.reply(text)


_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


@router.command("物业评议", roles=STAFF_ROLES, where="private", usage=T.HELP_FORM,
                summary="给本小区的物业项目打分（书记，私聊）")
async def property_form(ctx: Context, args: str) -> None:
    cid, words = _compound(ctx, args)
    if cid is None:
        ctx.reply(TC.NEED_COMPOUND)
        return
    std = standard.for_settings(ctx.deps.settings)
    form = std.property.form
    period = periods.period_of(ctx.clock.local(), std.period)
    numbers = []
    while words and _NUMBER.match(words[0]) and len(numbers) < len(form):
        numbers.append(float(words.pop(0)))
    if not numbers:
        await _show_form(ctx, cid, period, std)
        return
    if len(numbers) != len(form):
        ctx.reply(T.FORM_COUNT.format(count=len(form), items="、".join(i.name for i in form)))
        return
    review = await E.submit_review(ctx.deps, ctx.actor, std, cid, period,
                                   {item.key: n for item, n in zip(form, numbers)}, note=" ".join(words) or None)
    project = await _project_name(ctx, review.project_id)
    ctx.reply(T.FORM_SAVED.format(project=project, period=periods.label(period), total=review.form_score))


async def _project_name(ctx: Context, project_id: int) -> str:
    project = await ctx.session.get(PropertyProject, project_id)
    return project.name if project else ""


async def _show_form(ctx: Context, cid: int, period: str, std) -> None:  # noqa: ANN001
    project_id = (await project_of_compound(ctx.session)).get(cid)
    if project_id is None:
        ctx.reply(T.NO_PROJECT)
        return
    form = std.property.form
    current = await E.review_of(ctx.deps, project_id, period)
    current_text = ""
    if current is not None:
        current_text = T.FORM_CURRENT.format(scores=" ".join(f"{current.scores.get(i.key, 0):g}" for i in form),
                                             total=current.form_score)
    ctx.reply(T.FORM_INTRO.format(
        project=await _project_name(ctx, project_id), period=periods.label(period),
        example=" ".join(f"{i.points * 0.9:g}" for i in form),
        items="".join(T.FORM_ITEM.format(index=n, name=i.name, points=i.points) for n, i in enumerate(form, 1)),
        current=current_text))
