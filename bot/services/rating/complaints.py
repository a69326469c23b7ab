"""Which tickets are complaints against a compound's property project: ONE rule, from the
standard file, used by the monthly ranking, the property score and the dashboard alike.

A compound's complaints count for its (first) active property project; merged tickets and
tickets the branch judged not a problem never count."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import PropertyProject
from bot.models.tickets import Ticket, TicketState
from bot.services.rating.standard import ComplaintRule

NOT_COUNTED = (TicketState.MERGED, TicketState.REJECTED)


def is_complaint(rule: ComplaintRule):  # noqa: ANN201
    """The rule as a SQL condition on ``Ticket``."""
    parts = [Ticket.category.in_(list(rule.categories))] if rule.categories else []
    if rule.assigned_to_property:
        parts.append(Ticket.assignee_kind == "property")
    return (or_(*parts) if parts else false()) & Ticket.state.not_in(NOT_COUNTED)


def matches(rule: ComplaintRule, category: str | None, assignee_kind: str | None, state: str) -> bool:
    """The same rule on a loaded ticket (the rating run reads tickets once)."""
    if state in NOT_COUNTED:
        return False
    return category in rule.categories or (rule.assigned_to_property and assignee_kind == "property")


async def projects_by_id(session: AsyncSession) -> dict[int, PropertyProject]:
    """Every property project (active or not: rankings and lists name past ones too) by id."""
    return {p.id: p for p in (await session.execute(select(PropertyProject))).scalars()}


async def project_of_compound(session: AsyncSession) -> dict[int, int]:
    """Compound id → its first active property project id."""
    rows = (await session.execute(select(PropertyProject.compound_id, func.min(PropertyProject.id)).where(
        PropertyProject.active.is_(True)).group_by(PropertyProject.compound_id))).all()
    return dict(rows)


async def counted_tickets(session: AsyncSession, rule: ComplaintRule, start: datetime, end: datetime,
                          compound_ids: Sequence[int] | None = None) -> dict[int, list[int]]:
    """Compound id → ids of the tickets created in [start, end) that the rule counts."""
    query = select(Ticket.compound_id, Ticket.id).where(
        Ticket.created_at >= start, Ticket.created_at < end, is_complaint(rule)).order_by(Ticket.id)
    if compound_ids is not None:
        query = query.where(Ticket.compound_id.in_(list(compound_ids)))
    out: dict[int, list[int]] = {}
    for compound_id, ticket_id in (await session.execute(query)).all():
        out.setdefault(compound_id, []).append(ticket_id)
    return out


async def per_project(session: AsyncSession, rule: ComplaintRule, start: datetime, end: datetime) -> dict[int, int]:
    """Property project id → counted complaints in [start, end) (projects with none left out)."""
    rows = dict((await session.execute(select(Ticket.compound_id, func.count()).where(
        Ticket.created_at >= start, Ticket.created_at < end, is_complaint(rule))
        .group_by(Ticket.compound_id))).all())
    projects = await project_of_compound(session)
    return {pid: rows[cid] for cid, pid in projects.items() if rows.get(cid)}
