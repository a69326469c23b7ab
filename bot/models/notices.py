"""Notices (政策通知) to groups and people, their per-group delivery records, 收到
acknowledgements, and collections (统计/接龙) with their answers."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class NoticeStatus(StrEnum):
    DRAFT = "draft"          # previewed, waiting for 确认 (a broadcast to more than one target)
    SCHEDULED = "scheduled"  # confirmed, waiting for its time
    SENT = "sent"            # fanned out into the outbox (deliveries track each target)
    CANCELLED = "cancelled"
    EXPIRED = "expired"      # a draft nobody confirmed in time
    MISSED = "missed"        # its time passed while the bot was down for too long


PENDING_STATUSES = (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED)


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_status_send_at", "status", "send_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="notice")  # "notice" / "collection"
    status: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(16))          # compound / building / community / district
    scope_label: Mapped[str] = mapped_column(String(255))   # "阳光花园 3号楼", "兰新社区（2个小区）"
    # What to send to, resolved again at send time: {"compound_ids": [..], "building": "3" | None}
    target: Mapped[dict] = mapped_column(default=dict)
    target_count: Mapped[int] = mapped_column(default=0)    # at preview time; deliveries are the truth
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    author_web_user: Mapped[str | None] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(64), default="")
    origin_group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    created_at: Mapped[datetime]
    send_at: Mapped[datetime | None]          # None: as soon as confirmed
    draft_expires_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]       # every delivery sent or failed
    reported_at: Mapped[datetime | None]      # the author got the delivery summary
    ack_until: Mapped[datetime | None]        # 收到 replies count until then


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NoticeDelivery(Base):
    """A notice to one group (or one person): sent, or failed and why (from the outbox rows
    that carry ref=("notice_delivery", id))."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        Index("ix_notice_deliveries_group_created", "group_id", "created_at"),
        Index("ix_notice_deliveries_person_created", "person_id", "created_at"),
        Index("ix_notice_deliveries_status", "status", "notice_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    label: Mapped[str] = mapped_column(String(128), default="")  # group topic / person name at send time
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # collections: the one reminder before the deadline


class NoticeAck(Base):
    """A resident's 收到 to a notice (one per person per notice)."""

    __tablename__ = "notice_acks"
    __table_args__ = (UniqueConstraint("notice_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("notice_deliveries.id", ondelete="SET NULL"),
                                                    index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    at: Mapped[datetime]


class Collection(Base):
    """A notice that asks for a structured reply (统计/接龙): "议事日报名: 楼号 单元 人数"."""

    __tablename__ = "collections"
    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(64))
    fields: Mapped[list] = mapped_column(default=list)  # field names as the organiser wrote them
    deadline: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class CollectionAnswer(Base):
    """One person's answer; a second answer from the same person replaces the first."""

    __tablename__ = "collection_answers"
    __table_args__ = (UniqueConstraint("collection_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    person_name: Mapped[str] = mapped_column(String(64), default="")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    building: Mapped[str | None] = mapped_column(String(16))
    values: Mapped[dict] = mapped_column(default=dict)   # field name → parsed value
    raw_text: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    revisions: Mapped[int] = mapped_column(default=1)
