"""Micro-wish and volunteer-post commands; ``我的服务``.

Handlers translate chat into ``bot.services.wishes`` / ``bot.services.posts`` calls. The
free-text wish ("微心愿 家里轮椅坏了想找人修，住3号楼2单元501，电话138…") is split here into
a public summary and private details (address, phone, circumstances).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from bot import timefmt
from bot.context import Context
from bot.models import Person
from bot.privacy import mask_pii
from bot.roles import STAFF_ROLES
from bot.router import Router
from bot.services import ServiceError
from bot.services import members as M
from bot.services import posts as P
from bot.services import wish_followup
from bot.services import wish_queries as WQ
from bot.services import wishes as W
from bot.services.timeparse import TimeParseError, cn_number, parse_when
from bot.texts import core as TC
from bot.texts import wishes as T
from handlers.members import pick_compound, replies_errors, tokens, usage

router = Router("wishes")

# ------------------------------------------------------------------ parsing a wish
_LABELS = {
    "details": ("详情", "情况", "说明", "具体情况"),
    "address": ("地址", "住址", "家庭住址"),
    "phone": ("电话", "手机", "联系电话", "联系方式"),
    "category": ("类别", "分类", "类型"),
    "deadline": ("截止时间", "截止日期", "截止", "期限"),
    "team": ("需要人数", "人数"),
}
_LABEL_RE = re.compile(
    r"(?:^|(?<=[\s,，;；。]))(" + "|".join(sorted((w for ws in _LABELS.values() for w in ws), key=len, reverse=True))
    + r")\s*[:：]\s*")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}-?\d{7,8})(?!\d)")
_WISH_WORDS = re.compile(r"想|希望|需要|求|帮|请|能否|麻烦|盼")
# Words that describe a person's situation: never in the public summary.
_CIRCUMSTANCES = re.compile(r"我|独居|老人|腿|病|残|困难|低保|孤寡|瘫|失明|行动不便|身体|住院|去世|离异|单亲")
_CATEGORIES = (
    ("数码", ("手机", "微信", "电视", "网络", "宽带", "电脑", "医保卡", "扫码", "健康码")),
    ("就医", ("医院", "看病", "复诊", "体检", "买药", "取药", "住院")),
    ("助残", ("轮椅", "残疾", "拐杖", "助听器", "盲人")),
    ("维修", ("修", "坏了", "漏水", "灯泡", "水管", "马桶", "门锁")),
    ("助学", ("辅导", "作业", "学习", "孩子上学")),
    ("助老", ("老人", "奶奶", "爷爷", "独居", "老伴", "高龄")),
    ("生活", ("买菜", "送", "搬", "打扫", "理发", "做饭")),
)


@dataclass
class ParsedWish:
    draft: W.WishDraft
    had_private: bool  # the text carried an address or phone (worth a privacy tip in a group)


def _ascii(text: str) -> str:
    return M.ascii_digits(text)


def _fields(text: str) -> tuple[str, dict[str, str]]:
    """The unlabelled body and the labelled fields ("地址：…", "电话：…")."""
    marks = list(_LABEL_RE.finditer(text))
    if not marks:
        return text.strip(), {}
    body = text[:marks[0].start()].strip()
    found: dict[str, str] = {}
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        key = next(k for k, words in _LABELS.items() if mark.group(1) in words)
        value = text[mark.end():end].strip(" \t\n,，;；。")
        found[key] = f"{found[key]} {value}".strip() if key in found else value
    return body, found


def _summary(body: str) -> tuple[str, str | None]:
    """(public summary, private details) from the free text."""
    body = body.strip(" \t\n,，;；。")
    head = re.match(r"^([^:：|｜\n]{1,20}?)(?<!\d)[:：|｜]\s*(.+)$", body, flags=re.S)
    if head:
        return head.group(1).strip(), head.group(2).strip() or None
    clauses = [c.strip() for c in re.split(r"[，,。；;！!？?\n]", body) if c.strip()]
    if len(clauses) <= 1 and len(body) <= W.SUMMARY_MAX:
        return body, None
    # Several clauses: the wish clause is public, the rest (often circumstances) stays private.
    pick = next((i for i, c in enumerate(clauses) if _WISH_WORDS.search(c)), 0)
    summary = clauses[pick] if clauses else body
    if pick > 0 and len(summary) < 12:
        before = clauses[pick - 1]
        if not _CIRCUMSTANCES.search(before) and len(before) + len(summary) < 26:
            summary = before + "，" + summary
    if len(summary) > W.SUMMARY_MAX:
        summary = summary[:W.SUMMARY_MAX - 1] + "…"
    return summary, (body if body != summary else None)


def _category(text: str) -> str | None:
    for name, words in _CATEGORIES:
        if any(w in text for w in words):
            return name
    return None


def _deadline(value: str, now_local: datetime) -> datetime | None:
    value = value.strip()
    words = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
    if value in words:
        day = now_local.date() + timedelta(days=words[value])
        return datetime.combine(day, time(21, 0), tzinfo=now_local.tzinfo)
    try:
        found, _ = parse_when(value, now_local, date_only_time=time(21, 0))
    except TimeParseError:
        found = None
    if found is None:
        raise ServiceError(T.BAD_DEADLINE)
    return found


def extract_private(text: str) -> tuple[str, dict[str, str], str | None, str | None, str | None]:
    """(remaining body, labelled fields, phone, address, building) of a chat text."""
    text = _ascii(text)
    body, found = _fields(text)
    phone = re.sub(r"(?<=\d)[\s-](?=\d)", "", found["phone"]) if found.get("phone") else None
    m = _PHONE.search(body)
    if m:
        phone = phone or re.sub(r"[\s-]", "", m.group(1))
        body = (body[:m.start()] + body[m.end():]).strip()
    home, body = M.parse_home(body) if "address" not in found else (None, body)
    address = found.get("address") or (home.text if home else None)
    building = home.building if home else None
    if found.get("address") and building is None:
        addr_home, _ = M.parse_home(found["address"])
        building = addr_home.building if addr_home else None
    body = re.sub(r"(?:我?住在?|家住|住址在?|电话是?|联系我|联系电话)\s*(?=[,，。;；\s]|$)", "", body)
    body = re.sub(r"([,，。;；])\s*(?:[,，。;；]\s*)+", r"\1", body).strip(" ,，;；。")
    return body, found, phone, address, building


def parse_wish(text: str, now_local: datetime) -> ParsedWish:
    """Split a chat wish into public summary and private address, phone and circumstances."""
    body, found, phone, address, building = extract_private(text)
    summary, details = _summary(body)
    if found.get("details"):
        details = f"{details}\n{found['details']}" if details else found["details"]
    team = 1
    if found.get("team"):
        number = cn_number(re.sub(r"[人个位名\s]", "", found["team"]))
        if number is None:
            raise ServiceError(T.BAD_TEAM.format(limit=W.MAX_TEAM))
        team = number
    deadline = _deadline(found["deadline"], now_local) if found.get("deadline") else None
    category = (found.get("category") or "")[:8] or _category(_ascii(text))
    draft = W.WishDraft(summary=mask_pii(summary), details=details, address=address, phone=phone, building=building,
                        category=category, deadline=deadline, max_claimers=team)
    return ParsedWish(draft, bool(phone or address))


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
    return M.parse_number(word, "W")


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
@replies_errors
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
@replies_errors
async def post_on_behalf(ctx: Context, args: str) -> None:
    parts = M.normalize(args).split(maxsplit=1)
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
@replies_errors
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
@replies_errors
async def cancel(ctx: Context, args: str) -> None:
    number, rest = _split_ref(args)
    if number is None:
        usage(ctx, T.CANCEL_USAGE)
        return
    wish = await W.cancel(ctx.deps, ctx.actor, number, rest)
    ctx.reply(T.CANCEL_OK.format(number=wish.number))


# ------------------------------------------------------------------ reading
@router.command("心愿", "心愿列表", usage=T.HELP_LIST, summary="看看邻居们待认领的微心愿")
@replies_errors
async def list_wishes(ctx: Context, args: str) -> None:
    number, rest = _split_ref(args)
    if number is not None:
        await _show_wish(ctx, number)
        return
    home, rest = M.parse_home(rest)
    words = tokens(rest)
    if not home and words and words[0].isdigit():
        home, words = M.Home(words[0]), words[1:]
    compound_id, words = pick_compound(ctx, words)
    if words:
        usage(ctx, T.LIST_USAGE)
        return
    if compound_id is None:
        ctx.reply(T.NEED_COMPOUND)
        return
    building = home.building if home else None
    where = ctx.org.name_of(compound_id) + (f"{building}号楼" if building else "")
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
    names = await WQ.names_of(ctx.session, [c.person_id for c in helpers])
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
@replies_errors
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
@replies_errors
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
@replies_errors
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
@replies_errors
async def done(ctx: Context, args: str) -> None:
    number, rest = await _which(ctx, args, lambda: _my_claims(ctx), T.DONE_USAGE)
    if number is None:
        return
    wish = await W.mark_done(ctx.deps, ctx.actor, number, rest)
    ctx.keep_message()
    ctx.reply(T.DONE_OK.format(number=wish.number))


@router.command("放弃", "放弃心愿", usage=T.GIVE_UP_USAGE, summary="来不了，把心愿放回去（认领人）")
@replies_errors
async def give_up(ctx: Context, args: str) -> None:
    number, rest = await _which(ctx, args, lambda: _my_claims(ctx), T.GIVE_UP_USAGE)
    if number is None:
        return
    wish = await W.give_up(ctx.deps, ctx.actor, number, rest)
    ctx.keep_message()
    ctx.reply(T.GIVE_UP_OK.format(number=wish.number))


@router.command("确认心愿", usage=T.HELP_CONFIRM, summary="确认心愿办好了（发心愿的人）")
@replies_errors
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
    try:
        await _confirm(ctx, number, m.group("rest") or "")
    except ServiceError as exc:
        ctx.reply(str(exc))
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
@replies_errors
async def not_done(ctx: Context, args: str) -> None:
    number, rest = await _which(ctx, args, lambda: W.awaiting_confirmation(ctx.session, ctx.actor), T.NOT_DONE_USAGE)
    if number is None:
        return
    await W.not_done(ctx.deps, ctx.actor, number, rest)
    ctx.keep_message()
    ctx.reply(T.NOT_DONE_OK)


# ------------------------------------------------------------------ volunteer posts
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
@replies_errors
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
        capacity = cn_number(re.sub(r"[人个位名\s]", "", found["人数"]))
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
@replies_errors
async def close_post(ctx: Context, args: str) -> None:
    if not args:
        usage(ctx, T.CLOSE_POST_USAGE)
        return
    post = await P.find_post(ctx.session, _wish_compound(ctx), args)
    await P.close_post(ctx.deps, ctx.actor, post.id)
    ctx.reply(T.POST_CLOSED_OK.format(name=post.name))


@router.command("岗位", "岗位列表", usage="岗位", summary="看看本小区的志愿岗位")
@replies_errors
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
@replies_errors
async def sign_up(ctx: Context, args: str) -> None:
    if not args:
        usage(ctx, T.SIGNUP_USAGE)
        return
    post = await P.find_post(ctx.session, _wish_compound(ctx), args)
    await P.sign_up(ctx.deps, ctx.actor, post.id)
    ctx.keep_message()
    ctx.reply(T.SIGNUP_OK.format(name=post.name, number=P.post_number(post.id), duties=post.duties or T.DUTIES_NONE,
                                 schedule=P.describe_schedule(post.schedule)))


@router.command("退岗", "退出岗位", usage=T.LEAVE_USAGE, summary="退出志愿岗位")
@replies_errors
async def leave(ctx: Context, args: str) -> None:
    if not args:
        held = await P.held_posts(ctx.session, ctx.person_id)
        if len(held) != 1:
            usage(ctx, T.LEAVE_USAGE)
            return
        post = held[0]
    else:
        post = await P.find_post(ctx.session, _wish_compound(ctx), args)
    await P.leave(ctx.deps, ctx.actor, post.id)
    ctx.reply(T.LEAVE_OK.format(name=post.name))


@router.command("到岗", "打卡", usage=T.DUTY_USAGE, summary="记录一次岗位值守")
@replies_errors
async def report_duty(ctx: Context, args: str) -> None:
    parts = M.normalize(args).split(maxsplit=1)
    post_id = M.parse_number(parts[0], "P") if parts else None
    note = (parts[1] if len(parts) > 1 else "") if post_id is not None else M.normalize(args)
    if post_id is None and parts and not parts[0].isdigit():
        # "到岗 楼道安全巡查员 …": a post named instead of numbered
        held = await P.held_posts(ctx.session, ctx.person_id)
        named = next((p for p in held if p.name == parts[0]), None)
        if named is not None:
            post_id, note = named.id, parts[1] if len(parts) > 1 else ""
    result = await P.report_duty(ctx.deps, ctx.actor, post_id, note)
    ctx.keep_message()
    ctx.reply(T.DUTY_OK.format(name=result.post.name, points=result.points, n=result.month_reports))


# ------------------------------------------------------------------ service record
@router.command("我的服务", "服务记录", usage="我的服务", summary="我的服务记录和积分")
@replies_errors
async def my_service(ctx: Context) -> None:
    record = await M.service_record(ctx.session, ctx.person_id, ctx.clock.now(), tz=ctx.clock.tz)
    compound_id = _wish_compound(ctx)
    if record.first_at:
        dates = T.RECORD_DATES.format(first=ctx.clock.local(record.first_at).strftime("%Y-%m-%d"),
                                      last=ctx.clock.local(record.last_at).strftime("%Y-%m-%d"))
    else:
        dates = T.RECORD_NO_DATES
    rules = T.RECORD_RULES.format(
        wish=M.point_value(ctx.org, compound_id, "wish") if compound_id else M.WISH_POINTS,
        duty=M.point_value(ctx.org, compound_id, "duty") if compound_id else M.DUTY_POINTS)
    ctx.reply(T.RECORD.format(name=ctx.person.name, total=record.points_total, month=record.points_period,
                              wishes=record.wishes_fulfilled, active=record.wishes_active,
                              posts="、".join(record.posts) or T.RECORD_NO_POSTS, duties=record.duty_reports,
                              dates=dates, rules=rules))
