"""Per-account sending state that cannot be derived from sent rows: the rate-limit pause."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class AccountPause(Base):
    """The platform said "发送消息过于频繁": no send from this account before ``paused_until``.

    Kept in the database so a restart inside a pause does not send at once. Spacing, per-group
    and daily counts are derived from the outbox's sent rows instead.
    """

    __tablename__ = "outbox_account_pauses"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused_until: Mapped[datetime]
    pause_count: Mapped[int] = mapped_column(default=0)  # consecutive pauses: the next one doubles


class AccountLease(Base):
    """Which process serves an account now: only the holder connects the account's event stream
    and sends its outbox rows. Renewed every ``accounts.tick_seconds`` and timed on the database's
    clock (like the schedules lease); a standby takes it once it lapses. A live lease also tells
    every process which accounts can reach a person right now (``bot.accounts``)."""

    __tablename__ = "account_leases"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
