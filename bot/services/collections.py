"""Collections (统计/接龙): a notice that asks for a structured reply. Residents answer in
free form ("3号楼2单元 2人"), in the group or privately; the bot parses and confirms, a second
answer replaces the first, silent groups get one reminder before the deadline, and the
organiser gets a per-building tally in chat and the full table as XLSX (dashboard)."""
from __future__ import annotations


import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Sequence

from sqlalchemy import and_, bindparam, func, or_, select

from bot import timefmt
from bot.models import ChatGroup, InboundMessage, Person, Priority
from bot.models.notices import Collection, CollectionAnswer, Notice, NoticeDelivery, NoticeStatus
from bot.privacy import mask_pii
from bot.services import Actor, Deps, ServiceError
from bot.services.gate import CachedFlag
from bot.services.notice_targets import get_notice
from bot.services.timeparse import TimeParseError, parse_when
from bot.spreadsheet import safe_row, sheet_title
from bot.texts import notices as T
from nlp.buildings import BUILDING_MARKERS, building_label, cn_to_int

MAX_FIELDS = 8
MAX_TITLE = 30
OPEN_WITHOUT_DEADLINE = timedelta(days=7)   # a collection with no deadline closes after this
REMIND_BEFORE = timedelta(hours=2)          # the one reminder to silent groups
LATE_REPLY_WINDOW = timedelta(days=1)       # answers this soon after closing get "已截止"
DEFAULT_DEADLINE_TIME = time(23, 59)        # "截止 12-05" means the end of that day
STRUCTURED = ("building", "unit", "room", "count", "phone")
EXPLICIT_PREFIX = re.compile(r"^\s*(?:报名|接龙|回执|登记|回复)\s*[:：]?\s*")


# ---------------------------------------------------------------- the request
@dataclass(frozen=True)
class CollectionSpec:
    title: str
    fields: tuple[str, ...]
    deadline: datetime | None
    description: str = ""


def field_kind(name: str) -> str:
    if "单元" in name:
        return "unit"
    if any(k in name for k in ("电话", "手机", "联系方式")):
        return "phone"
    if any(k in name for k in ("房号", "房间", "门牌", "户号")) or name in ("室", "房"):
        return "room"
    if any(k in name for k in ("楼号", "楼栋", "几号楼")) or name in ("楼", "栋", "楼宇"):
        return "building"
    if any(k in name for k in ("人数", "数量", "份数", "几人", "人次", "名额")) or name in ("人", "几位"):
        return "count"
    if any(k in name for k in ("姓名", "名字", "联系人", "称呼")):
        return "name"
    return "text"


def parse_spec(text: str, now_local: datetime) -> CollectionSpec:
    """"议事日报名: 楼号 单元 人数 截止 12-05 18:00" (+ description lines)."""
    first, _, description = (text or "").strip().partition("\n")
    first = first.strip()
    if not first:
        raise ServiceError(T.COLLECTION_BAD_SPEC)
    deadline = None
    m = re.search(r"(?:截止|截至|截止时间|截止到)\s*[:：]?\s*", first)
    if m:
        when_text = first[m.end():]
        first = first[:m.start()].strip()
        try:
            deadline, _rest = parse_when(when_text, now_local, date_only_time=DEFAULT_DEADLINE_TIME)
        except TimeParseError:
            deadline = None
        if deadline is None:
            raise ServiceError(T.BAD_TIME.format(text=when_text.strip()[:20]))
    m = re.match(r"^(.+?)[:：](.*)$", first)
    if m:
        title, field_text = m.group(1), m.group(2)
    else:
        title, _, field_text = first.partition(" ")
    title = title.strip()[:MAX_TITLE]
    fields = tuple(f for f in re.split(r"[\s、,，/；;]+", field_text.strip()) if f)
    if not title:
        raise ServiceError(T.COLLECTION_BAD_SPEC)
    if not fields:
        raise ServiceError(T.COLLECTION_NO_FIELDS)
    if len(fields) > MAX_FIELDS:
        raise ServiceError(T.COLLECTION_TOO_MANY_FIELDS.format(limit=MAX_FIELDS))
    if deadline is not None and deadline <= now_local:
        when = timefmt.moment_near(deadline.astimezone(now_local.tzinfo), now_local.date())
        raise ServiceError(T.COLLECTION_DEADLINE_PAST.format(when=when))
    return CollectionSpec(title=title, fields=tuple(f[:16] for f in fields), deadline=deadline,
                          description=description.strip())


_EXAMPLES = {"building": "3号楼", "unit": "2单元", "room": "501", "count": "2人", "phone": "手机号",
             "name": "张三"}


def example(fields: Sequence[str]) -> str:
    parts: list[str] = []
    for name in fields:
        kind = field_kind(name)
        sample = _EXAMPLES.get(kind, f"{name}…")
        if kind == "unit" and parts and parts[-1].endswith("号楼"):
            parts[-1] += sample  # "3号楼2单元", as people write it
        else:
            parts.append(sample)
    return " ".join(parts)


def render_request(deps: Deps, collection: Collection, description: str) -> str:
    deadline = T.COLLECTION_DEADLINE.format(when=timefmt.stored(deps.clock, collection.deadline)) if collection.deadline else ""
    body = f"{description}\n" if description and description != collection.title else ""
    return T.COLLECTION_BODY.format(title=collection.title, description=body, fields=" ".join(collection.fields),
                                    example=example(collection.fields), deadline=deadline)


def notice_text(spec: CollectionSpec) -> str:
    """What is kept as the notice's text: the description, else the title."""
    return spec.description or spec.title


# ---------------------------------------------------------------- answers
_CN = "一二三四五六七八九十两"
_NUM = rf"(\d{{1,3}}|[{_CN}]{{1,3}})"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


@dataclass
class Parsed:
    """What one message gives for a collection's fields."""

    values: dict[str, Any]   # field name -> value, only the fields found
    missing: list[str]       # structured fields (楼号, 单元, 人数 …) not found
    leftover: str            # the words no field took

    def found_structured(self, fields: Sequence[str]) -> bool:
        return any(field_kind(f) in STRUCTURED and f in self.values for f in fields)


# Words around an answer that are not part of it ("我家4栋 1人", "报名，谢谢").
_FILLER = re.compile(r"我家|我们家?|我|家里|家|共|一共|总共|报名|参加|谢谢|好的|收到|\+1|了|的|啦")
PARTIAL_MAX_CHARS = 30


def looks_like_answer(parsed: Parsed, fields: Sequence[str], text: str) -> bool:
    """A short line of field values with nothing else in it ("4栋 1人", "2单元"): an answer even
    when a part is missing. "3号楼电梯坏了" has words left over and is not one."""
    if len(text.strip()) > PARTIAL_MAX_CHARS or not parsed.found_structured(fields):
        return False
    return len(_FILLER.sub("", parsed.leftover).replace(" ", "")) <= 1


def parse_answer(fields: Sequence[str], text: str, sender_name: str = "") -> dict[str, Any] | None:
    """The values of ``fields`` found in ``text``, or None when a structured one is missing."""
    parsed = parse_parts(fields, text, sender_name)
    if parsed.missing:
        return None
    kinds = {name: field_kind(name) for name in fields}
    if not (set(kinds.values()) & set(STRUCTURED)) and not any(
            parsed.values.get(n) for n, k in kinds.items() if k == "text"):
        return None
    return parsed.values


def parse_parts(fields: Sequence[str], text: str, sender_name: str = "") -> Parsed:
    """Every value of ``fields`` that ``text`` gives, and which structured ones it lacks."""
    work = _norm(text)
    kinds = {name: field_kind(name) for name in fields}
    wanted = set(kinds.values())
    found: dict[str, Any] = {}

    def take(pattern: str, kind: str, group: int = 1, flags: int = 0) -> None:
        nonlocal work
        if kind not in wanted or kind in found:
            return
        m = re.search(pattern, work, flags)
        if m:
            found[kind] = m.group(group)
            work = work[:m.start()] + " " + work[m.end():]

    if "phone" in wanted:
        take(r"(?<!\d)(1[3-9]\d{9})(?!\d)", "phone")
    if {"building", "unit"} <= wanted:  # "3-2-501" / "3-2"
        m = re.search(r"(?<![\d-])(\d{1,3})\s*-\s*(\d{1,2})(?:\s*-\s*(\d{3,4}))?(?![\d-])", work)
        if m:
            found["building"], found["unit"] = m.group(1), m.group(2)
            if m.group(3) and "room" in wanted:
                found["room"] = m.group(3)
            work = work[:m.start()] + " " + work[m.end():]
    # The grammar's building forms; in an answer to a 楼号 field "3楼" names a building too.
    take(_NUM + rf"\s*(?:{BUILDING_MARKERS}|号(?=\s*\d+\s*单元)|楼(?!道|梯|下|上))", "building")
    take(_NUM + r"\s*单元", "unit")
    take(r"(?<!\d)(\d{3,4})(?!\d)\s*(?:室|号|房)?", "room")
    take(r"(?:人数|数量|份数)\s*[:：]?\s*" + _NUM, "count")
    take(_NUM + r"\s*(?:个人|人|位|名|口|份|个)", "count")
    if "name" in wanted:
        take(r"(?:姓名|名字|联系人|称呼)\s*[:：]?\s*([\u4e00-\u9fa5A-Za-z·]{1,12})", "name")
    if "count" in wanted and "count" not in found:
        bare = re.findall(r"(?<!\d)(\d{1,2})(?!\d)", work)
        if len(bare) == 1 and all(k in found for k in wanted & set(STRUCTURED) - {"count"}):
            found["count"] = bare[0]
            work = re.sub(r"(?<!\d)\d{1,2}(?!\d)", " ", work, count=1)
    missing = [name for name, kind in kinds.items() if kind in STRUCTURED and kind not in found]
    values: dict[str, Any] = {}
    leftover = re.sub(r"[\s,，.。;；、:：!！]+", " ", EXPLICIT_PREFIX.sub("", work)).strip()
    unused = leftover
    for name, kind in kinds.items():
        if kind in ("building", "unit", "count"):
            if kind in found:
                number = cn_to_int(str(found[kind]))
                values[name] = number if kind == "count" else str(number)
        elif kind in ("room", "phone"):
            if kind in found:
                values[name] = str(found[kind])
        elif kind == "name":
            values[name] = found.get("name") or sender_name
        else:
            m = re.search(re.escape(name) + r"\s*[:：]\s*(\S+)", _norm(text))
            values[name] = m.group(1) if m else leftover[:100]
            leftover = "" if not m else leftover
    return Parsed(values, missing, unused)


def format_values(fields: Sequence[str], values: dict[str, Any]) -> str:
    parts = []
    for name in fields:
        value = values.get(name)
        if value in (None, ""):
            continue
        kind = field_kind(name)
        if kind == "building":
            parts.append(f"{value}号楼")
        elif kind == "unit":
            parts.append(f"{value}单元")
        elif kind == "count":
            parts.append(f"{name}{value}")
        elif kind == "phone":
            parts.append(mask_pii(str(value)))
        else:
            parts.append(f"{name}：{value}" if kind == "text" else str(value))
    return " ".join(parts)


@dataclass
class AnswerResult:
    collection: Collection
    notice: Notice
    answer: CollectionAnswer | None
    outcome: str  # "created" / "updated" / "partial" / "format" / "closed"
    missing: list[str] = field(default_factory=list)
    roster_hint: str = ""  # "2单元": the missing part as the roster has it

    def reply(self, deps: Deps) -> str:
        c = self.collection
        if self.outcome == "partial":
            assert self.answer is not None
            ask = (T.ANSWER_ASK_ROSTER.format(hint=self.roster_hint) if self.roster_hint
                   else T.ANSWER_ASK.format(example=example(self.missing)))
            return T.ANSWER_PARTIAL.format(title=c.title, values=format_values(c.fields, self.answer.values),
                                           missing="、".join(self.missing), ask=ask)
        if self.outcome == "format":
            return T.ANSWER_FORMAT.format(title=c.title, fields=" ".join(c.fields), example=example(c.fields))
        if self.outcome == "closed":
            return T.ANSWER_CLOSED.format(title=c.title, when=timefmt.stored(deps.clock, c.closed_at or c.deadline),
                                          author=self.notice.author_name or "发布人")
        assert self.answer is not None
        text = T.ANSWER_OK if self.outcome == "created" else T.ANSWER_UPDATED
        return text.format(title=c.title, values=format_values(c.fields, self.answer.values))


def _open_clause(now: Any):  # noqa: ANN202
    return and_(Notice.kind == "collection", Notice.status == NoticeStatus.SENT, Collection.closed_at.is_(None),
                or_(Collection.deadline.is_(None), Collection.deadline > now))


def _candidates_query(private: bool, with_compound: bool):  # noqa: ANN202
    """See ``_candidates``; the times and ids are bound at each run."""
    now, late_since = bindparam("now"), bindparam("late_since")
    if not private:
        reach = NoticeDelivery.group_id == bindparam("group_id")
    else:
        spoke_in = select(InboundMessage.group_id).where(
            InboundMessage.person_id == bindparam("person_id"), InboundMessage.group_id.is_not(None)).distinct()
        conditions = [NoticeDelivery.person_id == bindparam("person_id"), NoticeDelivery.group_id.in_(spoke_in)]
        if with_compound:
            conditions.append(NoticeDelivery.compound_id == bindparam("compound_id"))
        reach = or_(*conditions)
    open_now = _open_clause(now)
    late = and_(Notice.kind == "collection", Notice.status == NoticeStatus.SENT,
                or_(Collection.closed_at >= late_since,
                    and_(Collection.deadline <= now, Collection.deadline >= late_since)))
    return (select(Collection, Notice, open_now.label("open_now")).join(Notice, Notice.id == Collection.notice_id)
            .where(or_(open_now, late), Notice.id.in_(select(NoticeDelivery.notice_id).where(reach)))
            .order_by(open_now.desc(), Notice.sent_at.desc(), Notice.id.desc()).limit(10))


# Built once (in a group; privately, with or without a compound): every group message asks
# while a collection is open, and building the statement cost more than running it.
_CANDIDATES = {(private, with_compound): _candidates_query(private, with_compound)
               for private, with_compound in ((False, False), (True, False), (True, True))}


async def _candidates(deps: Deps, person: Person, group_id: int | None
                      ) -> tuple[list[tuple[Collection, Notice]], list[tuple[Collection, Notice]]]:
    """Collections this message could answer, newest first, as (open now, closed within
    LATE_REPLY_WINDOW), five of each at most, from one read (open ones sort first: the closed
    matter only when none is open). In a group: those sent to it; privately: those sent to the
    person, to their compound's groups, or to a group they have written in."""
    now = deps.clock.now()
    private = group_id is None
    statement = _CANDIDATES[(private, private and person.compound_id is not None)]
    rows = (await deps.session.execute(statement, {
        "now": now, "late_since": now - LATE_REPLY_WINDOW, "group_id": group_id, "person_id": person.id,
        "compound_id": person.compound_id})).all()
    open_rows = [(c, n) for c, n, is_open in rows if is_open][:5]
    closed_rows = [(c, n) for c, n, is_open in rows if not is_open][:5]
    return open_rows, closed_rows


async def _query_any_recent(deps: Deps) -> bool:
    """Is a collection open, or closed within LATE_REPLY_WINDOW? (Late answers still count.)"""
    since = deps.clock.now() - LATE_REPLY_WINDOW
    found = (await deps.session.execute(
        select(Collection.id).join(Notice, Notice.id == Collection.notice_id)
        .where(Notice.kind == "collection", Notice.status.in_([NoticeStatus.SENT, NoticeStatus.DRAFT,
                                                               NoticeStatus.SCHEDULED]),
               or_(Collection.closed_at.is_(None), Collection.closed_at >= since)).limit(1))).first()
    return found is not None


any_recent = CachedFlag(_query_any_recent)


MAX_ANSWER_CHARS = 200  # longer texts are reports or chat, not a line of a 接龙


def collections_changed() -> None:
    """A collection was created or closed in this process: look again on the next message."""
    any_recent.reset()


def may_be_answer(text: str) -> bool:
    return 0 < len(text.strip()) <= MAX_ANSWER_CHARS


async def answer(deps: Deps, person: Person, text: str, *, group_id: int | None,
                 message_id: int | None = None) -> AnswerResult | None:
    """A resident's message as an answer to an open collection; None when it is not one."""
    text = (text or "").strip()
    if not may_be_answer(text) or not await any_recent.get(deps):
        return None
    explicit = bool(EXPLICIT_PREFIX.match(text))
    candidates, recently_closed = await _candidates(deps, person, group_id)
    for collection, notice in candidates:
        values = parse_answer(collection.fields, text, person.name)
        is_explicit = explicit or text.startswith(collection.title)
        if values is None:
            parsed = parse_parts(collection.fields, text, person.name)
            if looks_like_answer(parsed, collection.fields, text) or (
                    is_explicit and parsed.found_structured(collection.fields)):
                return await _store_partial(deps, collection, notice, person, group_id, parsed, text, message_id)
            if is_explicit and collection is candidates[0][0]:
                return AnswerResult(collection, notice, None, "format")
            continue
        if not any(field_kind(f) in STRUCTURED for f in collection.fields) and not is_explicit:
            continue  # free-text collections need "接龙 …" so ordinary chat is not taken as an answer
        return await _store(deps, collection, notice, person, group_id, values, text, message_id)
    if candidates:
        return None
    for collection, notice in recently_closed:
        if looks_like_answer(parse_parts(collection.fields, text, person.name), collection.fields, text):
            return AnswerResult(collection, notice, None, "closed")
    return None


_ROSTER_PLACE = {"building": ("building", "{}号楼"), "unit": ("unit", "{}单元"), "room": ("room_no", "{}")}


def _roster_hint(person: Person, fields: Sequence[str], values: dict[str, Any], missing: Sequence[str]) -> str:
    """The missing place parts as the roster has them ("2单元"), when what was given agrees."""
    if not person.on_roster:
        return ""
    given = next((str(values[f]) for f in fields if field_kind(f) == "building" and f in values), None)
    if given is not None and given != (person.building or ""):
        return ""  # answering for another building: the roster says nothing about it
    parts = []
    for name in missing:
        attribute, shape = _ROSTER_PLACE.get(field_kind(name), (None, ""))
        value = getattr(person, attribute) if attribute else None
        if not value:
            return ""  # the roster knows only part of it: ask plainly
        parts.append(shape.format(value))
    return "".join(parts)


async def _store_partial(deps: Deps, collection: Collection, notice: Notice, person: Person,
                         group_id: int | None, parsed: Parsed, text: str, message_id: int | None) -> AnswerResult:
    """Keep what a partial answer gives (merged into the person's earlier answer, so "2单元"
    completes "4栋 1人"), and ask for the rest."""
    existing = (await deps.session.execute(select(CollectionAnswer).where(
        CollectionAnswer.collection_id == collection.id, CollectionAnswer.person_id == person.id))).scalar_one_or_none()
    earlier = dict(existing.values) if existing is not None else {}
    values = {**earlier, **{k: v for k, v in parsed.values.items() if k in parsed.values and
                            (field_kind(k) in STRUCTURED or k not in earlier)}}
    raw = f"{existing.raw_text} / {text}" if existing is not None else text
    result = await _store(deps, collection, notice, person, group_id, values, raw, message_id)
    missing = [f for f in collection.fields if field_kind(f) in STRUCTURED and f not in values]
    if missing:
        result.outcome = "partial"
        result.missing = missing
        result.roster_hint = _roster_hint(person, collection.fields, values, missing)
    return result


async def _store(deps: Deps, collection: Collection, notice: Notice, person: Person, group_id: int | None,
                 values: dict[str, Any], text: str, message_id: int | None) -> AnswerResult:
    now = deps.clock.now()
    building = next((str(values[f]) for f in collection.fields if field_kind(f) == "building" and f in values), None)
    existing = (await deps.session.execute(select(CollectionAnswer).where(
        CollectionAnswer.collection_id == collection.id, CollectionAnswer.person_id == person.id))).scalar_one_or_none()
    if existing is None:
        row = CollectionAnswer(collection_id=collection.id, person_id=person.id, person_name=person.name[:64],
                               group_id=group_id, building=building, values=values, raw_text=text[:500],
                               message_id=message_id, created_at=now, updated_at=now)
        deps.session.add(row)
        await deps.session.flush()
        return AnswerResult(collection, notice, row, "created")
    existing.values = values
    existing.building = building
    existing.raw_text = text[:500]
    existing.group_id = group_id if group_id is not None else existing.group_id
    existing.message_id = message_id
    existing.updated_at = now
    existing.revisions += 1
    return AnswerResult(collection, notice, existing, "updated")


# ---------------------------------------------------------------- tallies
@dataclass
class TallyRow:
    key: str
    answers: int
    totals: dict[str, int] = field(default_factory=dict)


@dataclass
class Tally:
    collection: Collection
    notice: Notice
    answers: int
    rows: list[TallyRow]
    totals: dict[str, int]
    silent_groups: list[str]
    closed: bool
    incomplete: int = 0  # partial answers still missing a part (the person was asked for it)


async def _collection_of(deps: Deps, actor: Actor, notice_id: int | None) -> tuple[Collection, Notice]:
    if notice_id is None:
        query = select(Collection, Notice).join(Notice, Notice.id == Collection.notice_id)
        if actor.person_id is not None:
            query = query.where(Notice.author_person_id == actor.person_id)
        else:
            query = query.where(Notice.author_web_user == actor.web_user)
        row = (await deps.session.execute(query.where(Notice.status == NoticeStatus.SENT)
                                          .order_by(Notice.id.desc()).limit(1))).first()
        if row is None:
            raise ServiceError(T.TALLY_NONE)
        return row[0], row[1]
    notice = await get_notice(deps, actor, notice_id)
    collection = (await deps.session.execute(select(Collection).where(
        Collection.notice_id == notice.id))).scalar_one_or_none()
    if collection is None:
        raise ServiceError(T.TALLY_NOT_COLLECTION.format(id=notice_id))
    return collection, notice


async def _tally(deps: Deps, collection: Collection, notice: Notice) -> Tally:
    answers = list((await deps.session.execute(select(CollectionAnswer).where(
        CollectionAnswer.collection_id == collection.id).order_by(CollectionAnswer.id))).scalars())
    count_fields = [f for f in collection.fields if field_kind(f) == "count"]
    has_building = any(field_kind(f) == "building" for f in collection.fields)
    deliveries = list((await deps.session.execute(select(NoticeDelivery).where(
        NoticeDelivery.notice_id == notice.id, NoticeDelivery.group_id.is_not(None)))).scalars())
    topics = {d.group_id: d.label for d in deliveries}
    rows: dict[str, TallyRow] = {}
    totals = {f: 0 for f in count_fields}
    for a in answers:
        if has_building:
            key = building_label(a.building) if a.building else T.TALLY_NO_BUILDING
        else:
            key = topics.get(a.group_id, T.EXPORT_PRIVATE) if a.group_id else T.EXPORT_PRIVATE
        row = rows.setdefault(key, TallyRow(key, 0, {f: 0 for f in count_fields}))
        row.answers += 1
        for f in count_fields:
            value = a.values.get(f)
            if isinstance(value, int):
                row.totals[f] += value
                totals[f] += value
    answered_groups = {a.group_id for a in answers if a.group_id}
    silent = [d.label for d in deliveries if d.group_id not in answered_groups]

    def order(row: TallyRow) -> tuple:
        digits = re.match(r"(\d+)", row.key)
        return (0, int(digits.group(1)), row.key) if digits else (1, 0, row.key)

    now = deps.clock.now()
    closed = collection.closed_at is not None or (collection.deadline is not None and collection.deadline <= now)
    structured = [f for f in collection.fields if field_kind(f) in STRUCTURED]
    incomplete = sum(1 for a in answers if any(f not in a.values for f in structured))
    return Tally(collection, notice, len(answers), sorted(rows.values(), key=order), totals, silent, closed,
                 incomplete)


async def tally(deps: Deps, actor: Actor, notice_id: int | None = None) -> Tally:
    """统计: the per-building (or per-group) tally of a collection."""
    collection, notice = await _collection_of(deps, actor, notice_id)
    return await _tally(deps, collection, notice)


def render_tally(deps: Deps, t: Tally) -> str:
    c = t.collection
    if t.closed:
        state = T.TALLY_CLOSED
    elif c.deadline:
        state = T.TALLY_OPEN.format(when=timefmt.stored(deps.clock, c.deadline))
    else:
        state = T.TALLY_OPEN_NO_DEADLINE
    totals = "".join(T.TALLY_TOTAL.format(field=f, value=v) for f, v in t.totals.items())
    lines = [T.TALLY_HEADER.format(title=c.title, id=t.notice.id, state=state, answers=t.answers, totals=totals)]
    for row in t.rows:
        row_totals = "".join(T.TALLY_LINE_TOTAL.format(field=f, value=v) for f, v in row.totals.items())
        lines.append(T.TALLY_LINE.format(key=row.key, answers=row.answers, totals=row_totals))
    if t.incomplete:
        lines.append(T.TALLY_INCOMPLETE.format(count=t.incomplete))
    if t.silent_groups:
        names = "、".join(t.silent_groups[:15]) + (T.PREVIEW_MORE if len(t.silent_groups) > 15 else "")
        lines.append(T.TALLY_SILENT_GROUPS.format(groups=names))
    return "\n".join(lines)


async def answer_counts(deps: Deps, notice_ids: Sequence[int]) -> dict[int, int]:
    rows = (await deps.session.execute(
        select(Collection.notice_id, func.count(CollectionAnswer.id))
        .outerjoin(CollectionAnswer, CollectionAnswer.collection_id == Collection.id)
        .where(Collection.notice_id.in_(list(notice_ids))).group_by(Collection.notice_id))).all()
    return dict(rows)


async def export_xlsx(deps: Deps, actor: Actor, notice_id: int) -> bytes:
    """The full table of answers as an XLSX workbook (for the dashboard's download)."""
    from openpyxl import Workbook

    collection, notice = await _collection_of(deps, actor, notice_id)
    answers = list((await deps.session.execute(select(CollectionAnswer).where(
        CollectionAnswer.collection_id == collection.id).order_by(CollectionAnswer.id))).scalars())
    topics = dict((await deps.session.execute(select(ChatGroup.id, ChatGroup.topic).where(
        ChatGroup.id.in_({a.group_id for a in answers if a.group_id})))).all())
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(collection.title, "回复")
    fixed = list(T.EXPORT_HEADERS)
    # Names, answers and group topics come from WeChat users: every cell goes through safe_row.
    sheet.append(safe_row(fixed[:2] + list(collection.fields) + fixed[2:]))
    for index, a in enumerate(answers, 1):
        source = topics.get(a.group_id, "") if a.group_id else T.EXPORT_PRIVATE
        when = timefmt.stored(deps.clock, a.updated_at)
        sheet.append(safe_row([index, a.person_name] + [a.values.get(f, "") for f in collection.fields]
                              + [source, when, a.revisions, a.raw_text]))
    t = await _tally(deps, collection, notice)
    summary = book.create_sheet("汇总")
    summary.append(safe_row(["分组", "回复数"] + list(t.totals)))
    for row in t.rows:
        summary.append(safe_row([row.key, row.answers] + [row.totals[f] for f in t.totals]))
    summary.append(safe_row(["合计", t.answers] + list(t.totals.values())))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- reminders and closing
def _remind_at(collection: Collection, sent_at: datetime) -> datetime | None:
    if collection.deadline is None:
        return None
    window = collection.deadline - sent_at
    if window <= timedelta(0):
        return None
    return collection.deadline - min(REMIND_BEFORE, window / 2)


async def remind_due(deps: Deps) -> int:
    """One reminder to each group with no answer yet, shortly before the deadline."""
    now = deps.clock.now()
    rows = (await deps.session.execute(select(Collection, Notice).join(Notice, Notice.id == Collection.notice_id)
                                       .where(_open_clause(now), Collection.reminded_at.is_(None),
                                              Collection.deadline.is_not(None)))).all()
    posted = 0
    for collection, notice in rows:
        remind_at = _remind_at(collection, notice.sent_at or notice.created_at)
        if remind_at is None or now < remind_at:
            continue
        collection.reminded_at = now
        answered = select(CollectionAnswer.group_id).where(CollectionAnswer.collection_id == collection.id,
                                                           CollectionAnswer.group_id.is_not(None))
        silent = list((await deps.session.execute(select(NoticeDelivery).where(
            NoticeDelivery.notice_id == notice.id, NoticeDelivery.group_id.is_not(None),
            NoticeDelivery.status != "failed", NoticeDelivery.group_id.not_in(answered)))).scalars())
        text = T.REMINDER.format(title=collection.title, when=timefmt.stored(deps.clock, collection.deadline),
                                 fields=" ".join(collection.fields), example=example(collection.fields))
        for delivery in silent:
            delivery.reminded_at = now
            deps.outbox.enqueue(deps.session, text, group_id=delivery.group_id, priority=Priority.BROADCAST,
                                ref=("collection_reminder", delivery.id))
            posted += 1
    return posted


async def close_due(deps: Deps) -> list[Collection]:
    """Close collections past their deadline and send the organiser the final tally."""
    now = deps.clock.now()
    rows = (await deps.session.execute(select(Collection, Notice).join(Notice, Notice.id == Collection.notice_id).where(
        Notice.kind == "collection", Notice.status == NoticeStatus.SENT, Collection.closed_at.is_(None),
        or_(Collection.deadline <= now,
            and_(Collection.deadline.is_(None), Notice.sent_at <= now - OPEN_WITHOUT_DEADLINE))))).all()
    closed = []
    for collection, notice in rows:
        collection.closed_at = now
        closed.append(collection)
        if notice.author_person_id is None:
            continue
        t = await _tally(deps, collection, notice)
        deps.outbox.enqueue(deps.session, T.FINAL_TO_AUTHOR.format(title=collection.title, id=notice.id,
                                                                   tally=render_tally(deps, t)),
                            person_id=notice.author_person_id, priority=Priority.BROADCAST)
    return closed
