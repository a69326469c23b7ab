"""Volunteer posts (设岗定责): a secretary defines posts with duties and a schedule, members
sign up (认岗), are reminded before their duty times and report duties done (到岗/打卡).
Duty reports feed the same service record and points as micro-wishes.

Schedules are typed the way people say them: "每周六 9:00", "每天 8:00-9:00", "工作日 19:00",
"周二、周四 晚上7点", "周一至周五 7:30"; ``parse_schedule`` turns them into
``{"days": [0..6], "start": "HH:MM", "end": "HH:MM" | None}`` (Monday = 0, district-local).

Query functions for the digests and the dashboard: ``list_posts(session, compound_id)`` →
``PostInfo`` rows (post and holder names); ``duty_reports_between(session, compound_ids,
since, until)`` → {post_id: reports}.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import record_event
from bot.models import Person
from bot.models.members import DutyReport, PointKind, PostSignup, SignupState, VolunteerPost
from bot.services import Actor, Deps, ServiceError
from bot.services.chat_words import normalize, parse_number
from bot.services.member_points import credit, point_value
from bot.services.members import MEMBER_ROLES, require_staff, tell
from bot.texts import wishes as T

NAME_MAX = 20
DUTIES_MAX = 500
NOTE_MAX = 200
CAPACITY_MAX = 50
REMIND_MINUTES = 60  # per compound: settings post_remind_minutes

WEEKDAY_LABELS = "一二三四五六日"
_DAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": None,
        "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_DAY_CHARS = "一二三四五六日天1-7"
_WEEKDAY = re.compile(
    rf"(?:每周|周|星期|礼拜)([{_DAY_CHARS}])(?:\s*(?:至|到|-|~|—)\s*(?:周|星期|礼拜)?([{_DAY_CHARS}]))?"
    rf"((?:\s*[、,，和及]\s*(?:周|星期|礼拜)?[{_DAY_CHARS}])*)")
_CLOCK = re.compile(
    r"(?P<period>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)?\s*(?P<hour>\d{1,2})\s*"
    r"(?:[:：]\s*(?P<minute>\d{2})|点\s*(?:(?P<half>半)|(?P<minute2>\d{1,2})\s*分?)?)")


class ScheduleError(ServiceError):
    pass


def _clock(m: re.Match, default_period: str | None = None) -> time:
    hour = int(m.group("hour"))
    minute = int(m.group("minute") or m.group("minute2") or (30 if m.group("half") else 0))
    period = m.group("period") or default_period
    if period in ("下午", "傍晚", "晚上") and hour < 12:
        hour += 12
    if period == "中午" and hour < 11:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleError(T.SCHEDULE_BAD_TIME)
    return time(hour, minute)


def parse_schedule(text: str) -> dict | None:
    """A duty schedule from words; None when there are no fixed times ("随时", "不定期")."""
    t = normalize(text)
    if not t or re.fullmatch(r"随时|不定期|不定时|无|灵活|按需", t):
        return None
    days: set[int] = set()
    if re.search(r"每天|每日|天天", t):
        days |= set(range(7))
    if "工作日" in t:
        days |= set(range(5))
    if re.search(r"周末|双休", t):
        days |= {5, 6}
    rest = re.sub(r"每天|每日|天天|工作日|周末|双休日?", " ", t)
    for m in _WEEKDAY.finditer(rest):
        first, last = _DAY[m.group(1)], _DAY.get(m.group(2) or "", None)
        if first is None:
            continue
        if last is not None and m.group(2):
            span = range(first, last + 1) if last >= first else [*range(first, 7), *range(0, last + 1)]
            days |= set(span)
        else:
            days.add(first)
        for extra in re.findall(rf"[{_DAY_CHARS}]", m.group(3) or ""):
            if _DAY.get(extra) is not None:
                days.add(_DAY[extra])
    rest = _WEEKDAY.sub(" ", rest)
    clocks = list(_CLOCK.finditer(rest))
    if not clocks:
        if days:
            raise ScheduleError(T.SCHEDULE_NEEDS_TIME)
        raise ScheduleError(T.SCHEDULE_UNREADABLE)
    start = _clock(clocks[0])
    end = _clock(clocks[1], clocks[0].group("period")) if len(clocks) > 1 else None
    if end is not None and end <= start:
        raise ScheduleError(T.SCHEDULE_END_BEFORE_START)
    return {"days": sorted(days or range(7)), "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M") if end else None}


def describe_schedule(schedule: dict | None) -> str:
    if not schedule:
        return T.SCHEDULE_NONE
    days = schedule.get("days") or []
    if len(days) == 7:
        when = "每天"
    elif days == [0, 1, 2, 3, 4]:
        when = "工作日"
    elif days == [5, 6]:
        when = "周末"
    else:
        when = "每周" + "、".join(WEEKDAY_LABELS[d] for d in days)
    span = schedule["start"] + (f"-{schedule['end']}" if schedule.get("end") else "")
    return f"{when} {span}"


def slot_on(schedule: dict | None, day: date, tz) -> datetime | None:  # noqa: ANN001
    """The duty's start on a local day, or None when there is no duty that day."""
    if not schedule or day.weekday() not in schedule.get("days", []):
        return None
    hour, minute = (int(x) for x in schedule["start"].split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def next_slot(schedule: dict | None, after_local: datetime) -> datetime | None:
    if not schedule:
        return None
    for offset in range(8):
        slot = slot_on(schedule, after_local.date() + timedelta(days=offset), after_local.tzinfo)
        if slot is not None and slot > after_local:
            return slot
    return None


# ------------------------------------------------------------------ reading
def post_number(post_id: int) -> str:
    return f"P{post_id}"


@dataclass
class PostInfo:
    post: VolunteerPost
    holders: list[str]

    @property
    def number(self) -> str:
        return post_number(self.post.id)


async def list_posts(session: AsyncSession, compound_id: int) -> list[PostInfo]:
    posts = list((await session.execute(select(VolunteerPost).where(
        VolunteerPost.compound_id == compound_id, VolunteerPost.active.is_(True)).order_by(VolunteerPost.id))).scalars())
    if not posts:
        return []
    holders = (await session.execute(
        select(PostSignup.post_id, Person.name).join(Person, Person.id == PostSignup.person_id)
        .where(PostSignup.post_id.in_([p.id for p in posts]), PostSignup.state == SignupState.ACTIVE)
        .order_by(PostSignup.id))).all()
    by_post: dict[int, list[str]] = {}
    for post_id, name in holders:
        by_post.setdefault(post_id, []).append(name)
    return [PostInfo(p, by_post.get(p.id, [])) for p in posts]


async def find_post(session: AsyncSession, compound_id: int | None, ref: str) -> VolunteerPost:
    """A post by number ("P3", "3") or by name within a compound."""
    ref = normalize(ref)
    number = parse_number(ref, "P")
    if number is not None:
        post = await session.get(VolunteerPost, number)
        if post is None or not post.active:
            raise ServiceError(T.POST_UNKNOWN.format(ref=post_number(number)))
        return post
    query = select(VolunteerPost).where(VolunteerPost.name == ref, VolunteerPost.active.is_(True))
    if compound_id is not None:
        query = query.where(VolunteerPost.compound_id == compound_id)
    found = list((await session.execute(query)).scalars())
    if len(found) != 1:
        raise ServiceError(T.POST_UNKNOWN.format(ref=ref[:20]))
    return found[0]


async def held_posts(session: AsyncSession, person_id: int) -> list[VolunteerPost]:
    return list((await session.execute(select(VolunteerPost).join(PostSignup, PostSignup.post_id == VolunteerPost.id)
                                       .where(PostSignup.person_id == person_id, PostSignup.state == SignupState.ACTIVE,
                                              VolunteerPost.active.is_(True)).order_by(VolunteerPost.id))).scalars())


async def duty_reports_between(session: AsyncSession, compound_ids: Iterable[int] | None, since: datetime,
                               until: datetime) -> dict[int, int]:
    query = (select(DutyReport.post_id, func.count()).join(VolunteerPost, VolunteerPost.id == DutyReport.post_id)
             .where(DutyReport.at >= since, DutyReport.at < until).group_by(DutyReport.post_id))
    if compound_ids is not None:
        query = query.where(VolunteerPost.compound_id.in_(list(compound_ids)))
    return dict((await session.execute(query)).all())


# ------------------------------------------------------------------ changing
async def create_post(deps: Deps, actor: Actor, compound_id: int, name: str, *, duties: str | None = None,
                      schedule_text: str | None = None, capacity: int | None = None) -> VolunteerPost:
    require_staff(actor, compound_id, deps.org)
    name = normalize(name)
    if not name or len(name) > NAME_MAX:
        raise ServiceError(T.POST_BAD_NAME.format(limit=NAME_MAX))
    if parse_number(name, "P") is not None:
        raise ServiceError(T.POST_BAD_NAME.format(limit=NAME_MAX))
    if duties and len(duties) > DUTIES_MAX:
        raise ServiceError(T.TOO_LONG.format(what="职责", limit=DUTIES_MAX))
    if capacity is not None and not 1 <= capacity <= CAPACITY_MAX:
        raise ServiceError(T.POST_BAD_CAPACITY.format(limit=CAPACITY_MAX))
    schedule = parse_schedule(schedule_text) if schedule_text else None
    clash = (await deps.session.execute(select(VolunteerPost.id).where(
        VolunteerPost.compound_id == compound_id, VolunteerPost.name == name, VolunteerPost.active.is_(True)))).first()
    if clash:
        raise ServiceError(T.POST_EXISTS.format(name=name, number=post_number(clash[0])))
    post = VolunteerPost(compound_id=compound_id, name=name, duties=duties, schedule=schedule,
                         schedule_text=(schedule_text or "")[:64] or None, capacity=capacity, holder_count=0,
                         active=True, created_by=actor.person_id, created_at=deps.clock.now())
    deps.session.add(post)
    await deps.session.flush()
    record_event(deps.session, "post", post.id, "created", deps.clock.now(), actor=actor, to_state="active", note=name)
    return post


async def close_post(deps: Deps, actor: Actor, post_id: int) -> VolunteerPost:
    post = await deps.session.get(VolunteerPost, post_id)
    if post is None or not post.active:
        raise ServiceError(T.POST_UNKNOWN.format(ref=post_number(post_id)))
    require_staff(actor, post.compound_id, deps.org)
    post.active = False
    now = deps.clock.now()
    signups = list((await deps.session.execute(select(PostSignup).where(
        PostSignup.post_id == post.id, PostSignup.state == SignupState.ACTIVE))).scalars())
    for signup in signups:
        signup.state, signup.left_at = SignupState.LEFT, now
        tell(deps, signup.person_id, T.POST_CLOSED_TO_HOLDER.format(name=post.name), ref=("post", post.id))
    post.holder_count = 0
    record_event(deps.session, "post", post.id, "closed", deps.clock.now(), actor=actor,
                 from_state="active", to_state="closed")
    return post


async def sign_up(deps: Deps, actor: Actor, post_id: int) -> VolunteerPost:
    post = await deps.session.get(VolunteerPost, post_id)
    if post is None or not post.active:
        raise ServiceError(T.POST_UNKNOWN.format(ref=post_number(post_id)))
    if actor.person_id is None:
        raise ServiceError(T.CLAIM_CHAT_ONLY)
    if not actor.roles.has_any(MEMBER_ROLES, post.compound_id):
        raise ServiceError(T.POST_NOT_MEMBER.format(compound=deps.org.name_of(post.compound_id)))
    signup = (await deps.session.execute(select(PostSignup).where(
        PostSignup.post_id == post.id, PostSignup.person_id == actor.person_id))).scalar_one_or_none()
    if signup is not None and signup.state == SignupState.ACTIVE:
        raise ServiceError(T.POST_ALREADY.format(name=post.name))
    taken = await deps.session.execute(
        update(VolunteerPost)
        .where(VolunteerPost.id == post.id, VolunteerPost.active.is_(True),
               VolunteerPost.capacity.is_(None) | (VolunteerPost.holder_count < VolunteerPost.capacity))
        .values(holder_count=VolunteerPost.holder_count + 1).execution_options(synchronize_session=False))
    await deps.session.refresh(post)
    if taken.rowcount != 1:
        raise ServiceError(T.POST_FULL.format(name=post.name, capacity=post.capacity))
    now = deps.clock.now()
    if signup is None:
        deps.session.add(PostSignup(post_id=post.id, person_id=actor.person_id, state=SignupState.ACTIVE,
                                    joined_at=now))
    else:
        signup.state, signup.joined_at, signup.left_at, signup.last_reminded_for = SignupState.ACTIVE, now, None, None
    await deps.session.flush()
    record_event(deps.session, "post", post.id, "signed_up", deps.clock.now(), actor=actor, to_state="active")
    return post


async def leave(deps: Deps, actor: Actor, post_id: int) -> VolunteerPost:
    post = await deps.session.get(VolunteerPost, post_id)
    if post is None:
        raise ServiceError(T.POST_UNKNOWN.format(ref=post_number(post_id)))
    result = await deps.session.execute(
        update(PostSignup).where(PostSignup.post_id == post.id, PostSignup.person_id == actor.person_id,
                                 PostSignup.state == SignupState.ACTIVE)
        .values(state=SignupState.LEFT, left_at=deps.clock.now()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ServiceError(T.POST_NOT_HELD.format(name=post.name))
    await deps.session.execute(update(VolunteerPost).where(VolunteerPost.id == post.id, VolunteerPost.holder_count > 0)
                               .values(holder_count=VolunteerPost.holder_count - 1)
                               .execution_options(synchronize_session=False))
    await deps.session.refresh(post)
    record_event(deps.session, "post", post.id, "left", deps.clock.now(), actor=actor,
                 from_state="active", to_state="left")
    return post


@dataclass
class DutyResult:
    post: VolunteerPost
    report: DutyReport
    points: int
    month_reports: int


async def report_duty(deps: Deps, actor: Actor, post_id: int | None, note: str | None = None) -> DutyResult:
    """Record a duty done today; without a post, the one post the member holds."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ServiceError(T.TOO_LONG.format(what="备注", limit=NOTE_MAX))
    if actor.person_id is None:
        raise ServiceError(T.CLAIM_CHAT_ONLY)
    held = await held_posts(deps.session, actor.person_id)
    if post_id is None:
        if not held:
            raise ServiceError(T.DUTY_NO_POST)
        if len(held) > 1:
            raise ServiceError(T.DUTY_WHICH_POST.format(posts="、".join(f"{post_number(p.id)} {p.name}" for p in held)))
        post = held[0]
    else:
        post = next((p for p in held if p.id == post_id), None)
        if post is None:
            found = await deps.session.get(VolunteerPost, post_id)
            if found is None or not found.active:
                raise ServiceError(T.POST_UNKNOWN.format(ref=post_number(post_id)))
            raise ServiceError(T.POST_NOT_HELD.format(name=found.name))
    now = deps.clock.now()
    today = deps.clock.local(now).date()
    dup = (await deps.session.execute(select(DutyReport.id).where(
        DutyReport.post_id == post.id, DutyReport.person_id == actor.person_id, DutyReport.duty_date == today))).first()
    if dup:
        raise ServiceError(T.DUTY_ALREADY.format(name=post.name))
    report = DutyReport(post_id=post.id, person_id=actor.person_id, duty_date=today, at=now, note=note or None)
    deps.session.add(report)
    # A double tap racing past the check above hits the unique constraint: that message fails
    # as a whole and the first report stands.
    await deps.session.flush()
    points = point_value(deps.org, post.compound_id, PointKind.DUTY)
    await credit(deps.session, actor.person_id, post.compound_id, PointKind.DUTY, report.id, points, now, post.name)
    record_event(deps.session, "post", post.id, "duty_reported", deps.clock.now(), actor=actor, note=note or None)
    local = deps.clock.local(now)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month_reports = (await deps.session.execute(select(func.count()).select_from(DutyReport).where(
        DutyReport.person_id == actor.person_id, DutyReport.post_id == post.id,
        DutyReport.at >= month_start))).scalar_one()
    return DutyResult(post, report, points, month_reports)


async def remind_duties(deps: Deps) -> int:
    """Remind holders of a duty starting within the compound's lead time (default 60 minutes).

    Each (signup, slot) is reminded once: ``last_reminded_for`` keeps the slot."""
    now = deps.clock.now()
    local = deps.clock.local(now)
    rows = (await deps.session.execute(
        select(PostSignup, VolunteerPost).join(VolunteerPost, VolunteerPost.id == PostSignup.post_id)
        .where(PostSignup.state == SignupState.ACTIVE, VolunteerPost.active.is_(True),
               VolunteerPost.schedule.is_not(None)))).all()
    sent = 0
    for signup, post in rows:
        lead = deps.org.setting(post.compound_id, "post_remind_minutes", REMIND_MINUTES)
        lead = timedelta(minutes=lead if isinstance(lead, int) and lead > 0 else REMIND_MINUTES)
        for day in (local.date(), local.date() + timedelta(days=1)):
            slot = slot_on(post.schedule, day, deps.clock.tz)
            if slot is None or not (slot - lead <= local < slot):
                continue
            slot_utc = slot.astimezone(now.tzinfo)
            if signup.last_reminded_for is not None and signup.last_reminded_for >= slot_utc:
                continue
            signup.last_reminded_for = slot_utc
            tell(deps, signup.person_id, T.DUTY_REMINDER.format(
                name=post.name, time=slot.strftime("%H:%M"), duties=post.duties or T.DUTIES_NONE,
                number=post_number(post.id)), ref=("post", post.id))
            sent += 1
    return sent
