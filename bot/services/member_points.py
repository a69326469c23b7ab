"""Service points, service records and the monthly honour roll (表彰).

Query functions for the digests and the dashboard (read-only, take a session):

- ``service_record(session, person_id, now, compound_id=None)`` → one member's ``ServiceRecord``.
- ``service_records(session, compound_id, now, since=None, until=None)`` → every member of a
  compound with any role-based membership or points, points counted in [since, until).
- ``honour_roll(session, org, compound_id, year, month)`` → ``HonourRoll`` (named members only).
- ``points_between(session, compound_ids, since, until)`` → {person_id: points}.

Point rules (also in docs/members.md): a micro-wish fulfilled and confirmed gives each member
who fulfilled it ``WISH_POINTS`` (10); a duty reported at a volunteer post gives ``DUTY_POINTS``
(2), at most once per post and day. A compound may override them with its settings
``points_wish`` / ``points_duty``. Giving up or a released claim costs nothing: honesty is
better than a stale promise. Each deed is credited once (a unique ledger row).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import record_event
from bot.models import Person, Role
from bot.months import month_bounds, month_key
from bot.models.members import PointKind, PostSignup, ServicePoint, SignupState, VolunteerPost
from bot.models.wishes import ClaimState, Wish, WishClaim
from bot.orgdir import OrgDirectory
from bot.services import Actor, Deps, ServiceError
from bot.services.members import MEMBER_ROLES, branch_staff, compound_groups, require_staff, tell
from bot.texts import members as T

WISH_POINTS = 10
DUTY_POINTS = 2


def point_value(org: OrgDirectory, compound_id: int, kind: str) -> int:
    default = WISH_POINTS if kind == PointKind.WISH else DUTY_POINTS
    value = org.setting(compound_id, f"points_{kind}", default)
    return value if isinstance(value, int) and value >= 0 else default


async def credit(session: AsyncSession, person_id: int, compound_id: int, kind: str, subject_id: int,
                 points: int, at: datetime, note: str | None = None) -> bool:
    """Add a ledger row unless this deed was credited before; True when credited now."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = (insert(ServicePoint).values(person_id=person_id, compound_id=compound_id, kind=kind,
                                        subject_id=subject_id, points=points, at=at, note=(note or "")[:128])
            .on_conflict_do_nothing(index_elements=["person_id", "kind", "subject_id"]))
    result = await session.execute(stmt)
    return (result.rowcount or 0) > 0


@dataclass
class ServiceRecord:
    """One member's service: what the digests, the dashboard and ``我的服务`` show."""

    person_id: int
    name: str
    consent_named: bool
    points_total: int = 0
    points_period: int = 0          # within the asked window (e.g. this month)
    wishes_fulfilled: int = 0       # confirmed wishes credited to the member
    wishes_active: int = 0          # claims in progress now
    posts: list[str] = field(default_factory=list)  # posts held now
    duty_reports: int = 0
    duties_period: int = 0
    wishes_period: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None


async def points_between(session: AsyncSession, compound_ids: Iterable[int] | None, since: datetime | None,
                         until: datetime | None) -> dict[int, int]:
    query = select(ServicePoint.person_id, func.sum(ServicePoint.points)).group_by(ServicePoint.person_id)
    if compound_ids is not None:
        query = query.where(ServicePoint.compound_id.in_(list(compound_ids)))
    if since is not None:
        query = query.where(ServicePoint.at >= since)
    if until is not None:
        query = query.where(ServicePoint.at < until)
    return {pid: int(total or 0) for pid, total in (await session.execute(query)).all()}


async def service_records(session: AsyncSession, compound_id: int | None, now: datetime, *,
                          since: datetime | None = None, until: datetime | None = None,
                          person_ids: Iterable[int] | None = None) -> list[ServiceRecord]:
    """Service records of a compound's members (or of ``person_ids``), best first.

    "Members" are people with a member role in the compound or any points there.
    ``*_period`` fields count within [since, until) (default: all time).
    """
    compound_filter = [] if compound_id is None else [ServicePoint.compound_id == compound_id]
    if person_ids is None:
        ids = set((await session.execute(select(Role.person_id).where(
            Role.compound_id == compound_id, Role.name.in_(list(MEMBER_ROLES))))).scalars())
        ids |= set((await session.execute(select(ServicePoint.person_id).where(*compound_filter))).scalars())
    else:
        ids = set(person_ids)
    if not ids:
        return []
    people = {p.id: p for p in (await session.execute(select(Person).where(Person.id.in_(ids)))).scalars()}
    records = {pid: ServiceRecord(pid, p.name, p.consent_named) for pid, p in people.items()}

    ledger = (await session.execute(select(ServicePoint).where(ServicePoint.person_id.in_(ids), *compound_filter))).scalars()
    for row in ledger:
        rec = records[row.person_id]
        rec.points_total += row.points
        in_period = (since is None or row.at >= since) and (until is None or row.at < until)
        if row.kind == PointKind.WISH:
            rec.wishes_fulfilled += 1
            rec.wishes_period += int(in_period)
        elif row.kind == PointKind.DUTY:
            rec.duty_reports += 1
            rec.duties_period += int(in_period)
        if in_period:
            rec.points_period += row.points
        rec.first_at = min(filter(None, (rec.first_at, row.at)))
        rec.last_at = max(filter(None, (rec.last_at, row.at)))

    active = select(WishClaim.person_id, func.count()).join(Wish, Wish.id == WishClaim.wish_id).where(
        WishClaim.person_id.in_(ids), WishClaim.state.in_([ClaimState.ACTIVE, ClaimState.DONE]),
        Wish.state.in_(["open", "claimed", "done"])).group_by(WishClaim.person_id)
    if compound_id is not None:
        active = active.where(Wish.compound_id == compound_id)
    for pid, count in (await session.execute(active)).all():
        records[pid].wishes_active = count

    held = select(PostSignup.person_id, VolunteerPost.name).join(VolunteerPost, VolunteerPost.id == PostSignup.post_id).where(
        PostSignup.person_id.in_(ids), PostSignup.state == SignupState.ACTIVE, VolunteerPost.active.is_(True))
    if compound_id is not None:
        held = held.where(VolunteerPost.compound_id == compound_id)
    for pid, post_name in (await session.execute(held.order_by(PostSignup.id))).all():
        records[pid].posts.append(post_name)
    return sorted(records.values(), key=lambda r: (-r.points_period, -r.points_total, r.name))


async def service_record(session: AsyncSession, person_id: int, now: datetime, *,
                         compound_id: int | None = None, tz=None) -> ServiceRecord:  # noqa: ANN001
    """One member's record; ``points_period`` is this local month when ``tz`` is given."""
    since = until = None
    if tz is not None:
        local = now.astimezone(tz)
        since, until = month_bounds(month_key(local), tz)
    rows = await service_records(session, compound_id, now, since=since, until=until, person_ids=[person_id])
    if rows:
        return rows[0]
    person = await session.get(Person, person_id)
    return ServiceRecord(person_id, person.name if person else "", bool(person and person.consent_named))


@dataclass
class HonourRoll:
    compound_id: int
    year: int
    month: int
    entries: list[ServiceRecord]
    hidden: int  # members with points who chose not to be named


async def honour_roll(session: AsyncSession, org: OrgDirectory, compound_id: int, year: int, month: int,
                      tz, limit: int = 10) -> HonourRoll:  # noqa: ANN001
    """The month's members by points; only those who agreed to be named are listed."""
    since, until = month_bounds(f"{year:04d}-{month:02d}", tz)
    scored = await points_between(session, [compound_id], since, until)
    records = await service_records(session, compound_id, until, since=since, until=until,
                                    person_ids=[p for p, pts in scored.items() if pts > 0])
    named = [r for r in records if r.consent_named and r.points_period > 0]
    hidden = sum(1 for r in records if not r.consent_named and r.points_period > 0)
    return HonourRoll(compound_id, year, month, named[:limit], hidden)


def honour_roll_text(org: OrgDirectory, roll: HonourRoll) -> str:
    compound = org.name_of(roll.compound_id)
    if not roll.entries:
        return T.ROLL_EMPTY.format(compound=compound, year=roll.year, month=roll.month)
    lines = [T.ROLL_HEADER.format(compound=compound, year=roll.year, month=roll.month)]
    for index, rec in enumerate(roll.entries, start=1):
        deeds = []
        if rec.wishes_period:
            deeds.append(T.ROLL_WISHES.format(n=rec.wishes_period))
        if rec.duties_period:
            deeds.append(T.ROLL_DUTIES.format(n=rec.duties_period))
        lines.append(T.ROLL_LINE.format(rank=index, name=rec.name, points=rec.points_period,
                                        deeds="，".join(deeds) or "—"))
    if roll.hidden:
        lines.append(T.ROLL_HIDDEN.format(n=roll.hidden))
    lines.append(T.ROLL_FOOTER)
    return "\n".join(lines)


async def publish_honour_roll(deps: Deps, actor: Actor, compound_id: int, year: int, month: int, *,
                              group_ids: Iterable[int] | None = None) -> tuple[HonourRoll, int]:
    """Post the roll to the compound's groups (or the given ones); returns (roll, groups posted to)."""
    require_staff(actor, compound_id, deps.org)
    roll = await honour_roll(deps.session, deps.org, compound_id, year, month, deps.clock.tz)
    if not roll.entries:
        raise ServiceError(T.ROLL_NOTHING_TO_POST.format(year=year, month=month))
    text = honour_roll_text(deps.org, roll)
    groups = [g.id for g in await compound_groups(deps.session, compound_id)] if group_ids is None else list(group_ids)
    for group_id in groups:
        deps.outbox.enqueue(deps.session, text, group_id=group_id, ref=("honour_roll", compound_id))
    record_event(deps.session, "honour_roll", compound_id, "published", deps.clock.now(), actor=actor,
                 note=f"{year}-{month:02d}",
                 data={"people": [r.person_id for r in roll.entries], "groups": groups})
    return roll, len(groups)


async def send_roll_previews(deps: Deps, year: int, month: int) -> int:
    """Monthly: tell each compound's secretaries that last month's roll is ready to post."""
    sent = 0
    compounds = list((await deps.session.execute(select(ServicePoint.compound_id).distinct())).scalars())
    for compound_id in compounds:
        roll = await honour_roll(deps.session, deps.org, compound_id, year, month, deps.clock.tz)
        if not roll.entries and not roll.hidden:
            continue
        text = T.ROLL_PREVIEW.format(roll=honour_roll_text(deps.org, roll))
        for staff_id in await branch_staff(deps.session, deps.org, compound_id):
            tell(deps, staff_id, text, ref=("honour_roll", compound_id))
            sent += 1
    return sent
