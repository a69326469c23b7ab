"""Micro-wish commands and ``我的服务``: translation between chat and ``bot.services.wishes``
(a free-text wish is split by ``bot.services.wish_text``)."""
from __future__ import annotations

import re

from sqlalchemy import select

from bot import timefmt
from bot.context import Context
from bot.models import Person
from bot.router import Router
from bot.services import chat_words as CW
from bot.services import member_points as MP
from bot.services import wish_followup
from bot.services import wish_queries as WQ
from bot.services import wishes as W
from bot.services.names import person_names
from bot.services.wish_text import extract_private, parse_wish
from bot.texts import wishes as T
from handlers.members import pick_compound, tokens, usage
from nlp.buildings import Home, building_label, find_home

router = Router("wishes")


# ------------------------------------------------------------------ helpers
_REF = re.compile(r"\s*([WwＷｗ]?\s*[0-9０-９]{1,9})(?=[\s,，:：]|$)[\s,，:：]*(.*)$", re.S)


def _split_ref(args: str) -> tuple[int | None, str]:
    """"W12 rest" → (12, "rest"); no leading number → (None, args). The rest keeps its punctuation."""
    m = _REF.match(args or "")
    if m:
        number = _wish_number(m.group(1))
        if number is not None:
            return number, m.group(2).strip()
    return None, (args or "").strip()


def _wish_number(word: str) -> int | None:
    return CW.parse_number(word, "W")


async def _which(ctx: Context, args: str, candidates, use: str) -> tuple[int | None, str]:  # noqa: ANN001
    """The wish a command is about: the number given, else the only candidate, else ask."""
    number, rest = _split_ref(args)
    if number is not None:
        return number, rest
    options = await candidates()
    if len(options) == 1:
        return options[0].id, rest
    if options:
        ctx.reply(T.WHICH_WISH.format(usage=use, wishes="、".join(f"{w.number} {w.summary}" for w in options[:5])))
    else:
        usage(ctx, use)
    return None, rest


def _wish_compound(ctx: Context) -> int | None:
    compound_id, _ = pick_compound(ctx, [])
    return compound_id


# ------------------------------------------------------------------ posting
@router.command("微心愿", "发心愿", usage=T.HELP_WISH, summary="发一个需要邻里帮忙的小心愿")
async def post_wish(ctx: Context, args: str) -> None:
    if not args:
        usage(ctx, T.WISH_USAGE)
        return
    compound_id = _wish_compound(ctx)
    if compound_id is None:
        ctx.reply(T.NEED_COMPOUND)
        return
    parsed = parse_wish(args, ctx.clock.local())
    wish = await W.post_wish(ctx.deps, ctx.actor, compound_id, parsed.draft,
                             group_id=ctx.group_id)
    ctx.keep_message()
    if ctx.in_group:
        text = T.POSTED_GROUP.format(number=wish.number, summary=WQ.public_line(wish, ctx.clock))
        if parsed.had_private:
            text += "\n" + T.POSTED_PRIVACY_TIP.format(number=wish.number)
        ctx.reply(text)
    else:
        text = T.POSTED_PRIVATE.format(number=wish.number, summary=WQ.public_line(wish, ctx.clock))
        if not parsed.had_private:
            text += "\n" + T.POSTED_ADD_CONTACT.format(number=wish.number)
        ctx.reply(text)


@router.command("代发心愿", roles=W.ON_BEHALF_ROLES, usage=T.HELP_ON_BEHALF,
                summary="替不用微信的居民发心愿（社工、楼长）")
async def post_on_behalf(ctx: Context, args: str) -> None:
    parts = CW.normalize(args).split(maxsplit=1)
    if len(parts) < 2 or len(parts[0]) > 16 or any(ch.isdigit() for ch in parts[0]):
        usage(ctx, T.ON_BEHALF_USAGE)
        return
    compound_id = _wish_compound(ctx)
    if compound_id is None:
        ctx.reply(T.NEED_COMPOUND)
        return
    name = parts[0]
    parsed = parse_wish(args.strip()[len(name):] if args.strip().startswith(name) else parts[1], ctx.clock.local())
    matches = list((await ctx.session.execute(select(Person.id).where(
        Person.name == name, Person.compound_id == compound_id, Person.on_roster.is_(True)))).scalars())
    parsed.draft.wisher_name = name
    parsed.draft.wisher_person_id = matches[0] if len(matches) == 1 else None
    wish = await W.post_wish(ctx.deps, ctx.actor, compound_id, parsed.draft, on_behalf=True,
                             group_id=ctx.group_id)
    ctx.keep_message()
    ctx.reply(T.ON_BEHALF_OK.format(wisher=name, number=wish.number, summary=WQ.public_line(wish, ctx.clock)))


@router.command("心愿补充", "补充心愿", usage=T.HELP_DETAILS, summary="补充心愿的地址、电话（只给帮忙的人看）")
async def add_details(ctx: Context, args: str) -> None:
    async def mine():  # noqa: ANN202
        posted, _ = await WQ.my_wishes(ctx.session, ctx.person_id)
        return [w for w in posted if w.state in ("open", "claimed", "done")]
    number, rest = await _which(ctx, args, mine, T.DETAILS_USAGE)
    if number is None:
        return
    if not rest.strip():
        ctx.reply(T.DETAILS_EMPTY)
        return
    body, found, phone, address, _ = extract_private(rest)
    details = "\n".join(x for x in (body, found.get("details")) if x) or None
    wish = await W.add_details(ctx.deps, ctx.actor, number, details=details, address=address, phone=phone)
    ctx.keep_message()
    ctx.reply(T.DETAILS_OK.format(number=wish.number))


@router.command("取消心愿", "撤回心愿", usage=T.CANCEL_USAGE, summary="撤回自己发的心愿")
async def cancel(ctx: Context, args: str) -> None:
    number, rest = _split_ref(args)
    if number is None:
        usage(ctx, T.CANCEL_USAGE)
        return
    wish = await W.cancel(ctx.deps, ctx.actor, number, rest)
    ctx.reply(T.CANCEL_OK.format(number=wish.number))


# ------------------------------------------------------------------ reading
@router.command("心愿", "心愿列表", usage=T.HELP_LIST, summary="看看邻居们待认领的微心愿")
async def list_wishes(ctx: Context, args: str) -> None:
    number, rest = _split_ref(args)
    if number is not None:
        await _show_wish(ctx, number)
        return
    home, rest = find_home(rest)
    words = tokens(rest)
    if not home and words and words[0].isdigit():
        home, words = Home(words[0]), words[1:]
    compound_id, words = pick_compound(ctx, words)
    if words:
        usage(ctx, T.LIST_USAGE)
        return
    if compound_id is None:
        ctx.reply(T.NEED_COMPOUND)
        return
    building = home.building if home else None
    where = ctx.org.name_of(compound_id) + (building_label(building) if building else "")
    total = await WQ.count_open(ctx.session, compound_id, building)
    if not total:
        ctx.reply(T.LIST_EMPTY.format(where=where))
        return
    shown = await WQ.open_wishes(ctx.session, [compound_id], building=building, limit=10)
    lines = [T.LIST_HEADER.format(where=where, count=total)]
    lines += [f"· {WQ.public_line(w, ctx.clock)}" for w in shown]
    if total > len(shown):
        lines.append(T.LIST_MORE.format(n=total - len(shown)))
    lines.append(T.LIST_TAIL.format(number=shown[0].number))
    ctx.reply("\n".join(lines))


async def _show_wish(ctx: Context, number: int) -> None:
    wish = await WQ.get_wish(ctx.session, number)
    helpers = await WQ.claims_of(ctx.session, wish.id, ("active", "done"))
    names = await person_names(ctx.session, [c.person_id for c in helpers])
    public = T.DETAIL.format(
        line=WQ.public_line(wish, ctx.clock), state=T.STATE_LABELS[wish.state],
        helpers=T.DETAIL_HELPERS.format(names="、".join(names.values())) if names else "",
        date=timefmt.moment(ctx.clock.local(wish.created_at)))
    if not await WQ.can_see_private(ctx.session, ctx.actor, wish):
        ctx.reply(public)
        return
    lines = [public, WQ.private_block(wish), T.DETAIL_TIMELINE]
    for at, action, who, note in await WQ.timeline(ctx.session, wish.id):
        lines.append(T.DETAIL_TIMELINE_LINE.format(
            at=timefmt.moment(ctx.clock.local(at)), who=who or "", what=T.TIMELINE_ACTIONS.get(action, action),
            note=f"：{note}" if note and action in ("progress", "done", "not_done", "gave_up", "cancelled") else ""))
    private = "\n".join(lines)
    if ctx.in_group:
        ctx.reply(public + "\n" + T.DETAIL_PRIVATE_SENT)
        ctx.tell(ctx.person_id, private)
    else:
        ctx.reply(private)


@router.command("我的心愿", usage="我的心愿", summary="我发的和我在帮的心愿")
async def my_wishes(ctx: Context) -> None:
    posted, helping = await WQ.my_wishes(ctx.session, ctx.person_id)
    if not posted and not helping:
        ctx.reply(T.MY_WISHES_NONE)
        return
    lines = []
    if posted:
        lines.append(T.MY_WISHES_POSTED)
        lines += [T.MY_WISHES_LINE.format(line=WQ.public_line(w, ctx.clock), state=T.STATE_LABELS[w.state]) for w in posted]
    if helping:
        lines.append(T.MY_WISHES_HELPING)
        lines += [T.MY_WISHES_LINE.format(line=WQ.public_line(w, ctx.clock), state=T.STATE_LABELS[w.state]) for w in helping]
    ctx.reply("\n".join(lines))


# ------------------------------------------------------------------ claiming and fulfilling
@router.command("认领", "认领心愿", usage=T.CLAIM_USAGE, summary="认领一个微心愿（党员、志愿者）")
async def claim(ctx: Context, args: str) -> None:
    number, _ = _split_ref(args)
    if number is None:
        usage(ctx, T.CLAIM_USAGE)
        return
    result = await W.claim(ctx.deps, ctx.actor, number)
    ctx.keep_message()
    wish = result.wish
    brief = T.CLAIMER_BRIEF.format(number=wish.number, summary=wish.summary, private=WQ.private_block(wish))
    if ctx.in_group:
        text = T.CLAIM_OK_GROUP.format(name=ctx.person.name, number=wish.number, summary=wish.summary)
        if result.places_left > 0:
            text += T.CLAIM_TEAM_LEFT.format(n=result.places_left)
        ctx.reply(text)
        ctx.tell(ctx.person_id, brief)
    else:
        ctx.reply(brief)


async def _my_claims(ctx: Context):  # noqa: ANN202
    return await W.my_active_claims(ctx.session, ctx.person_id)


@router.command("心愿进度", "进度心愿", usage=T.HELP_PROGRESS, summary="记录心愿的进展（认领人）")
async def progress(ctx: Context, args: str) -> None:
    number, rest = await _which(ctx, args, lambda: _my_claims(ctx), T.PROGRESS_USAGE)
    if number is None:
        return
    if not rest.strip():
        ctx.reply(T.PROGRESS_EMPTY)
        return
    await W.add_progress(ctx.deps, ctx.actor, number, rest)
    ctx.keep_message()
    ctx.reply(T.PROGRESS_OK)


@router.command("完成", "心愿完成", "完成心愿", usage=T.DONE_USAGE, summary="心愿办好了（认领人）")
async def done(ctx: Context, args: str) -> None:
    number, rest = await _which(ctx, args, lambda: _my_claims(ctx), T.DONE_USAGE)
    if number is None:
        return
    wish = await W.mark_done(ctx.deps, ctx.actor, number, rest)
    ctx.keep_message()
    ctx.reply(T.DONE_OK.format(number=wish.number))


@router.command("放弃", "放弃心愿", usage=T.GIVE_UP_USAGE, summary="来不了，把心愿放回去（认领人）")
async def give_up(ctx: Context, args: str) -> None:
    number, rest = await _which(ctx, args, lambda: _my_claims(ctx), T.GIVE_UP_USAGE)
    if number is None:
        return
    wish = await W.give_up(ctx.deps, ctx.actor, number, rest)
    ctx.keep_message()
    ctx.reply(T.GIVE_UP_OK.format(number=wish.number))


@router.command("确认心愿", usage=T.HELP_CONFIRM, summary="确认心愿办好了（发心愿的人）")
async def confirm(ctx: Context, args: str) -> None:
    number, rest = await _which(ctx, args, lambda: W.awaiting_confirmation(ctx.session, ctx.actor), T.CONFIRM_USAGE)
    if number is None:
        return
    await _confirm(ctx, number, rest)


# Plain "确认" is shared: notices confirm a previewed notice with "确认" / "确认 3" (a text hook
# at order 5). Wishes take "确认 W12 …" always, and a bare "确认 [公开]" only from someone who has
# a fulfilled wish waiting for their word.
_CONFIRM = re.compile(r"^[#/＃]?\s*确认\s*(?:(?P<number>[WwＷｗ]\s*[0-9０-９]{1,9})(?![0-9０-９]))?\s*(?P<rest>.*)$", re.S)


@router.text(order=9)
async def wish_complaint(ctx: Context) -> bool:
    """The wisher asking after their open wish ("轮椅的事怎么还没人来") is about that wish:
    linked to it and passed to the branch and the helper, never a new ticket."""
    if ctx.person_id is None or len(ctx.text) < 4:
        return False
    wish = await wish_followup.wish_complained_about(ctx.deps, ctx.person_id, ctx.compound_id, ctx.text)
    if wish is None:
        return False
    await wish_followup.link_complaint(ctx.deps, wish, ctx.person_id, ctx.text)
    ctx.keep_message()
    ctx.reply(T.COMPLAINT_LINKED.format(number=wish.number, summary=wish.summary), mention=ctx.in_group)
    return True


@router.text(order=8)
async def confirm_words(ctx: Context) -> bool:
    m = _CONFIRM.match(ctx.text)
    if not m or (m.group("rest") and not m.group("number") and m.group("rest").strip("。.!！ ") not in ("公开", "不公开")):
        return False
    if m.group("number"):
        number = _wish_number(m.group("number"))
    else:
        waiting = await W.awaiting_confirmation(ctx.session, ctx.actor)
        if not waiting:
            return False
        if len(waiting) > 1:
            ctx.reply(T.WHICH_WISH.format(usage=T.CONFIRM_USAGE,
                                          wishes="、".join(f"{w.number} {w.summary}" for w in waiting[:5])))
            return True
        number = waiting[0].id
    await _confirm(ctx, number, m.group("rest") or "")
    return True


async def _confirm(ctx: Context, number: int, rest: str) -> None:
    public = "公开" in rest and "不公开" not in rest
    wish, helpers = await W.confirm(ctx.deps, ctx.actor, number, public_thanks=public)
    ctx.keep_message()
    if ctx.person_id in (wish.wisher_person_id, wish.posted_by):
        ctx.reply(T.CONFIRM_OK_PUBLIC if wish.public_thanks else T.CONFIRM_OK)
    else:
        ctx.reply(T.CONFIRM_OK_STAFF.format(number=wish.number, n=len(helpers)))


@router.command("没办好", "未办好", "未完成", usage=T.NOT_DONE_USAGE, summary="心愿还没办好（发心愿的人）")
async def not_done(ctx: Context, args: str) -> None:
    number, rest = await _which(ctx, args, lambda: W.awaiting_confirmation(ctx.session, ctx.actor), T.NOT_DONE_USAGE)
    if number is None:
        return
    await W.not_done(ctx.deps, ctx.actor, number, rest)
    ctx.keep_message()
    ctx.reply(T.NOT_DONE_OK)


# ------------------------------------------------------------------ service record
@router.command("我的服务", "服务记录", usage="我的服务", summary="我的服务记录和积分")
async def my_service(ctx: Context) -> None:
    record = await MP.service_record(ctx.session, ctx.person_id, ctx.clock.now(), tz=ctx.clock.tz)
    compound_id = _wish_compound(ctx)
    if record.first_at:
        dates = T.RECORD_DATES.format(first=ctx.clock.local(record.first_at).strftime("%Y-%m-%d"),
                                      last=ctx.clock.local(record.last_at).strftime("%Y-%m-%d"))
    else:
        dates = T.RECORD_NO_DATES
    rules = T.RECORD_RULES.format(
        wish=MP.point_value(ctx.org, compound_id, "wish") if compound_id else MP.WISH_POINTS,
        duty=MP.point_value(ctx.org, compound_id, "duty") if compound_id else MP.DUTY_POINTS)
    ctx.reply(T.RECORD.format(name=ctx.person.name, total=record.points_total, month=record.points_period,
                              wishes=record.wishes_fulfilled, active=record.wishes_active,
                              posts="、".join(record.posts) or T.RECORD_NO_POSTS, duties=record.duty_reports,
                              dates=dates, rules=rules))
