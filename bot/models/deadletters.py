"""Arriving messages that could not be stored even alone: kept aside for an operator."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class DeadLetter(Base):
    """One message whose row the database refused. Only ``repr`` forms are stored (pure ASCII
    escapes), so whatever broke the real row cannot break this one."""

    __tablename__ = "inbound_dead_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(Text)
    platform_message_id: Mapped[str] = mapped_column(Text)
    chat_platform_id: Mapped[str | None] = mapped_column(Text)
    sender_platform_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    text_repr: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime]
