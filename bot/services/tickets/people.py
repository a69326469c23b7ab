"""Who is who around a ticket: role holders of a compound, its reporters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Person, Role, RoleName
from bot.models.tickets import Ticket, TicketReporter
from bot.queued_rows import queue
from bot.roles import AREA_ROLES


def _scope(org, role: str, compound_id: int):  # noqa: ANN001, ANN202
    """Where ``role`` counts for a compound (area roles: its community, or district-wide)."""
    scope = Role.compound_id == compound_id
    if role in AREA_ROLES:
        scope = or_(scope, Role.community_id == org.community_of.get(compound_id),
                    and_(Role.compound_id.is_(None), Role.community_id.is_(None)))
    return scope


async def people_with_role(session: AsyncSession, org, role: str, compound_id: int) -> list[Person]:  # noqa: ANN001
    """Holders of ``role`` for a compound (area roles: for its community, or district-wide)."""
    rows = (await session.execute(
        select(Person).join(Role, Role.person_id == Person.id)
        .where(Role.name == role, _scope(org, role, compound_id)).order_by(Person.id)
    )).scalars().unique().all()
    return list(rows)


async def ids_with_roles(session: AsyncSession, org, roles: tuple[str, ...],  # noqa: ANN001
                         compound_id: int) -> dict[str, list[int]]:
    """role → ids of its holders for a compound, as ``people_with_role`` finds them (by id, each
    once), for several roles in one query (an urgent report asks up to four)."""
    rows = (await session.execute(
        select(Role.name, Role.person_id).join(Person, Person.id == Role.person_id)
        .where(or_(*(and_(Role.name == role, _scope(org, role, compound_id)) for role in roles)))
        .order_by(Role.person_id))).all()
    found: dict[str, list[int]] = {role: [] for role in roles}
    for role, person_id in rows:
        if person_id not in found[role]:
            found[role].append(person_id)
    return found


async def secretaries(session: AsyncSession, org, compound_id: int) -> list[Person]:  # noqa: ANN001
    return await people_with_role(session, org, RoleName.SECRETARY, compound_id)


async def supervisors(session: AsyncSession, org, compound_id: int) -> list[Person]:  # noqa: ANN001
    """The community committee for a compound; district staff when the community has nobody."""
    found = await people_with_role(session, org, RoleName.COMMUNITY_STAFF, compound_id)
    return found or await people_with_role(session, org, RoleName.DISTRICT_STAFF, compound_id)


def add_reporter(session: AsyncSession, ticket_id: int, person_id: int, *, group_id: int | None,
                 message_id: int | None, text: str, at: datetime) -> None:
    """``person_id`` reported ``ticket_id`` too: a row written at the commit, with the session's
    other queued rows (``bot.queued_rows``; nothing reads it back by id)."""
    queue(session, TicketReporter(ticket_id=ticket_id, person_id=person_id, group_id=group_id,
                                  message_id=message_id, text=text, reported_at=at))


async def reporter_row(session: AsyncSession, ticket_id: int, person_id: int) -> TicketReporter | None:
    return (await session.execute(select(TicketReporter).where(
        TicketReporter.ticket_id == ticket_id, TicketReporter.person_id == person_id))).scalar_one_or_none()


async def reporter_ids(session: AsyncSession, ticket: Ticket) -> list[int]:
    return list((await session.execute(select(TicketReporter.person_id).where(
        TicketReporter.ticket_id == ticket.id).order_by(TicketReporter.reported_at, TicketReporter.id))).scalars())


async def reporters(session: AsyncSession, ticket: Ticket) -> list[TicketReporter]:
    return list((await session.execute(select(TicketReporter).where(
        TicketReporter.ticket_id == ticket.id).order_by(TicketReporter.reported_at, TicketReporter.id))).scalars())
