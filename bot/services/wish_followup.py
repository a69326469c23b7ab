"""Wishes that don't fall through: a released wish is offered again, the secretary hears when
one keeps falling through, an appointment in a progress note holds the release, and the
digest can list open wishes with number and age.

Settings per compound: ``wish_reoffer_days`` (3: at most one new offer per wish in that time),
``wish_escalate_days`` (14: unclaimed that long, the branch is told; also after a second
release), ``wish_reoffer_to`` ("auto": a wish of a building goes privately to that building's
party members and volunteers, else to the compound's groups; "groups" | "members").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.models import Person, Priority, Role, RoleName
from bot.models.wishes import Wish, WishProgress, WishState
from bot.privacy import mask_pii
from bot.services import Deps
from bot.services.gate import CachedAnswer
from bot.services.members import branch_staff, compound_groups, reachable, tell
from bot.services.wish_queries import claims_of, public_line
from bot.texts import wishes as T

REOFFER_DAYS = 3
ESCALATE_DAYS = 14
ESCALATE_RELEASES = 2
HELPER_ROLES = (RoleName.PARTY_MEMBER, RoleName.VOLUNTEER)


def setting_days(org: Any, compound_id: int, key: str, default: int) -> int:
    """A compound's day-count setting (wish_release_days …): a positive whole number, else the default."""
    value = org.setting(compound_id, key, default)
    return value if isinstance(value, int) and value > 0 else default


# --------------------------------------------------------------------------- appointments
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_DATE = re.compile(
    r"(?P<rel>大后天|后天|明天|明日|今天)"
    r"|(?P<next>下)?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天])"
    r"|(?:(?P<m1>\d{1,2})月(?P<d1>\d{1,2})[日号]?)"
    r"|(?:(?<!\d)(?P<m2>\d{1,2})[-/.](?P<d2>\d{1,2})(?!\d))"
    r"|(?:(?<![\d月])(?P<d3>\d{1,2})[号日])"
)


def appointment_date(text: str, today: date) -> date | None:
    """The latest date a progress note names ("约好周六上午去", "12月10日上门"), if any."""
    found: list[date] = []
    for m in _DATE.finditer(text):
        try:
            if m["rel"]:
                found.append(today + timedelta(days={"今天": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}[m["rel"]]))
            elif m["wd"]:
                ahead = (_WEEKDAYS[m["wd"]] - today.weekday()) % 7
                if m["next"]:
                    ahead = 7 - today.weekday() + _WEEKDAYS[m["wd"]]
                found.append(today + timedelta(days=ahead or 7))
            elif m["m1"] or m["m2"]:
                month, day = int(m["m1"] or m["m2"]), int(m["d1"] or m["d2"])
                candidate = date(today.year, month, day)
                found.append(candidate if candidate >= today - timedelta(days=1) else date(today.year + 1, month, day))
            elif m["d3"]:
                day = int(m["d3"])
                candidate = date(today.year, today.month, day)
                if candidate < today:
                    candidate = date(today.year + (today.month == 12), today.month % 12 + 1, day)
                found.append(candidate)
        except ValueError:
            continue  # "2月30日": not a date
    future = [d for d in found if d >= today]
    return max(future) if future else None


def hold_for_appointment(deps: Deps, wish: Wish, text: str) -> datetime | None:
    """A progress note naming a future date holds the release until the day after it."""
    local = deps.clock.local()
    when = appointment_date(text, local.date())
    if when is None or when <= local.date():
        return None
    until = datetime.combine(when + timedelta(days=1), time(0, 0), tzinfo=local.tzinfo).astimezone(timezone.utc)
    if wish.hold_until is None or wish.hold_until < until:
        wish.hold_until = until
    return until


def held(wish: Wish, now: datetime) -> bool:
    return wish.hold_until is not None and now < wish.hold_until


# --------------------------------------------------------------------------- offering again
async def building_helpers(session: AsyncSession, compound_id: int, building: str) -> list[Person]:
    """Party members and volunteers of the compound who live in ``building``."""
    rows = (await session.execute(select(Person).join(Role, Role.person_id == Person.id).where(
        Role.name.in_(list(HELPER_ROLES)), Role.compound_id == compound_id, Person.building == building)
        .order_by(Person.id))).scalars().unique()
    return list(rows)


async def reoffer(deps: Deps, wish: Wish, *, exclude: Iterable[int] = ()) -> str | None:
    """Offer an open wish again, at most once per ``wish_reoffer_days``. Returns where it went
    ("members" | "groups") or None (too soon, not open, nobody to offer it to)."""
    now = deps.clock.now()
    if wish.state != WishState.OPEN:
        return None
    gap = timedelta(days=setting_days(deps.org, wish.compound_id, "wish_reoffer_days", REOFFER_DAYS))
    if wish.reoffered_at is not None and now - wish.reoffered_at < gap:
        return None
    line = public_line(wish, deps.clock)
    mode = deps.org.setting(wish.compound_id, "wish_reoffer_to", "auto")
    skip = set(exclude) | {wish.wisher_person_id}
    target: str | None = None
    if mode in ("auto", "members") and wish.building:
        people = [p for p in await building_helpers(deps.session, wish.compound_id, wish.building)
                  if p.id not in skip]
        told = 0
        for person in people:
            if await reachable(deps.session, person.id):
                tell(deps, person.id, T.REOFFER_TO_MEMBER.format(line=line, building=wish.building,
                                                                 number=wish.number), ref=("wish", wish.id))
                told += 1
        target = "members" if told else None
    if target is None and mode in ("auto", "groups"):
        groups = await compound_groups(deps.session, wish.compound_id)
        for group in groups[:1] if mode == "auto" else groups:
            deps.outbox.enqueue(deps.session, T.REOFFER_TO_GROUP.format(line=line, number=wish.number),
                                group_id=group.id, priority=Priority.BROADCAST, ref=("wish", wish.id))
        target = "groups" if groups else None
    if target is not None:
        wish.reoffered_at = now  # the column, not an Event: the audit trail records state changes
    return target


async def escalate_if_falling_through(deps: Deps, wish: Wish) -> bool:
    """Tell the branch once: after the second release, or when unclaimed ``wish_escalate_days``."""
    if wish.escalated_at is not None or wish.state != WishState.OPEN or wish.claimer_count:
        return False
    now = deps.clock.now()
    days = setting_days(deps.org, wish.compound_id, "wish_escalate_days", ESCALATE_DAYS)
    age = (now - wish.created_at).days
    if wish.release_count < ESCALATE_RELEASES and age < days:
        return False
    reason = (T.FALLING_THROUGH_RELEASES.format(count=wish.release_count) if wish.release_count >= ESCALATE_RELEASES
              else T.FALLING_THROUGH_AGE.format(days=age))
    text = T.FALLING_THROUGH_TO_STAFF.format(number=wish.number, summary=wish.summary, reason=reason, age=age)
    for staff_id in await branch_staff(deps.session, deps.org, wish.compound_id):
        tell(deps, staff_id, text, ref=("wish", wish.id))
    wish.escalated_at = now
    return True


async def sweep_open(deps: Deps) -> tuple[int, int]:
    """Open, unclaimed wishes: offer the released ones again (when due), alert the branch about
    those falling through. Returns (offered, escalated)."""
    offered = escalated = 0
    rows = (await deps.session.execute(select(Wish).where(
        Wish.state == WishState.OPEN, Wish.claimer_count == 0).order_by(Wish.id))).scalars()
    for wish in list(rows):
        if wish.release_count and await reoffer(deps, wish):
            offered += 1
        if await escalate_if_falling_through(deps, wish):
            escalated += 1
    return offered, escalated


def open_work(org: Any, wish: Wish, after: datetime) -> list[datetime]:
    """When ``sweep_open`` would next act on an open, unclaimed wish: a reoffer once its gap has
    passed, the branch alert once the wish is old enough (at once after the second release). A
    reoffer that found nobody stays due at every sweep."""
    moments: list[datetime] = []
    if wish.release_count:
        gap = timedelta(days=setting_days(org, wish.compound_id, "wish_reoffer_days", REOFFER_DAYS))
        moments.append(after if wish.reoffered_at is None else wish.reoffered_at + gap)
    if wish.escalated_at is None:
        old = wish.created_at + timedelta(days=setting_days(org, wish.compound_id, "wish_escalate_days",
                                                            ESCALATE_DAYS))
        moments.append(after if wish.release_count >= ESCALATE_RELEASES else old)
    return moments


# --------------------------------------------------------------------------- digests
@dataclass(frozen=True)
class OpenWishLine:
    number: str
    summary: str
    age_days: int
    release_count: int


async def open_wish_lines(session: AsyncSession, compound_id: int, now: datetime, limit: int = 10) -> list[OpenWishLine]:
    """The compound's wishes waiting for a helper, oldest first, with number and age (days)."""
    return (await open_wish_lines_by_compound(session, [compound_id], now, limit)).get(compound_id, [])


async def open_wish_lines_by_compound(session: AsyncSession, compound_ids: Iterable[int], now: datetime,
                                      limit: int = 10) -> dict[int, list[OpenWishLine]]:
    """``open_wish_lines`` of many compounds from one window-function query (the daily digests
    ask for them all at once)."""
    ids = list(compound_ids)
    if not ids:
        return {}
    rn = func.row_number().over(partition_by=Wish.compound_id, order_by=(Wish.created_at, Wish.id)).label("rn")
    inner = select(Wish, rn).where(Wish.compound_id.in_(ids), Wish.state == WishState.OPEN,
                                   Wish.claimer_count == 0).subquery()
    wish = aliased(Wish, inner)
    rows = (await session.execute(select(wish).where(inner.c.rn <= limit)
                                  .order_by(inner.c.compound_id, inner.c.rn))).scalars()
    out: dict[int, list[OpenWishLine]] = {}
    for w in rows:
        out.setdefault(w.compound_id, []).append(
            OpenWishLine(w.number, w.summary, max(0, (now - w.created_at).days), w.release_count))
    return out


# --------------------------------------------------------------------------- the wisher asks after it
_COMPLAINT_CUES = re.compile(r"还没|没人|怎么|一直|等了|到底|什么时候|咋|催|不管|没消息|没动静|多久")
_WISH_NUMBER = re.compile(r"[WwＷｗ]\s*(\d{1,9})")


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    return {a + b for a, b in zip(chars, chars[1:])}


async def _query_open_wishers(deps: Deps) -> frozenset[int]:
    return frozenset((await deps.session.execute(select(Wish.wisher_person_id).where(
        Wish.state.in_([WishState.OPEN, WishState.CLAIMED]), Wish.wisher_person_id.is_not(None))
        .distinct())).scalars())


# Who has a wish open or claimed: few people. Reports sound like complaints ("怎么还没人修"), and
# most come from people without a wish: they need not be looked up. A wish written in this
# process resets the answer at once; one closed by a bulk update leaves a name too many (one
# lookup more, never one missed); another process's new wish is seen within the gate's TTL.
open_wishers = CachedAnswer(_query_open_wishers)
open_wishers.forget_on_write(lambda obj: isinstance(obj, Wish))


async def wish_complained_about(deps: Deps, person_id: int, compound_id: int | None, text: str) -> Wish | None:
    """The sender's own open wish this message asks after ("轮椅的事怎么还没人来"), if any:
    it names the wish (W12, 心愿) or shares words with its summary, and sounds like a complaint."""
    if not _COMPLAINT_CUES.search(text) or person_id not in await open_wishers.get(deps):
        return None
    query = select(Wish).where(Wish.wisher_person_id == person_id,
                               Wish.state.in_([WishState.OPEN, WishState.CLAIMED]))
    if compound_id is not None:
        query = query.where(Wish.compound_id == compound_id)
    wishes = list((await deps.session.execute(query.order_by(Wish.id.desc()).limit(10))).scalars())
    if not wishes:
        return None
    named = _WISH_NUMBER.search(text)
    if named is not None:
        return next((w for w in wishes if w.id == int(named.group(1))), None)
    words = _bigrams(text)
    best = max(wishes, key=lambda w: len(words & _bigrams(w.summary)))
    if len(words & _bigrams(best.summary)) >= 2 or ("心愿" in text and len(wishes) == 1):
        return best
    return None


async def link_complaint(deps: Deps, wish: Wish, person_id: int, text: str) -> list[int]:
    """Keep the words on the wish and tell the branch and its helpers (no new ticket)."""
    now = deps.clock.now()
    deps.session.add(WishProgress(wish_id=wish.id, person_id=person_id, kind="complaint", text=text[:500], at=now))
    wish.updated_at = now
    message = T.COMPLAINT_TO_STAFF.format(wisher=wish.wisher_name or "", number=wish.number, summary=wish.summary,
                                          state=T.STATE_LABELS.get(wish.state, wish.state), text=mask_pii(text[:200]))
    told: list[int] = []
    claimers = [c.person_id for c in await claims_of(deps.session, wish.id)]
    for pid in [*await branch_staff(deps.session, deps.org, wish.compound_id), *claimers]:
        if pid not in told and pid != person_id:
            tell(deps, pid, message, ref=("wish", wish.id))
            told.append(pid)
    return told
