"""Masking of phone and ID numbers, and the retention purge of chatter."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import InboundMessage, InboundStatus, OutboxMessage


def mask_pii(text: str) -> str:
    """138****5678 for mobiles, 3701**********1234 for ID numbers, 0539-***4567 for landlines.

    One implementation, the NLP package's (nlp/pii.py): it finds numbers after normalising
    full-width digits, separators (spaces, dots, hyphens) and invisible format characters.
    """
    from nlp.pii import mask_pii as nlp_mask  # local import: importing nlp must not slow bot start-up

    return nlp_mask(text)



def masked_preview(text: str, limit: int = 60) -> str:
    """The first ``limit`` characters, masked. Masked before the cut: a number the cut ends
    inside is no longer a whole number the masker recognises, and its digits would show."""
    return mask_pii(text)[:limit]

# Statuses whose messages nothing refers to: purged after the retention period.
PURGEABLE = (InboundStatus.CHATTER, InboundStatus.IGNORED, InboundStatus.STALE)


async def purge_chatter(session: AsyncSession, now: datetime, retention_days: int) -> int:
    """Delete inbound messages that became nothing (no ticket, wish or command) and are old."""
    cutoff = now - timedelta(days=retention_days)
    ids = select(InboundMessage.id).where(
        InboundMessage.keep.is_(False),
        InboundMessage.status.in_([s.value for s in PURGEABLE]),
        InboundMessage.received_at < cutoff,
    )
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.in_reply_to.in_(ids)).values(in_reply_to=None)
    )
    result = await session.execute(delete(InboundMessage).where(InboundMessage.id.in_(ids)))
    return result.rowcount or 0


async def forget_person_chatter(session: AsyncSession, person_id: int, except_id: int | None = None) -> int:
    """A resident's deletion request: remove every message of theirs that no case needs
    (``except_id``: the request itself, kept as the record that it was made). Only messages
    already judged chatter: one still waiting to be acted on (received, or claimed after a
    restart) may be a report, and deleting it would lose it."""
    ids = select(InboundMessage.id).where(
        InboundMessage.person_id == person_id, InboundMessage.keep.is_(False),
        InboundMessage.status.in_([s.value for s in PURGEABLE]), InboundMessage.id != (except_id or 0),
    )
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.in_reply_to.in_(ids)).values(in_reply_to=None)
    )
    result = await session.execute(delete(InboundMessage).where(InboundMessage.id.in_(ids)))
    return result.rowcount or 0
