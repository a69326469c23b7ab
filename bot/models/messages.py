"""Inbound messages (stored before anything acts on them) and the outbox (every text out)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class InboundStatus(StrEnum):
    RECEIVED = "received"   # stored, not yet acted on
    PROCESSING = "processing"  # claimed by a recovering process (claimed_at): nobody else takes it
    HANDLED = "handled"     # a command, ticket, wish or reply came of it
    CHATTER = "chatter"     # nothing to do; purged after the retention period
    IGNORED = "ignored"     # unbound group, non-text, or a person with no business here
    STALE = "stale"         # older than the replay window at its first arrival: stored, not acted on
    FAILED = "failed"       # a handler raised; `zhibu retry` runs it again


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("account", "platform_message_id"),
        Index("ix_inbound_status_received", "status", "received_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    platform_message_id: Mapped[str] = mapped_column(String(128))
    chat_platform_id: Mapped[str | None] = mapped_column(String(128))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"), index=True)
    sender_platform_id: Mapped[str] = mapped_column(String(128))
    sender_name: Mapped[str] = mapped_column(String(128), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    truncated: Mapped[bool] = mapped_column(default=False)
    mentions_bot: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime]
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=InboundStatus.RECEIVED)
    # Kept past the retention period because a ticket, wish or command refers to it.
    keep: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    handled_at: Mapped[datetime | None]
    # When a recovery claimed the message (status "processing"); an old claim is a dead claimant's.
    claimed_at: Mapped[datetime | None]


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"      # handed to the transport (committed before the call): the crash window
    SENT = "sent"
    FAILED = "failed"        # the platform refused it for good (chat gone, no identity, repeated errors)
    CANCELLED = "cancelled"
    UNCERTAIN = "uncertain"  # in flight at an unclean stop; maybe delivered, not resent (see docs)
    EXPIRED = "expired"      # too old to be worth sending when its turn came (age policy in bot/outbox.py)


class Priority:
    URGENT = 0      # emergency alerts jump the queue
    REPLY = 1       # answers to someone who just wrote
    BROADCAST = 2   # notices, digests, reminders


class OutboxMessage(Base):
    """One text to send. Addressed by our own ids: the platform id is looked up at send time,
    so a re-login that changes ids does not strand queued texts."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "account", "priority", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str | None] = mapped_column(String(64))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    mention_person_ids: Mapped[list] = mapped_column(default=list)
    priority: Mapped[int] = mapped_column(default=Priority.REPLY)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # What this text belongs to (a notice delivery, a digest, …), for delivery records.
    ref_kind: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[int | None]
    in_reply_to: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    platform_message_id: Mapped[str | None] = mapped_column(String(128))
    # When the row was last handed to the transport; with status "sending" it marks a send
    # whose outcome a crash may have hidden.
    attempted_at: Mapped[datetime | None]
    # An urgent alert that could not be delivered in time was passed on to the next person.
    escalated_at: Mapped[datetime | None]


Index("ix_outbox_ref", OutboxMessage.ref_kind, OutboxMessage.ref_id)
# Deleting inbound messages sets their replies' in_reply_to to NULL (ON DELETE SET NULL): without
# this, SQLite scans the whole outbox once per deleted message.
Index("ix_outbox_in_reply_to", OutboxMessage.in_reply_to)
