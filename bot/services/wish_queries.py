"""Reading wishes (read-only, take a session: the digests, the dashboard, chat) and the lines
people read about one: ``public_line`` for everyone, ``private_block`` for those who may see
the private part (``can_see_private``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import timefmt
from bot.models import Event, Person
from bot.models.wishes import ACTIVE_WISH_STATES, ClaimState, Wish, WishClaim, WishProgress, WishState
from bot.roles import STAFF_ROLES
from bot.services import Actor, ServiceError
from bot.texts import wishes as T
from nlp.buildings import building_label


async def get_wish(session: AsyncSession, wish_id: int) -> Wish:
    wish = await session.get(Wish, wish_id)
    if wish is None:
        raise ServiceError(T.UNKNOWN_WISH.format(number=f"W{wish_id}"))
    return wish


async def claims_of(session: AsyncSession, wish_id: int, states: Sequence[str] = (ClaimState.ACTIVE,)) -> list[WishClaim]:
    return list((await session.execute(select(WishClaim).where(
        WishClaim.wish_id == wish_id, WishClaim.state.in_(list(states))).order_by(WishClaim.id))).scalars())


async def can_see_private(session: AsyncSession, actor: Actor, wish: Wish) -> bool:
    """Claimers (active or done), the poster, the wisher and the compound's branch staff."""
    if actor.roles.has_any(STAFF_ROLES, wish.compound_id):
        return True
    if actor.person_id is None:
        return False
    if actor.person_id in (wish.wisher_person_id, wish.posted_by):
        return True
    claims = await claims_of(session, wish.id, (ClaimState.ACTIVE, ClaimState.DONE))
    return any(c.person_id == actor.person_id for c in claims)


def is_owner(actor: Actor, wish: Wish) -> bool:
    """The wisher, the one who posted it, or the branch: may confirm, add details, withdraw."""
    if actor.person_id is not None and actor.person_id in (wish.wisher_person_id, wish.posted_by):
        return True
    return actor.roles.has_any(STAFF_ROLES, wish.compound_id)


async def open_wishes(session: AsyncSession, compound_ids: Iterable[int] | None = None, *,
                      building: str | None = None, limit: int | None = None) -> list[Wish]:
    query = select(Wish).where(Wish.state == WishState.OPEN)
    if compound_ids is not None:
        query = query.where(Wish.compound_id.in_(list(compound_ids)))
    if building:
        query = query.where(Wish.building == building)
    query = query.order_by(Wish.deadline.is_(None), Wish.deadline, Wish.id)
    if limit:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars())


async def count_open(session: AsyncSession, compound_id: int, building: str | None = None) -> int:
    query = select(func.count()).select_from(Wish).where(Wish.state == WishState.OPEN, Wish.compound_id == compound_id)
    if building:
        query = query.where(Wish.building == building)
    return (await session.execute(query)).scalar_one()


async def active_wishes(session: AsyncSession, compound_ids: Iterable[int] | None = None) -> list[Wish]:
    query = select(Wish).where(Wish.state.in_([WishState.OPEN, WishState.CLAIMED, WishState.DONE]))
    if compound_ids is not None:
        query = query.where(Wish.compound_id.in_(list(compound_ids)))
    return list((await session.execute(query.order_by(Wish.id))).scalars())


@dataclass(frozen=True)
class StaleClaim:
    claim_id: int
    wish_id: int
    compound_id: int
    person_id: int
    claimer: str
    summary: str
    claimed_at: datetime
    last_progress_at: datetime
    reminded_at: datetime | None


async def stale_claims(session: AsyncSession, now: datetime, older_than: timedelta,
                       compound_ids: Iterable[int] | None = None) -> list[StaleClaim]:
    query = (select(WishClaim, Wish, Person.name).join(Wish, Wish.id == WishClaim.wish_id)
             .join(Person, Person.id == WishClaim.person_id)
             .where(WishClaim.state == ClaimState.ACTIVE, Wish.state.in_(list(ACTIVE_WISH_STATES)),
                    WishClaim.last_progress_at <= now - older_than))
    if compound_ids is not None:
        query = query.where(Wish.compound_id.in_(list(compound_ids)))
    rows = (await session.execute(query.order_by(WishClaim.last_progress_at))).all()
    return [StaleClaim(c.id, w.id, w.compound_id, c.person_id, name, w.summary, c.claimed_at, c.last_progress_at,
                       c.reminded_at) for c, w, name in rows]


async def wish_counts(session: AsyncSession, compound_ids: Iterable[int] | None, since: datetime,
                      until: datetime) -> dict[str, int]:
    ids = None if compound_ids is None else list(compound_ids)
    actions = {"posted": "posted", "claimed": "claimed", "done": "done", "confirmed": "confirmed",
               "released": "released", "given_up": "gave_up"}
    query = (select(Event.action, func.count()).join(Wish, Wish.id == Event.subject_id)
             .where(Event.subject_kind == "wish", Event.at >= since, Event.at < until,
                    Event.action.in_(list(actions.values()))).group_by(Event.action))
    if ids is not None:
        query = query.where(Wish.compound_id.in_(ids))
    found = dict((await session.execute(query)).all())
    out = {key: int(found.get(action, 0)) for key, action in actions.items()}
    open_query = select(func.count()).select_from(Wish).where(Wish.state == WishState.OPEN)
    if ids is not None:
        open_query = open_query.where(Wish.compound_id.in_(ids))
    out["open_now"] = (await session.execute(open_query)).scalar_one()
    return out


async def timeline(session: AsyncSession, wish_id: int) -> list[tuple[datetime, str, str | None, str | None]]:
    """(at, what, who, note) of the wish's events and progress notes, oldest first."""
    events = (await session.execute(select(Event, Person.name).outerjoin(Person, Person.id == Event.actor_person_id)
                                    .where(Event.subject_kind == "wish", Event.subject_id == wish_id))).all()
    notes = (await session.execute(select(WishProgress, Person.name).outerjoin(Person, Person.id == WishProgress.person_id)
                                   .where(WishProgress.wish_id == wish_id))).all()
    out = [(e.at, e.action, name, e.note) for e, name in events if e.action != "progress"]
    out += [(p.at, p.kind, name, p.text) for p, name in notes]
    return sorted(out, key=lambda item: item[0])


async def my_wishes(session: AsyncSession, person_id: int) -> tuple[list[Wish], list[Wish]]:
    """(wishes the person posted or is the wisher of, wishes they are helping with), active first."""
    mine = list((await session.execute(select(Wish).where(
        (Wish.wisher_person_id == person_id) | (Wish.posted_by == person_id))
        .order_by(Wish.state.in_([WishState.CONFIRMED, WishState.CANCELLED, WishState.EXPIRED]), Wish.id.desc())
        .limit(20))).scalars())
    helping = list((await session.execute(select(Wish).join(WishClaim, WishClaim.wish_id == Wish.id).where(
        WishClaim.person_id == person_id, WishClaim.state.in_([ClaimState.ACTIVE, ClaimState.DONE]))
        .order_by(Wish.id.desc()).limit(20))).scalars())
    return mine, helping


def public_line(wish: Wish, clock) -> str:  # noqa: ANN001
    """The public one-liner: number, summary, building, category, deadline, team size."""
    extras = []
    if wish.building:
        extras.append(building_label(wish.building))
    if wish.category:
        extras.append(wish.category)
    if wish.deadline:
        extras.append(T.DEADLINE_SHORT.format(date=timefmt.day(clock.local(wish.deadline))))
    if wish.max_claimers > 1:
        extras.append(T.TEAM_SHORT.format(have=wish.claimer_count, want=wish.max_claimers))
    tail = f"（{'，'.join(extras)}）" if extras else ""
    return f"{wish.number} {wish.summary}{tail}"


def private_block(wish: Wish) -> str:
    lines = []
    if wish.wisher_name:
        lines.append(T.PRIVATE_WHO.format(name=wish.wisher_name))
    if wish.address:
        lines.append(T.PRIVATE_ADDRESS.format(address=wish.address))
    if wish.contact_phone:
        lines.append(T.PRIVATE_PHONE.format(phone=wish.contact_phone))
    if wish.details:
        lines.append(T.PRIVATE_DETAILS.format(details=wish.details))
    return "\n".join(lines) or T.PRIVATE_NONE
