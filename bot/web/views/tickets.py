"""Tickets in the dashboard and API: the board, one ticket's page, and its actions.

Every action is a call of ``bot.services.tickets`` (and ``agenda``/``hotline``), so it reaches
residents and assignees in chat exactly as the chat commands do. The web layer only checks
that the ticket is in the user's scope (403) and turns forms into arguments.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Any, Awaitable, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import media as store
from bot import timefmt
from bot.models import ChatGroup, InboundMessage, OutboxMessage
from bot.models.tickets import ACTIVE_STATES, OPEN_STATES, AgendaItem, DiscussionDay, Ticket, TicketMedia, TicketState
from bot.services import Actor, Deps, ServiceError
from bot.services import agenda as A
from bot.services import hotline as H
from bot.services.names import person_names
from bot.services.tickets import lookup, media, naming, people, policy, queries, resolution, supervision, workflow
from bot.texts import tickets as TT
from bot.texts import web as T
from bot.web.errors import forbidden, not_found
from bot.web.ids import valid_id
from bot.web.principal import Principal
from bot.web.tables import Column, PageQuery, Table

TICKET_COLUMNS = [
    Column("code", "编号"), Column("compound", "小区"), Column("state_label", "状态"),
    Column("category_label", "类别"), Column("urgent", "紧急", "bool"), Column("summary", "内容"),
    Column("location", "位置"), Column("reporters_count", "反映人数", "number"), Column("assignee_label", "处理人"),
    Column("created_at", "登记时间", "datetime"), Column("resolve_due", "办结期限", "datetime"),
    Column("overdue", "超期", "bool"), Column("supervised", "督办", "bool"),
    Column("satisfaction_label", "满意度"), Column("hotline_order_no", "12345工单号"),
]
STATE_FILTERS = {
    "open": list(OPEN_STATES), "active": list(ACTIVE_STATES), "all": None,
    **{s.value: [s.value] for s in TicketState},
}
# The chat word for each kind of assignee (the service parses the same words).
KIND_WORDS = {"property": "物业", "grid_worker": "网格员", "building_leader": "楼长", "unit_leader": "单元长",
              "owners_committee": "业委会", "community": "社区", "social_worker": "社工", "party_member": "党员",
              "volunteer": "志愿者", "secretary": "书记"}


class TicketQuery(PageQuery):
    compound_id: int | None = None
    state: Literal[tuple(STATE_FILTERS)] = "open"  # type: ignore[valid-type]
    category: str | None = Field(None, max_length=16)
    urgent: bool = False
    overdue: bool = False
    supervised: bool = False
    since: date | None = Field(None, description="登记日期起（含）")
    until: date | None = Field(None, description="登记日期止（含）")
    q: str | None = Field(None, max_length=40, description="内容或位置包含")


def view_row(view: queries.TicketView) -> dict[str, Any]:
    row = asdict(view)
    row["satisfaction_label"] = TT.RATING_LABELS.get(view.satisfaction, "") if view.satisfaction else ""
    return row


async def tickets_table(deps: Deps, user: Principal, query: TicketQuery, *, export: bool = False) -> Table:
    if query.compound_id is not None and not user.sees(query.compound_id):
        raise forbidden()
    if query.category and query.category not in policy.category_labels():
        from bot.web.errors import invalid

        raise invalid("category", T.INVALID_FIELD.format(field="category", reason="、".join(policy.category_labels())))
    tz = deps.clock.tz
    since = datetime.combine(query.since, time.min, tzinfo=tz) if query.since else None
    until = datetime.combine(query.until, time.max, tzinfo=tz) if query.until else None
    views = await queries.list_tickets(
        deps, user.actor(), compound_ids=[query.compound_id] if query.compound_id else None,
        states=STATE_FILTERS[query.state], overdue_only=query.overdue, supervised_only=query.supervised,
        category=query.category, since=since, until=until, limit=5000)
    views = [v for v in views if user.sees(v.compound_id)]
    if query.urgent:
        views = [v for v in views if v.urgent]
    if query.q:
        views = [v for v in views if query.q in v.summary or query.q in (v.location or "")]
    total = len(views)
    if not export:
        views = views[query.offset:query.offset + query.per_page]
    return Table("tickets", TICKET_COLUMNS, [view_row(v) for v in views], total, query.page, query.per_page)


async def visible_ticket(session: AsyncSession, user: Principal, ticket_id: int) -> Ticket:
    """The ticket, 404 when missing, 403 when it belongs to a compound outside the user's scope."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise not_found()
    if not user.sees(ticket.compound_id):
        raise forbidden()
    return ticket


@dataclass
class TimelineItem:
    at: datetime
    kind: str      # event | message | bot
    title: str
    who: str
    note: str | None
    state: str | None = None


async def ticket_detail(deps: Deps, ticket: Ticket) -> dict[str, Any]:
    """Everything the ticket page shows: the view, reports, timeline, agenda, merge targets."""
    session = deps.session
    view = queries.ticket_view(deps, ticket)
    reporter_rows = await people.reporters(session, ticket)
    names = await person_names(session, [r.person_id for r in reporter_rows] + [ticket.assignee_person_id])
    group_ids = {r.group_id for r in reporter_rows if r.group_id} | ({ticket.group_id} - {None})
    topics = dict((await session.execute(select(ChatGroup.id, ChatGroup.topic).where(
        ChatGroup.id.in_(group_ids)))).all())
    reports = [{
        "person_id": r.person_id, "name": names.get(r.person_id, "?"), "group": topics.get(r.group_id, "私聊"),
        "text": r.text, "reported_at": r.reported_at, "rating": r.rating,
        "rating_label": TT.RATING_LABELS.get(r.rating, "") if r.rating else "",
        "rating_comment": r.rating_comment, "confirm_asked_at": r.confirm_asked_at,
    } for r in reporter_rows]
    source = await session.get(InboundMessage, ticket.source_message_id) if ticket.source_message_id else None
    items: list[TimelineItem] = []
    for r in reports:
        items.append(TimelineItem(r["reported_at"], "message", f"{r['name']}（{r['group']}）", r["name"], r["text"]))
    for e in await queries.ticket_timeline(deps, ticket):
        if e.action in ("created", "reported"):
            items.append(TimelineItem(e.at, "event", e.label, e.actor, None, e.to_state))
            continue
        note = e.note
        if e.action == "rated":
            note = TT.RATING_LABELS.get(e.to_state or "", e.to_state) + (f"：{e.note}" if e.note else "")
        items.append(TimelineItem(e.at, "event", e.label, e.actor, note, e.to_state))
    sent = (await session.execute(select(OutboxMessage).where(
        OutboxMessage.ref_kind == policy.SUBJECT, OutboxMessage.ref_id == ticket.id).order_by(OutboxMessage.id))).scalars().all()
    to_people = await person_names(session, [m.person_id for m in sent])
    for m in sent:
        if m.group_id:
            where = topics.get(m.group_id) or await _topic(session, m.group_id)
        else:
            where = f"私信 {to_people.get(m.person_id, '')}"
        items.append(TimelineItem(m.created_at, "bot", f"助手 → {where}", "支部助手", m.text, m.status))
    items.sort(key=lambda i: (i.at, {"message": 0, "event": 1, "bot": 2}[i.kind]))
    agenda = (await session.execute(select(AgendaItem, DiscussionDay).join(
        DiscussionDay, DiscussionDay.id == AgendaItem.discussion_day_id).where(AgendaItem.ticket_id == ticket.id)
        .order_by(AgendaItem.id))).all()
    others = (await session.execute(select(Ticket).where(
        Ticket.compound_id == ticket.compound_id, Ticket.state.in_(list(OPEN_STATES)), Ticket.id != ticket.id)
        .order_by(Ticket.id.desc()).limit(50))).scalars().all()
    return {
        "view": view, "row": view_row(view), "text": ticket.text, "resolution": ticket.resolution,
        "source_text": source.text if source is not None else None, "reports": reports, "timeline": items,
        "agenda": [{"topic": a.topic, "scope": a.scope, "owner": a.owner_label, "state": a.state,
                    "starts_at": d.starts_at, "place": d.place} for a, d in agenda],
        "merge_targets": [(t.id, naming.ticket_code(deps.org, t), naming.quote(t.text, 30)) for t in others],
        "assignee_name": names.get(ticket.assignee_person_id or 0),
        "reporter_address": ticket.reporter_address if not ticket.location else None,
        "media": [{"id": m.id, "kind": m.kind, "kind_label": TT.MEDIA_KIND_LABELS.get(m.kind, m.kind),
                   "mime": m.mime, "size": m.size, "at": m.created_at,
                   "url": f"/dashboard/tickets/{ticket.id}/media/{m.id}"}
                  for m in await media.media_of(session, ticket.id)],
    }


async def ticket_media_file(session: AsyncSession, settings: Any, ticket: Ticket, media_id: int) -> tuple[Any, str]:
    """The file of one of the ticket's photos/videos (404 when it is not this ticket's or gone)."""
    row = await session.get(TicketMedia, media_id)
    if row is None or row.ticket_id != ticket.id:
        raise not_found()
    path = store.resolve(settings.media_dir, row.path)
    if path is None or not path.exists():
        raise not_found()
    return path, row.mime or "application/octet-stream"


async def _topic(session: AsyncSession, group_id: int) -> str:
    group = await session.get(ChatGroup, group_id)
    return group.topic if group else "群"


# ---------------------------------------------------------------- actions
class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AssignForm(_Form):
    kind: Literal[tuple(KIND_WORDS) + ("person",)] = Field(  # type: ignore[valid-type]
        description="property 物业 | grid_worker 网格员 | building_leader 楼长 | unit_leader 单元长 | "
                    "owners_committee 业委会 | community 社区 | social_worker 社工 | party_member 党员 | "
                    "volunteer 志愿者 | secretary 书记 | person 指定姓名")
    name: str | None = Field(None, max_length=20, description="姓名（kind=person 时必填，其他可选）")
    note: str | None = Field(None, max_length=policy.MAX_NOTE)

    def target(self) -> str:
        if self.kind == "person":
            if not self.name:
                raise ServiceError(T.TICKET_NAME_NEEDED)
            return self.name
        return f"{KIND_WORDS[self.kind]} {self.name or ''}".strip()


class NoteForm(_Form):
    note: str = Field(min_length=1, max_length=policy.MAX_NOTE)


class AgendaForm(_Form):
    topic: str | None = Field(None, max_length=200, description="定议题（默认为工单内容）")
    scope: str | None = Field(None, max_length=100, description="定范围：参加方，如“物业、业委会”")
    owner: str | None = Field(None, max_length=40, description="定责任：负责人（同派单对象写法）")


class ResolveForm(_Form):
    note: str = Field(min_length=1, max_length=policy.MAX_NOTE, description="办结说明，会发给反映的居民")


class ReopenForm(_Form):
    comment: str | None = Field(None, max_length=policy.MAX_NOTE)


class MergeForm(_Form):
    into: str = Field(min_length=1, max_length=40, description="并入的工单：编号（如 0042）或“小区-0042”")


class ReasonForm(_Form):
    reason: str | None = Field(None, max_length=policy.MAX_NOTE)


class CategoryForm(_Form):
    category: str | None = Field(None, max_length=16)
    urgent: bool | None = None


class HotlineForm(_Form):
    order_no: str = Field(min_length=4, max_length=40)


Action = Callable[[Deps, Actor, Ticket, Any], Awaitable[str]]


async def _assign(deps: Deps, actor: Actor, ticket: Ticket, form: AssignForm, transfer: bool) -> str:
    assignee = await workflow.assign(deps, actor, ticket, form.target(), transfer=transfer, note=form.note)
    told = T.TICKET_TOLD if assignee.person_id else T.TICKET_NOBODY_TO_TELL
    return (T.TICKET_TRANSFERRED if transfer else T.TICKET_ASSIGNED).format(label=assignee.label) + told


async def do_assign(deps: Deps, actor: Actor, ticket: Ticket, form: AssignForm) -> str:
    return await _assign(deps, actor, ticket, form, False)


async def do_transfer(deps: Deps, actor: Actor, ticket: Ticket, form: AssignForm) -> str:
    return await _assign(deps, actor, ticket, form, True)


async def do_note(deps: Deps, actor: Actor, ticket: Ticket, form: NoteForm) -> str:
    await workflow.add_note(deps, actor, ticket, form.note)
    return T.TICKET_NOTED


async def do_agenda(deps: Deps, actor: Actor, ticket: Ticket, form: AgendaForm) -> str:
    _, day = await A.put_on_agenda(deps, actor, ticket, topic=form.topic, scope=form.scope, owner=form.owner)
    return T.TICKET_AGENDA.format(when=timefmt.stored(deps.clock, day.starts_at))


async def do_resolve(deps: Deps, actor: Actor, ticket: Ticket, form: ResolveForm) -> str:
    asked = await resolution.resolve(deps, actor, ticket, form.note)
    return T.TICKET_RESOLVED.format(count=asked)


async def do_reopen(deps: Deps, actor: Actor, ticket: Ticket, form: ReopenForm) -> str:
    result = await resolution.reopen_by_hand(deps, actor, ticket, form.comment or "")
    return T.TICKET_REOPENED + (T.TICKET_SUPERVISED if result.supervised else "")


async def do_merge(deps: Deps, actor: Actor, ticket: Ticket, form: MergeForm) -> str:
    target = await _merge_target(deps, ticket, form.into)
    await workflow.merge(deps, actor, ticket, target)
    return T.TICKET_MERGED.format(target=naming.ticket_code(deps.org, target))


async def _merge_target(deps: Deps, ticket: Ticket, ref: str) -> Ticket:
    if ref.startswith("id:") and ref[3:].isdigit():
        target = await deps.session.get(Ticket, int(ref[3:])) if valid_id(ref[3:]) else None
        if target is None:
            raise ServiceError(TT.NOT_FOUND.format(ref=ref))
        return target
    return await lookup.find_ticket(deps, ref, [ticket.compound_id], usage=TT.MERGE_USAGE)


async def do_not_issue(deps: Deps, actor: Actor, ticket: Ticket, form: ReasonForm) -> str:
    await workflow.mark_not_issue(deps, actor, ticket, form.reason)
    return T.TICKET_REJECTED


async def do_recategorize(deps: Deps, actor: Actor, ticket: Ticket, form: CategoryForm) -> str:
    category = policy.parse_category(form.category) if form.category else None
    if form.category and category is None:
        raise ServiceError(T.TICKET_UNKNOWN_CATEGORY.format(word=form.category))
    await workflow.recategorize(deps, actor, ticket, category=category, urgent=form.urgent)
    return T.TICKET_RECATEGORIZED.format(label=policy.category_label(ticket.category))


async def do_supervise(deps: Deps, actor: Actor, ticket: Ticket, form: ReasonForm) -> str:
    told = await supervision.supervise_by_hand(deps, actor, ticket, form.reason or "")
    return T.TICKET_SUPERVISE_DONE.format(who="、".join(told) or "社区")


async def do_hotline(deps: Deps, actor: Actor, ticket: Ticket, form: HotlineForm) -> str:
    await H.link_hotline(deps, actor, ticket, form.order_no)
    return T.TICKET_HOTLINE.format(order_no=form.order_no)


ACTIONS: dict[str, tuple[type[BaseModel], Action, str]] = {
    "assign": (AssignForm, do_assign, "派单：交给处理人，并私信通知"),
    "transfer": (AssignForm, do_transfer, "转办：改交给其他处理人"),
    "note": (NoteForm, do_note, "备注：记录进展，处理人会收到"),
    "agenda": (AgendaForm, do_agenda, "列入议事日（四定：时间、议题、范围、责任）"),
    "resolve": (ResolveForm, do_resolve, "办结：请反映的居民确认并评价"),
    "reopen": (ReopenForm, do_reopen, "重新打开已办结的工单"),
    "merge": (MergeForm, do_merge, "合并：把本工单并入另一张"),
    "not-issue": (ReasonForm, do_not_issue, "不是问题：关闭误登记的工单"),
    "recategorize": (CategoryForm, do_recategorize, "改类别或紧急程度"),
    "supervise": (ReasonForm, do_supervise, "督办（社区、区级）"),
    "hotline": (HotlineForm, do_hotline, "关联12345热线工单号"),
}


# ---------------------------------------------------------------- hotline orders (12345 push)
class HotlineOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    order_no: str = Field(pattern=H.ORDER_NO.pattern, description="12345工单号")
    received_at: datetime = Field(description="受理时间（ISO 8601；无时区按北京时间）")
    compound_id: int | None = None
    compound: str | None = Field(None, max_length=64, description="小区名（没有 compound_id 时按名称或地址匹配）")
    address: str | None = Field(None, max_length=256)
    content: str | None = Field(None, max_length=4000)
    category: str | None = Field(None, max_length=64)
    status: str | None = Field(None, max_length=32)


class HotlineBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    orders: list[HotlineOrderIn] = Field(min_length=1, max_length=1000)


async def hotline_rows(deps: Deps, user: Principal, batch: HotlineBatch) -> list[H.HotlineRow]:
    """The batch as import rows; 403 unless the user sees both the compound each order moves to
    and the one an existing order with that number belongs to now (an unmatched order: district
    staff only), so a secretary can neither push into nor pull orders out of another compound."""
    from bot.web.views.notices import aware

    rows = []
    for index, order in enumerate(batch.orders):
        compound_id = order.compound_id
        if compound_id is not None and compound_id not in deps.org.compounds:
            from bot.web.errors import invalid

            raise invalid(f"orders.{index}.compound_id", T.UNKNOWN_COMPOUND.format(name=compound_id))
        if compound_id is None:
            compound_id = H._match_compound(deps.org, order.compound, order.address)  # noqa: SLF001
        if compound_id is not None and not user.sees(compound_id) or compound_id is None and not user.is_district:
            raise forbidden()
        rows.append(H.HotlineRow(order_no=order.order_no, received_at=aware(deps.clock, order.received_at),
                                 compound_id=compound_id, content=order.content, address=order.address,
                                 category=order.category, status=order.status))
    current = await H.current_compounds(deps.session, [r.order_no for r in rows])
    if any(not user.sees(compound_id) for compound_id in current.values()):
        raise forbidden()
    return rows
