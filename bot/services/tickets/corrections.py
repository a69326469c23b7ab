"""NLP corrections: what people told us the analyzer got wrong, as training lines."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models.tickets import NlpCorrection, Ticket
from bot.services import Actor, Deps


def record_correction(deps: Deps, actor: Actor, ticket: Ticket, kind: str, *, is_issue: bool, category: str,
                urgent: bool, text: str | None = None) -> None:
    deps.session.add(NlpCorrection(
        kind=kind, text=text if text is not None else ticket.text, predicted_is_issue=ticket.nlp_is_issue,
        predicted_category=ticket.nlp_category, predicted_urgent=ticket.urgent if kind != "urgency" else not urgent,
        is_issue=is_issue, category=category, urgent=urgent, location=ticket.location or None,
        ticket_id=ticket.id, compound_id=ticket.compound_id, actor_person_id=actor.person_id,
        actor_web_user=actor.web_user, at=deps.clock.now()))


async def correction_examples(session: AsyncSession, *, unused_only: bool = True) -> list[dict]:
    """NLP corrections as training lines (the format of nlp/data/train/*.jsonl)."""
    query = select(NlpCorrection).order_by(NlpCorrection.id)
    if unused_only:
        query = query.where(NlpCorrection.used_at.is_(None))
    out = []
    for row in (await session.execute(query)).scalars():
        out.append({"text": row.text, "is_issue": row.is_issue, "category": row.category if row.is_issue else "none",
                    "urgent": bool(row.urgent and row.is_issue), "location": row.location if row.is_issue else None,
                    "source": "correction", "kind": row.kind, "id": row.id})
    return out


async def mark_corrections_used(session: AsyncSession, ids: Sequence[int], now: datetime) -> int:
    if not ids:
        return 0
    result = await session.execute(update(NlpCorrection).where(NlpCorrection.id.in_(list(ids))).values(used_at=now))
    return result.rowcount or 0
