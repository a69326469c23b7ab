"""The audit trail: every state change of a ticket, wish, notice or role is a row here."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_subject", "subject_kind", "subject_id", "at"),
        # Counts over time of one kind of step, across subjects (ratings given in a month).
        Index("ix_events_action_at", "action", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(32))  # "ticket", "wish", "group", "role", …
    subject_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_web_user: Mapped[str | None] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None]
