"""有事找支部 in chat: plain messages that are problems become tickets; residents report
(报事), correct (不是问题), rate (满意/基本满意/不满意) and ask (我的工单, 进度); the branch
assigns (派单, 转办), notes (备注), puts on the agenda (议事, 议事日), merges, splits, recategorises,
resolves (办结), links 12345 orders (热线) and lists (工单); community staff supervise (督办).

Only translation between chat and ``bot.services.tickets`` / ``agenda`` / ``hotline``.
"""
from __future__ import annotations

from datetime import time, timedelta
from typing import Any, Callable

from bot import timefmt
from bot.context import Context
from bot.models import Priority, RoleName
from bot.models.tickets import OPEN_STATES, Ticket
from bot.roles import HANDLING_ROLES
from bot.router import Router
from bot.services import ServiceError
from bot.services import acks
from bot.services import agenda as A
from bot.services import hotline as H
from bot.services import civility
from bot.services import ticket_talk as talk
from bot.services.names import person_names
from bot.services.tickets import (
    corrections, intake, lookup, media, naming, people, policy, queries, resolution, rights, supervision, sweeps,
    workflow,
)
from bot.services.timeparse import TimeParseError, parse_when
from bot.transports.base import MediaRef, MediaUnavailable, MessageKind
from bot.texts import core as TC
from bot.texts import tickets as T

router = Router("tickets")

MIN_ISSUE_CHARS = 4       # shorter plain messages are never analysed ("好的", "收到")
NOT_ISSUE_WINDOW = timedelta(hours=48)


# --------------------------------------------------------------------------- helpers
def split_args(args: str) -> tuple[str, str]:
    parts = args.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


async def candidate_compounds(ctx: Context) -> list[int]:
    if ctx.in_group and ctx.group_compound_id:
        return [ctx.group_compound_id]
    return await lookup.actor_compounds(ctx.deps, ctx.actor, ctx.person.compound_id)


async def ticket_from(ctx: Context, ref: str, usage: str) -> Ticket:
    if not ref:
        raise ServiceError(TC.USAGE.format(usage=usage))
    return await lookup.find_ticket(ctx.deps, ref, await candidate_compounds(ctx), usage=usage)


def _too_long(ctx: Context, text: str, limit: int) -> bool:
    if len(text) > limit:
        ctx.reply(T.TEXT_TOO_LONG.format(limit=limit))
        return True
    return False


def _ack(ctx: Context, result: intake.IntakeResult) -> None:
    ticket = result.ticket
    deps = ctx.deps
    # A late message (handled after the bot was offline) is acknowledged privately, marked late.
    group_mode = policy.acks_in_group(deps, ticket.compound_id, in_group=ctx.in_group, late=ctx.late)
    fields = dict(short=naming.short_code(ticket), code=naming.ticket_code(ctx.org, ticket), what=naming.what(ticket),
                  num=naming.num(ticket), count=ticket.reporters_count, text=naming.quote(ticket.text, 120),
                  compound=ctx.org.name_of(ticket.compound_id),
                  state=T.STATE_LABELS.get(ticket.state, ticket.state))
    if result.alerted and ctx.in_group:
        ctx.reply(T.URGENT_GROUP.format(who="、".join(result.alerted), **fields), priority=Priority.URGENT)
        if group_mode:
            return
    if result.outcome == "created":
        # With no place in the text and none on the roster, ask where (the answer fills it in).
        ask = T.ASK_LOCATION if talk.needs_location(ticket) else ""
        if group_mode:
            _refer(ctx.reply(T.ACK_GROUP.format(**fields) + ask, mention=True), ticket)
        else:
            _refer(ctx.tell(ctx.person_id, T.ACK_PRIVATE.format(**fields) + ask), ticket)
    elif result.outcome == "merged":
        if group_mode:
            ctx.reply(T.ACK_MERGED.format(**fields), mention=True)
        else:
            ctx.tell(ctx.person_id, T.ACK_MERGED_PRIVATE.format(**fields))
    elif group_mode:
        ctx.reply(T.ACK_REPEAT.format(**fields), mention=True)
    else:
        ctx.tell(ctx.person_id, T.ACK_REPEAT.format(**fields))


def _refer(rows: list, ticket: Ticket) -> None:
    """Mark the bot's ticket message as about this ticket: a later quote of it finds the ticket."""
    for row in rows:
        row.ref_kind, row.ref_id = policy.SUBJECT, ticket.id


async def _intake(ctx: Context, nlp: Any, text: str, compound_id: int, *, explicit: bool,
                  analysis: Any = None) -> intake.IntakeResult:
    analysis = analysis if analysis is not None else nlp.analyze(text)
    result = await intake.report(
        ctx.deps, ctx.actor, text, compound_id=compound_id, analysis=analysis, analyzer=nlp,
        group_id=ctx.group_id, message_id=ctx.message_id, explicit=explicit)
    ctx.keep_message()
    _ack(ctx, result)
    return result


# --------------------------------------------------------------------------- plain text
@router.text(order=1)
async def civility_watch(ctx: Context) -> bool:
    """Abuse or an escalating quarrel in a group: the group's party members are asked privately
    to step in (opt-in per compound). Never consumes the message: it may also be a report."""
    if not ctx.in_group or ctx.group_compound_id is None or not civility.enabled(ctx.deps, ctx.group_compound_id):
        return False
    from nlp.civility import assess

    await civility.consider(ctx.deps, group_id=ctx.group_id, compound_id=ctx.group_compound_id,
                            person_id=ctx.person_id, text=ctx.text, assess=assess)
    return False


@router.text(order=85)
async def talk_about_ticket(ctx: Context, nlp: Any) -> bool:
    """A quote (引用) of the bot's ticket message, or the answer to "哪栋楼？"."""
    incoming = ctx.incoming
    if incoming.quoted_text or incoming.quoted_message_id:
        compounds = await candidate_compounds(ctx)
        ticket = await talk.quoted_ticket(ctx.deps, quoted_message_id=incoming.quoted_message_id,
                                          quoted_text=incoming.quoted_text, compound_ids=compounds)
        if ticket is not None:
            await _on_quote(ctx, ticket)
            return True
    if ctx.person_id is None:
        return False
    asking = await talk.ticket_asking_location(ctx.deps, ctx.person_id, ctx.group_id)
    if asking is not None and len(ctx.text) <= 30:
        location = getattr(nlp.analyze(ctx.text), "location", None)
        if location is not None and location.label():
            label = talk.set_location(ctx.deps, ctx.actor, asking, location)
            ctx.reply(T.LOCATED_OK.format(location=label, short=naming.short_code(asking)), mention=ctx.in_group)
            return True
    return False


async def _on_quote(ctx: Context, ticket: Ticket) -> None:
    ctx.keep_message()
    if not ctx.in_group and rights.is_assignee(ctx.actor, ticket):
        await _assignee_note(ctx, ticket, ctx.text)
        return
    result = await talk.follow_up(ctx.deps, ctx.actor, ticket, ctx.text, group_id=ctx.group_id,
                                  message_id=ctx.message_id)
    text = T.QUOTE_REOPENED if result.reopened else T.QUOTE_NOTED
    ctx.reply(text.format(short=naming.short_code(ticket)), mention=ctx.in_group)


async def _assignee_note(ctx: Context, ticket: Ticket, text: str) -> None:
    if _too_long(ctx, text, policy.MAX_NOTE):
        return
    await workflow.add_note(ctx.deps, ctx.actor, ticket, text)
    ctx.reply(T.ASSIGNEE_NOTED.format(code=naming.ticket_code(ctx.org, ticket)))


def _agrees(text: str) -> bool:
    """收到, 收到👍 — or, in answer to an assignment, 好的 / 行 / 没问题 alone, which agree as much
    (the recogniser wants a real 收到 because in a group those words answer anything)."""
    text = text.strip()
    return bool(text) and (acks.is_ack(text) or acks.is_ack("收到 " + text))


async def _assignee_ack(ctx: Context, assigned: list[Ticket]) -> None:
    ctx.keep_message()
    taken = [t for t in assigned if await workflow.acknowledge_assignment(ctx.deps, ctx.actor, t)]
    if taken:
        ctx.reply(T.ASSIGNEE_ACKED.format(codes="、".join(naming.num(t) for t in taken)))
    else:
        ctx.reply(T.ASSIGNEE_ACKED_AGAIN)


@router.text(order=95)
async def assignee_reply(ctx: Context, nlp: Any) -> bool:
    """A private plain message from someone with open assignments is progress on one of them
    (unless it reports a problem somewhere else: that is a new report)."""
    if ctx.in_group or ctx.person_id is None:
        return False
    pending = await talk.pending_note(ctx.deps, ctx.person_id)
    if pending is not None:
        ref = naming.parse_ref(ctx.text.strip())
        if ref is not None:
            choices = [t for t in await talk.open_assignments(ctx.deps, ctx.person_id)
                       if t.id in (pending.data or {}).get("ticket_ids", [])]
            chosen = next((t for t in choices if t.number == ref[1]), None)
            if chosen is None:
                ctx.reply(T.ASSIGNEE_WHICH_BAD.format(nums="、".join(naming.num(t) for t in choices)))
                return True
            talk.pending_done(pending, chosen.id)
            await _assignee_note(ctx, chosen, pending.note or "")
            return True
    assigned = await talk.open_assignments(ctx.deps, ctx.person_id)
    if assigned and _agrees(ctx.text):
        await _assignee_ack(ctx, assigned)
        return True
    if not assigned or len(ctx.text) < 2:
        return False
    analysis = nlp.analyze(ctx.text[:policy.MAX_TEXT])
    place = analysis.location.label() if analysis.is_issue and getattr(analysis, "location", None) else ""
    if place and not any(t.location and (place in t.location or t.location in place) for t in assigned):
        return False
    ctx.keep_message()
    if len(assigned) == 1:
        await _assignee_note(ctx, assigned[0], ctx.text)
        return True
    talk.ask_which(ctx.deps, ctx.actor, assigned, ctx.text)
    lines = "\n".join(T.ASSIGNEE_WHICH_LINE.format(num=naming.num(t), what=naming.what(t)) for t in assigned)
    ctx.reply(T.ASSIGNEE_WHICH.format(count=len(assigned), lines=lines))
    return True


@router.non_text()
async def on_non_text(ctx: Context, media_fetcher: Callable[[str], Any]) -> bool:
    """Photos and videos join the sender's report; a recall withdraws what it can."""
    incoming, settings = ctx.incoming, ctx.settings
    if ctx.person_id is None or (ctx.in_group and ctx.group_compound_id is None):
        return False
    if incoming.kind == MessageKind.RECALL:
        # A recall run again from its stored row (retry, recovery) has only its text: the
        # transports put the withdrawn message's id there too.
        recalled = incoming.recalled_message_id or incoming.text.strip()
        if not recalled:
            return False
        result = await talk.recall(ctx.deps, ctx.actor, account=incoming.account,
                                   sender_platform_id=incoming.sender_id, recalled_id=recalled,
                                   media_dir=settings.media_dir)
        if result.outcome == "withdrawn" and result.ticket is not None:
            ctx.tell(ctx.person_id, T.WITHDRAWN_OK.format(code=naming.ticket_code(ctx.org, result.ticket)))
        return result.outcome in ("withdrawn", "told")
    if ctx.compound_id is None:
        return False
    # Run again from its stored row, a photo has no media handle: the transport finds it by id.
    media_ref = incoming.media or MediaRef()
    max_bytes = settings.media_max_bytes
    if media_ref.size is not None and media_ref.size > max_bytes:
        return False
    fetch = media_fetcher(incoming.account)
    if fetch is None:
        return False
    window = timedelta(minutes=settings.media_window_minutes)
    await media.purge_waiting_media(ctx.deps, settings.media_dir, window)
    try:
        data = await fetch(incoming, max_bytes)
    except MediaUnavailable:
        return False
    if len(data) > max_bytes:
        return False
    _row, ticket = await media.take_media(
        ctx.deps, account=incoming.account, platform_message_id=incoming.message_id, message_id=ctx.message_id,
        group_id=ctx.group_id, person_id=ctx.person_id, kind=str(incoming.kind), mime=media_ref.mime,
        data=data, media_dir=settings.media_dir, window=window)
    return ticket is not None


@router.text(order=90)
async def rating_reply(ctx: Context) -> bool:
    """"满意" / "基本满意" / "不满意…" from a reporter with a pending confirmation."""
    parsed = resolution.parse_rating(ctx.text)
    if parsed is None:
        return False
    pending = await resolution.pending_confirmations(ctx.session, ctx.person_id)
    if not pending:
        return False
    if len(pending) > 1:
        codes = "、".join(naming.ticket_code(ctx.org, t) for t in pending)
        ctx.reply(T.RATE_WHICH.format(count=len(pending), codes=codes, example=naming.num(pending[0])), mention=True)
        return True
    await _rate(ctx, pending[0], *parsed)
    return True


@router.text(order=100)
async def plain_report(ctx: Context, nlp: Any) -> bool:
    """A plain message the NLP judges a problem becomes (or joins) a ticket."""
    compound_id = ctx.compound_id
    if compound_id is None or compound_id not in ctx.org.compounds or len(ctx.text) < MIN_ISSUE_CHARS:
        return False
    text = ctx.text[:policy.MAX_TEXT]
    analysis = nlp.analyze(text)
    if not analysis.is_issue:
        return False
    await _intake(ctx, nlp, text, compound_id, explicit=False, analysis=analysis)
    return True


# --------------------------------------------------------------------------- residents
@router.command("报事", "报修", "反映", usage=T.REPORT_USAGE, summary=T.SUMMARY_REPORT)
async def report(ctx: Context, args: str, nlp: Any) -> None:
    if not args:
        ctx.reply(TC.USAGE.format(usage=T.REPORT_USAGE))
        return
    if _too_long(ctx, args, policy.MAX_TEXT):
        return
    compound_id = ctx.compound_id
    head, rest = split_args(args)
    named = ctx.org.find(head) if len(head) >= 2 and rest else None
    if not ctx.in_group and named is not None:
        compound_id, args = named.id, rest
    if compound_id is None:
        ctx.reply(T.NEED_COMPOUND)
        return
    await _intake(ctx, nlp, args, compound_id, explicit=True)


@router.command("不是问题", "误报", "不是报事", usage=T.NOT_ISSUE_USAGE, summary=T.SUMMARY_NOT_ISSUE)
async def not_issue(ctx: Context, args: str) -> None:
    ref, reason = split_args(args)
    if ref and naming.parse_ref(ref) is not None:
        ticket = await ticket_from(ctx, ref, T.NOT_ISSUE_USAGE)
    else:
        reason = args
        ticket = await lookup.latest_ticket_of(ctx.deps, ctx.actor, group_id=ctx.group_id,
                                            within=NOT_ISSUE_WINDOW)
        if ticket is None:
            if not ctx.in_group:  # in a group, "不是问题，小事" without a ticket is just chat
                ctx.reply(T.NOT_ISSUE_NONE)
            return
    await workflow.mark_not_issue(ctx.deps, ctx.actor, ticket, reason or None)
    ctx.reply(T.REJECTED_OK.format(code=naming.ticket_code(ctx.org, ticket)))


@router.command("评价", usage=T.RATE_USAGE, summary=T.SUMMARY_RATE)
async def rate(ctx: Context, args: str) -> None:
    ref, rest = split_args(args)
    if ref and naming.parse_ref(ref) is not None:
        parsed = resolution.parse_rating(rest)
        if parsed is None:
            ctx.reply(TC.USAGE.format(usage=T.RATE_USAGE))
            return
        await _rate(ctx, await ticket_from(ctx, ref, T.RATE_USAGE), *parsed)
        return
    parsed = resolution.parse_rating(args)
    if parsed is None:
        ctx.reply(TC.USAGE.format(usage=T.RATE_USAGE))
        return
    pending = await resolution.pending_confirmations(ctx.session, ctx.person_id)
    if not pending:
        ctx.reply(T.NOTHING_TO_RATE)
    elif len(pending) > 1:
        codes = "、".join(naming.ticket_code(ctx.org, t) for t in pending)
        ctx.reply(T.RATE_WHICH.format(count=len(pending), codes=codes, example=naming.num(pending[0])))
    else:
        await _rate(ctx, pending[0], *parsed)


async def _rate(ctx: Context, ticket: Ticket, rating: str, comment: str) -> None:
    try:
        result = await resolution.rate(ctx.deps, ctx.actor, ticket, rating, comment)
    except ServiceError as exc:
        ctx.reply(str(exc), mention=ctx.in_group)
        return
    code = naming.ticket_code(ctx.org, ticket)
    label = T.RATING_LABELS.get(rating, rating)
    if result.reopened:
        ctx.reply(T.REOPENED_REPLY.format(code=code), mention=ctx.in_group)
    elif result.closed:
        ctx.reply(T.RATED_THANKS.format(code=code, rating=label), mention=ctx.in_group)
    else:
        ctx.reply(T.RATED_WAIT.format(rating=label), mention=ctx.in_group)


@router.command("我的工单", usage="我的工单", summary=T.SUMMARY_MY)
async def my_tickets(ctx: Context) -> None:
    await _reply_my(ctx)


async def _reply_my(ctx: Context) -> None:
    reported, assigned = await queries.my_tickets(ctx.session, ctx.person_id)
    if not reported and not assigned:
        ctx.reply(T.MY_NONE)
        return
    lines: list[str] = []
    for header, rows in ((T.MY_REPORTED, reported), (T.MY_ASSIGNED, assigned)):
        if rows:
            lines.append(header)
            lines += [T.MY_LINE.format(code=naming.ticket_code(ctx.org, t), what=naming.what(t),
                                       state=T.STATE_LABELS.get(t.state, t.state)) for t in rows]
    ctx.reply("\n".join(lines))


@router.command("进度", "查进度", usage=T.PROGRESS_USAGE, summary=T.SUMMARY_PROGRESS)
async def progress(ctx: Context, args: str) -> None:
    if not args:
        await _reply_my(ctx)
        return
    ticket = await ticket_from(ctx, split_args(args)[0], T.PROGRESS_USAGE)
    await rights.require_view(ctx.deps, ctx.actor, ticket)
    ctx.reply(await _progress_text(ctx, ticket))


async def _progress_text(ctx: Context, ticket: Ticket) -> str:
    timeline = await queries.ticket_timeline(ctx.deps, ticket)
    public = [e for e in timeline if e.action not in ("urgent_alert", "reported", "supervised")]
    last = public[-1] if public else None
    last_text = T.PROGRESS_LAST.format(
        at=timefmt.stored(ctx.deps.clock, last.at), action=last.label,
        note=f"：{naming.quote(last.note, 60)}" if last and last.note and last.action in ("resolved", "noted") else ""
    ) if last else ""
    assignee = f"（{T.ASSIGNEE_KIND_LABELS.get(ticket.assignee_kind or '') or ticket.assignee_label}）" \
        if ticket.assignee_label and ticket.state in OPEN_STATES else ""
    return T.PROGRESS.format(code=naming.ticket_code(ctx.org, ticket), what=naming.what(ticket),
                             state=T.STATE_LABELS.get(ticket.state, ticket.state), assignee=assignee, last=last_text)


# --------------------------------------------------------------------------- the branch
@router.command("工单", usage=T.TICKETS_USAGE, summary=T.SUMMARY_TICKETS)
async def tickets(ctx: Context, args: str) -> None:
    here = ctx.group_compound_id if ctx.in_group else None
    handler = ctx.roles.has_any(HANDLING_ROLES, here) if ctx.in_group else ctx.roles.has_any(HANDLING_ROLES)
    if args:
        ticket = await ticket_from(ctx, split_args(args)[0], T.TICKETS_USAGE)
        if not rights.can_handle(ctx.actor, ticket.compound_id):
            await rights.require_view(ctx.deps, ctx.actor, ticket)
            ctx.reply(await _progress_text(ctx, ticket))
            return
        ctx.reply(await _detail_text(ctx, ticket))
        return
    if not handler:
        await _reply_my(ctx)
        return
    compounds = [here] if here else rights.visible_compounds(ctx.deps, ctx.actor)
    views = await queries.list_tickets(ctx.deps, ctx.actor, compound_ids=compounds, limit=1000)
    scope = ctx.org.name_of(compounds[0]) if len(compounds) == 1 else "您负责的小区"
    if not views:
        ctx.reply(T.LIST_NONE.format(scope=scope))
        return
    now = ctx.clock.now()
    lines = [T.LIST_HEADER.format(scope=scope, total=len(views), overdue=sum(v.overdue for v in views))]
    shown = views[:20]
    meetings = await queries.meeting_times(ctx.session, [v.id for v in shown], now)
    for v in shown:
        flag = (T.FLAG_SUPERVISED if v.supervised else "") + (T.FLAG_OVERDUE if v.overdue else "") \
            + (T.FLAG_URGENT if v.urgent else "")
        due = queries.due_text(ctx.deps, urgent=v.urgent, first_response_at=v.first_response_at,
                           first_response_due=v.first_response_due, resolve_due=v.resolve_due,
                           meeting=meetings.get(v.id), now=now)
        code = v.code if len(compounds) > 1 else f"#{v.number:04d}"
        lines.append(T.LIST_LINE.format(flag=flag, code=code, what=f"{v.category_label}"
                                        + (f" · {v.location}" if v.location else ""), state=v.state_label,
                                        assignee=f"（{v.assignee_label}）" if v.assignee_label else "", due=due,
                                        excerpt=naming.quote(v.summary, T.LIST_EXCERPT)))
    if len(views) > len(shown):
        lines.append(T.LIST_MORE.format(count=len(views) - len(shown)))
    ctx.reply("\n".join(lines))


async def _detail_deadlines(ctx: Context, ticket: Ticket) -> str:
    deps, now = ctx.deps, ctx.clock.now()
    meeting = (await queries.meeting_times(ctx.session, [ticket.id], now)).get(ticket.id)
    due = queries.due_text(deps, urgent=ticket.urgent, first_response_at=ticket.first_response_at,
                       first_response_due=ticket.first_response_due, resolve_due=ticket.resolve_due,
                       meeting=meeting, now=now)
    if meeting is not None:
        return T.DETAIL_DEADLINE_WAITING.format(waiting=due.removeprefix(T.DUE_SEP))
    if ticket.urgent and ticket.first_response_at is None:
        return T.DETAIL_DEADLINE_RESPOND.format(first=timefmt.stored(deps.clock, ticket.first_response_due), due=due)
    return T.DETAIL_DEADLINES.format(first=timefmt.stored(deps.clock, ticket.first_response_due),
                                     resolve=timefmt.stored(deps.clock, ticket.resolve_due))


async def _detail_text(ctx: Context, ticket: Ticket) -> str:
    deps = ctx.deps
    rows = await people.reporters(ctx.session, ticket)
    names = await person_names(ctx.session, [r.person_id for r in rows])
    reporters = "（" + "、".join(names.get(r.person_id, "?") for r in rows) + "）" if rows else ""
    extra = ""
    if ticket.resolution:
        extra += T.DETAIL_RESOLUTION.format(note=naming.quote(ticket.resolution, 200))
    if ticket.satisfaction:
        extra += T.DETAIL_SATISFACTION.format(rating=T.RATING_LABELS.get(ticket.satisfaction, ticket.satisfaction))
    if ticket.hotline_order_no:
        extra += T.DETAIL_HOTLINE.format(order_no=ticket.hotline_order_no)
    if ticket.supervised:
        extra += T.DETAIL_SUPERVISED.format(at=timefmt.stored(deps.clock, ticket.supervised_at))
    if ticket.reopen_count:
        extra += T.DETAIL_REOPENED.format(count=ticket.reopen_count)
    if ticket.reporter_address and not ticket.location:
        extra += T.DETAIL_ADDRESS.format(address=ticket.reporter_address)
    attachments = await media.media_of(ctx.session, ticket.id)
    if attachments:
        kinds = "、".join(sorted({T.MEDIA_KIND_LABELS.get(m.kind, m.kind) for m in attachments}))
        extra += T.DETAIL_MEDIA.format(count=len(attachments), kinds=kinds)
    deadlines = await _detail_deadlines(ctx, ticket) if ticket.state in OPEN_STATES else ""
    text = T.DETAIL.format(
        code=naming.ticket_code(ctx.org, ticket), what=naming.what(ticket) + ("（紧急）" if ticket.urgent else ""),
        state=T.STATE_LABELS.get(ticket.state, ticket.state),
        assignee=f"（{ticket.assignee_label}）" if ticket.assignee_label else "", count=ticket.reporters_count,
        reporters=reporters, created=timefmt.stored(deps.clock, ticket.created_at),
        channel=T.CHANNEL_LABELS.get(ticket.channel, ""), deadlines=deadlines, extra=extra,
        text=naming.quote(ticket.text, 200))
    lines = [text, T.TIMELINE_HEADER]
    for entry in (await queries.ticket_timeline(deps, ticket))[-15:]:
        change = f"（{T.RATING_LABELS.get(entry.to_state or '', entry.to_state)}）" if entry.action == "rated" else ""
        lines.append(T.TIMELINE_LINE.format(at=timefmt.stored(deps.clock, entry.at), who=entry.actor + " ", action=entry.label,
                                            change=change, note=f"：{naming.quote(entry.note, 60)}"
                                            if entry.note and entry.action != "created" else ""))
    return "\n".join(lines)


@router.command("派单", roles=HANDLING_ROLES, usage=T.ASSIGN_USAGE, summary=T.SUMMARY_ASSIGN)
async def assign(ctx: Context, args: str) -> None:
    ref, target = split_args(args)
    if not ref or not target:
        ctx.reply(TC.USAGE.format(usage=T.ASSIGN_USAGE))
        return
    ticket = await ticket_from(ctx, ref, T.ASSIGN_USAGE)
    assignee = await workflow.assign(ctx.deps, ctx.actor, ticket, target)
    reply = T.ASSIGNED_OK.format(code=naming.ticket_code(ctx.org, ticket), label=assignee.label,
                                 due=timefmt.stored(ctx.deps.clock, ticket.resolve_due))
    ctx.reply(reply + ("" if assignee.found else T.ASSIGN_NOBODY.format(label=assignee.label)))


@router.command("转办", usage=T.TRANSFER_USAGE, summary=T.SUMMARY_TRANSFER, in_help=False)
async def transfer(ctx: Context, args: str) -> None:
    ref, rest = split_args(args)
    if not ref or not rest:
        ctx.reply(TC.USAGE.format(usage=T.TRANSFER_USAGE))
        return
    ticket = await ticket_from(ctx, ref, T.TRANSFER_USAGE)
    words = rest.split()
    # "转办 0042 网格员 张三 原因" — the target is a kind word (+ name) or a name; the rest a reason.
    take = 2 if words[0] in T.ASSIGNEE_WORDS and len(words) > 1 and not words[1].startswith(("因", "原因")) else 1
    target, note = " ".join(words[:take]), " ".join(words[take:])
    try:
        assignee = await workflow.assign(ctx.deps, ctx.actor, ticket, target, transfer=True, note=note or None)
    except ServiceError:
        if take == 1:
            raise
        assignee = await workflow.assign(ctx.deps, ctx.actor, ticket, words[0], transfer=True,
                                    note=" ".join(words[1:]) or None)
    reply = T.TRANSFERRED_OK.format(code=naming.ticket_code(ctx.org, ticket), label=assignee.label,
                                    due=timefmt.stored(ctx.deps.clock, ticket.resolve_due))
    ctx.reply(reply + ("" if assignee.found else T.ASSIGN_NOBODY.format(label=assignee.label)))


@router.command("备注", usage=T.NOTE_USAGE, summary=T.SUMMARY_NOTE, in_help=False)
async def note(ctx: Context, args: str) -> None:
    ref, text = split_args(args)
    if not ref or not text:
        ctx.reply(TC.USAGE.format(usage=T.NOTE_USAGE))
        return
    if _too_long(ctx, text, policy.MAX_NOTE):
        return
    ticket = await ticket_from(ctx, ref, T.NOTE_USAGE)
    await workflow.add_note(ctx.deps, ctx.actor, ticket, text)
    ctx.reply(T.NOTE_OK.format(code=naming.ticket_code(ctx.org, ticket)))


@router.command("办结", usage=T.RESOLVE_USAGE, summary=T.SUMMARY_RESOLVE)
async def resolve(ctx: Context, args: str) -> None:
    ref, text = split_args(args)
    if not ref:
        ctx.reply(TC.USAGE.format(usage=T.RESOLVE_USAGE))
        return
    ticket = await ticket_from(ctx, ref, T.RESOLVE_USAGE)
    if not text:
        # Say first why it cannot be resolved at all (closed, no right) before asking for the note.
        rights.require_handler_or_assignee(ctx.deps, ctx.actor, ticket, "办结")
        await rights.require_open(ctx.deps, ticket, "办结")
        ctx.reply(TC.USAGE.format(usage=T.RESOLVE_USAGE))
        return
    if _too_long(ctx, text, policy.MAX_NOTE):
        return
    count = await resolution.resolve(ctx.deps, ctx.actor, ticket, text)
    ctx.reply(T.RESOLVED_OK.format(code=naming.ticket_code(ctx.org, ticket), count=count))


@router.command("议事日", roles=HANDLING_ROLES, usage=T.DISCUSSION_DAY_USAGE, summary=T.SUMMARY_DISCUSSION_DAY)
async def discussion_day(ctx: Context, args: str) -> None:
    compounds = [ctx.group_compound_id] if ctx.in_group and ctx.group_compound_id else \
        rights.visible_compounds(ctx.deps, ctx.actor)
    own = ctx.person.compound_id
    compound_id = own if own in compounds else (compounds[0] if compounds else None)
    if compound_id is None:
        ctx.reply(T.NEED_COMPOUND)
        return
    if not args:
        ctx.reply(await A.describe_next_day(ctx.deps, compound_id))
        return
    try:
        when, place = parse_when(args, ctx.clock.local(), date_only_time=time(15, 0))
    except TimeParseError:
        when, place = None, ""
    if when is None:
        ctx.reply(T.DAY_BAD_TIME.format(usage=T.DISCUSSION_DAY_USAGE))
        return
    day = await A.set_discussion_day(ctx.deps, ctx.actor, compound_id, when, place.strip() or None)
    ctx.reply(T.DAY_SET.format(compound=ctx.org.name_of(compound_id), when=timefmt.stored(ctx.deps.clock, day.starts_at),
                               place=T.PLACE.format(place=day.place) if day.place else ""))


@router.command("议事", roles=HANDLING_ROLES, usage=T.AGENDA_USAGE, summary=T.SUMMARY_AGENDA)
async def agenda(ctx: Context, args: str) -> None:
    ref, rest = split_args(args)
    if not ref:
        ctx.reply(TC.USAGE.format(usage=T.AGENDA_USAGE))
        return
    if _too_long(ctx, rest, policy.MAX_NOTE):
        return
    ticket = await ticket_from(ctx, ref, T.AGENDA_USAGE)
    fixes = A.parse_four_fixes(rest)
    item, day = await A.put_on_agenda(ctx.deps, ctx.actor, ticket, topic=fixes.get("topic"),
                                      scope=fixes.get("scope"), owner=fixes.get("owner"))
    ctx.reply(T.AGENDA_OK.format(code=naming.ticket_code(ctx.org, ticket), num=naming.num(ticket),
                                 compound=ctx.org.name_of(ticket.compound_id),
                                 when=timefmt.stored(ctx.deps.clock, day.starts_at),
                                 place=T.PLACE.format(place=day.place) if day.place else "", topic=item.topic,
                                 scope="、".join(item.scope), owner=item.owner_label or "—"))


@router.command("合并", roles=HANDLING_ROLES, usage=T.MERGE_USAGE, summary=T.SUMMARY_MERGE)
async def merge(ctx: Context, args: str) -> None:
    parts = args.replace("到", " ").replace("→", " ").split()
    if len(parts) != 2:
        ctx.reply(TC.USAGE.format(usage=T.MERGE_USAGE))
        return
    source = await ticket_from(ctx, parts[0], T.MERGE_USAGE)
    target = await ticket_from(ctx, parts[1], T.MERGE_USAGE)
    await workflow.merge(ctx.deps, ctx.actor, source, target)
    ctx.reply(T.MERGED_OK.format(source=naming.ticket_code(ctx.org, source), target=naming.ticket_code(ctx.org, target),
                                 count=target.reporters_count))


@router.command("拆分", roles=HANDLING_ROLES, usage=T.SPLIT_USAGE, summary=T.SUMMARY_SPLIT)
async def split(ctx: Context, args: str, nlp: Any) -> None:
    ref, who = split_args(args)
    if not ref or not who:
        ctx.reply(TC.USAGE.format(usage=T.SPLIT_USAGE))
        return
    ticket = await ticket_from(ctx, ref, T.SPLIT_USAGE)
    new, name = await workflow.split(ctx.deps, ctx.actor, ticket, who, nlp)
    ctx.reply(T.SPLIT_OK.format(name=name, source=naming.ticket_code(ctx.org, ticket),
                                target=naming.ticket_code(ctx.org, new), what=naming.what(new)))


@router.command("改类", roles=HANDLING_ROLES, usage=T.RECATEGORIZE_USAGE, summary=T.SUMMARY_RECATEGORIZE)
async def recategorize(ctx: Context, args: str) -> None:
    ref, rest = split_args(args)
    words = rest.split()
    if not ref or not words:
        ctx.reply(TC.USAGE.format(usage=T.RECATEGORIZE_USAGE))
        return
    category: str | None = None
    urgent: bool | None = None
    for word in words:
        if word in T.NOT_URGENT_WORDS:
            urgent = False
        elif word in T.URGENT_WORDS:
            urgent = True
        else:
            category = policy.parse_category(word)
            if category is None:
                labels = "、".join(sorted(set(policy.category_labels().values())))
                ctx.reply(T.UNKNOWN_CATEGORY.format(word=word[:20], labels=labels))
                return
    ticket = await ticket_from(ctx, ref, T.RECATEGORIZE_USAGE)
    await workflow.recategorize(ctx.deps, ctx.actor, ticket, category=category, urgent=urgent)
    ctx.reply(T.RECATEGORIZED_OK.format(code=naming.ticket_code(ctx.org, ticket), label=policy.category_label(ticket.category),
                                        urgent="（紧急）" if ticket.urgent else "",
                                        due=timefmt.stored(ctx.deps.clock, ticket.resolve_due)))


@router.command("热线", roles=HANDLING_ROLES, usage=T.HOTLINE_USAGE, summary=T.SUMMARY_HOTLINE)
async def hotline(ctx: Context, args: str) -> None:
    ref, order_no = split_args(args)
    if not ref or not order_no:
        ctx.reply(TC.USAGE.format(usage=T.HOTLINE_USAGE))
        return
    ticket = await ticket_from(ctx, ref, T.HOTLINE_USAGE)
    order = await H.link_hotline(ctx.deps, ctx.actor, ticket, order_no)
    ctx.reply(T.HOTLINE_OK.format(code=naming.ticket_code(ctx.org, ticket), order_no=order.order_no))


@router.command("督办", roles=(RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF), usage=T.SUPERVISE_USAGE,
                summary=T.SUMMARY_SUPERVISE)
async def supervise(ctx: Context, args: str) -> None:
    ref, text = split_args(args)
    if not ref:
        ctx.reply(TC.USAGE.format(usage=T.SUPERVISE_USAGE))
        return
    ticket = await ticket_from(ctx, ref, T.SUPERVISE_USAGE)
    told = await supervision.supervise_by_hand(ctx.deps, ctx.actor, ticket, text[:policy.MAX_NOTE])
    ctx.reply(T.SUPERVISE_OK.format(code=naming.ticket_code(ctx.org, ticket), who="、".join(told) or "支部书记"))


# --------------------------------------------------------------------------- CLI
async def cmd_export_corrections(args: Any, app: Any) -> int:
    """Write the branch's NLP corrections as JSONL for ``python -m nlp.train --extra FILE``."""
    import json
    from pathlib import Path

    async with app.sessions() as session:
        rows = await corrections.correction_examples(session, unused_only=not args.all)
        with Path(args.file).open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps({k: v for k, v in row.items() if k != "id"}, ensure_ascii=False) + "\n")
        if args.mark_used:
            await corrections.mark_corrections_used(session, [r["id"] for r in rows], app.clock.now())
        await session.commit()
    print(f"已导出 {len(rows)} 条纠错样本到 {args.file}")
    return 0


async def cmd_sweep(args: Any, app: Any) -> int:
    """Run the deadline sweep now (督办 of overdue tickets, auto-close of unconfirmed ones)."""
    from schedules.context import job_deps

    async with job_deps(app) as deps:
        escalated = await sweeps.escalate_overdue(deps)
        closed = await sweeps.close_unconfirmed(deps)
    print(f"督办 {escalated} 件，自动完结 {closed} 件（消息在机器人运行时发出）")
    return 0


def register_cli(sub: Any) -> None:
    parser = sub.add_parser("tickets", help="工单：导出纠错样本、立即检查超期")
    commands = parser.add_subparsers(dest="tickets_command", required=True)
    export = commands.add_parser("export-corrections", help="导出支部的识别纠错（JSONL，供 nlp.train --extra 使用）")
    export.add_argument("file")
    export.add_argument("--all", action="store_true", help="包括已用于训练的")
    export.add_argument("--mark-used", action="store_true", help="导出后标记为已使用")
    export.set_defaults(func=cmd_export_corrections)
    commands.add_parser("sweep", help="立即检查超期工单并督办").set_defaults(func=cmd_sweep)
