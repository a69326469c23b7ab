"""Messages the database refused even alone: set aside, logged, counted."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.models.deadletters import DeadLetter

log = logging.getLogger(__name__)

# Fields are kept as their ascii() repr, storable in every database whatever they hold; the
# raw text is cut here (a dead letter is for inspection, not replay).
TEXT_REPR_LIMIT = 20_000


def loggable_reason(error: BaseException) -> str:
    """A database error's first line only: the driver's full text lists the statement's
    parameters, residents' messages among them (phone numbers and all): those belong in a
    row staff can inspect, never in a log line."""
    text = str(error)
    return text.splitlines()[0][:200] if text else ""


async def record_dead_letter(engine: AsyncEngine, values: dict[str, Any], raw_text: str | None,
                             error: BaseException, now: datetime) -> None:
    """Keep a message whose row could not be stored; raises if even this fails."""
    reason = loggable_reason(error)
    log.warning("inbound message %s of account %s could not be stored, set aside as a dead letter: %s: %s",
                ascii(values.get("platform_message_id")), ascii(values.get("account")),
                type(error).__name__, reason)
    row = dict(
        account=ascii(values.get("account")), platform_message_id=ascii(values.get("platform_message_id")),
        chat_platform_id=ascii(values.get("chat_platform_id")),
        sender_platform_id=ascii(values.get("sender_platform_id")),
        kind=str(values.get("kind", ""))[:16].encode("ascii", "replace").decode(),
        text_repr=ascii(raw_text if raw_text is not None else values.get("text"))[:TEXT_REPR_LIMIT],
        error=ascii(f"{type(error).__name__}: {error}")[:4000], sent_at=values.get("sent_at"), failed_at=now,
    )
    async with engine.begin() as conn:
        await conn.execute(DeadLetter.__table__.insert(), [row])


async def dead_letter_count(session: AsyncSession) -> int:
    """How many arriving messages are set aside (for ``zhibu doctor``)."""
    return (await session.execute(select(func.count()).select_from(DeadLetter))).scalar_one()
