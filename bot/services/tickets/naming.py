"""How a ticket is named and quoted to people: codes ("阳光花园-0042"), category and place, spans."""
from __future__ import annotations

import re
from datetime import timedelta

from bot.models.tickets import Ticket
from bot.privacy import mask_pii
from bot.services.tickets.policy import QUOTE, category_label


def ticket_code(org, ticket: Ticket) -> str:  # noqa: ANN001
    """阳光花园-0042."""
    return f"{org.name_of(ticket.compound_id)}-{ticket.number:04d}"


def short_code(ticket: Ticket) -> str:
    return f"#{ticket.number:04d}"


def num(ticket: Ticket) -> str:
    return f"{ticket.number:04d}"


def what(ticket: Ticket) -> str:
    """"电梯 · 5号楼" — category and place, never the resident's words (safe for groups)."""
    label = category_label(ticket.category)
    return f"{label} · {ticket.location}" if ticket.location else label


def quote(text: str, limit: int = QUOTE) -> str:
    text = mask_pii(" ".join(text.split()))
    return text if len(text) <= limit else text[:limit] + "…"


def fmt_span(delta: timedelta) -> str:
    minutes = max(1, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}分钟"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}小时"
    return f"{hours // 24}天"


_REF = re.compile(r"^[#＃]?\s*(?:(?P<compound>[^\s\d#＃-][^\s#＃]*?)\s*[-－—_]\s*)?0*(?P<number>\d{1,6})$")


def parse_ref(text: str) -> tuple[str | None, int] | None:
    """"0042", "#42", "阳光花园-0042" → (compound name or None, 42)."""
    match = _REF.match(text.strip())
    if not match:
        return None
    number = int(match.group("number"))
    return (match.group("compound"), number) if number > 0 else None
