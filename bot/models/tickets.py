"""Tickets (工单): resident problems tracked from report to confirmation, and what hangs off
them — reporters, agenda items on discussion days (四定议事), 12345 hotline orders and the
corrections of the NLP that the branch makes (kept for retraining)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class TicketState(StrEnum):
    NEW = "new"            # reported, waiting for the branch (支部先议)
    ASSIGNED = "assigned"  # handed to someone (派单/转办)
    RESOLVED = "resolved"  # 办结 by the handler, waiting for the reporters' confirmation
    CLOSED = "closed"      # confirmed, or nobody answered in time
    REJECTED = "rejected"  # "不是问题": a false ticket, kept for the record
    MERGED = "merged"      # folded into another ticket (merged_into_id)


OPEN_STATES = (TicketState.NEW, TicketState.ASSIGNED)
# States a ticket can be acted on in (handled, noted, put on the agenda …).
ACTIVE_STATES = (TicketState.NEW, TicketState.ASSIGNED, TicketState.RESOLVED)


class Rating(StrEnum):
    SATISFIED = "satisfied"      # 满意
    BASIC = "basic"              # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意
    DEFAULT = "default"          # no answer within the confirmation window: closed as resolved


class Ticket(Base):
    """One problem of one compound, numbered per compound (阳光花园-0042)."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("compound_id", "number"),
        Index("ix_tickets_compound_state", "compound_id", "state"),
        # The duplicate check (intake.DUPLICATES): the compound's reports of one category within
        # the window, newest first, read straight from the index (no scan of every open ticket
        # of the compound and no sort; it ran for every report).
        Index("ix_tickets_compound_category_created", "compound_id", "category", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default=TicketState.NEW)
    channel: Mapped[str] = mapped_column(String(16), default="group")  # group | private | web | hotline
    text: Mapped[str] = mapped_column(Text)  # the (first) report as written, capped
    category: Mapped[str] = mapped_column(String(16), default="other")
    urgent: Mapped[bool] = mapped_column(default=False)
    location: Mapped[str] = mapped_column(String(128), default="")  # label, "3号楼2单元501"
    building: Mapped[str | None] = mapped_column(String(16))
    # The reporter's building/unit from the roster (反映人住址), when the text names no place:
    # never mixed with ``location``, which is only what the report itself says.
    reporter_address: Mapped[str | None] = mapped_column(String(64))
    # The NLP's view at intake, stored so duplicate checks never re-analyse old tickets.
    location_parts: Mapped[dict] = mapped_column(default=dict)
    fingerprint: Mapped[list] = mapped_column(default=list)
    nlp_is_issue: Mapped[bool | None]
    nlp_category: Mapped[str | None] = mapped_column(String(16))
    nlp_confidence: Mapped[float | None]
    nlp_reasons: Mapped[list] = mapped_column(default=list)

    reporter_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"),
                                                          index=True)
    reporters_count: Mapped[int] = mapped_column(default=1)

    assignee_kind: Mapped[str | None] = mapped_column(String(24))  # property, grid_worker, …, person
    assignee_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    assignee_label: Mapped[str | None] = mapped_column(String(128))

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    first_response_due: Mapped[datetime | None]
    resolve_due: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    confirm_due: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    satisfaction: Mapped[str | None] = mapped_column(String(16))

    # 督办: escalated to the community committee, shown first in lists and digests.
    supervised: Mapped[bool] = mapped_column(default=False)
    supervised_at: Mapped[datetime | None]
    response_escalated_at: Mapped[datetime | None]
    resolve_escalated_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)

    hotline_order_no: Mapped[str | None] = mapped_column(String(64))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_by_web: Mapped[str | None] = mapped_column(String(64))


class TicketReporter(Base):
    """A resident who raised the ticket (the first reporter and everyone merged in)."""

    __tablename__ = "ticket_reporters"
    __table_args__ = (UniqueConstraint("ticket_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime]
    # Confirmation after 办结: asked_at set, rating empty → a pending confirmation.
    confirm_asked_at: Mapped[datetime | None]
    rating: Mapped[str | None] = mapped_column(String(16))
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]


class TicketMedia(Base):
    """A photo or video attached to a ticket (or, for a few minutes, waiting for the report its
    sender is about to write: ``ticket_id`` empty). The file lives under ``media_dir`` at
    ``path``; it goes when the ticket's messages go (retention) or when the sender recalls it."""

    __tablename__ = "ticket_media"
    __table_args__ = (Index("ix_ticket_media_waiting", "group_id", "person_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    account: Mapped[str] = mapped_column(String(64))
    platform_message_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id", ondelete="SET NULL"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(16), default="image")
    mime: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(default=0)
    path: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]


class TicketCounter(Base):
    """The last ticket number of a compound (numbers are per compound: 阳光花园-0042)."""

    __tablename__ = "ticket_counters"
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class DiscussionDay(Base):
    """A compound's 小区议事日: when and where the branch and the parties meet."""

    __tablename__ = "discussion_days"
    __table_args__ = (UniqueConstraint("compound_id", "starts_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    starts_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), default="planned")  # planned | held | cancelled
    created_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]


class AgendaItem(Base):
    """One topic on a discussion day, with the four fixes (四定): 定时间 the day's time,
    定议题 topic, 定范围 who attends (scope), 定责任 who owns the outcome."""

    __tablename__ = "agenda_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    discussion_day_id: Mapped[int] = mapped_column(ForeignKey("discussion_days.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    topic: Mapped[str] = mapped_column(Text)
    scope: Mapped[list] = mapped_column(default=list)  # labels: ["支部书记", "物业", "业委会", …]
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    owner_label: Mapped[str] = mapped_column(String(128), default="")
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | discussed | dropped
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class HotlineOrder(Base):
    """A 12345 hotline order about a compound: imported from the hotline's export, or linked
    by hand to a ticket (热线 0042 <工单号>). Counted per compound per month."""

    __tablename__ = "hotline_orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str | None] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    source: Mapped[str] = mapped_column(String(16), default="import")  # import | linked
    imported_at: Mapped[datetime]


class NlpCorrection(Base):
    """The branch corrected the NLP: a false ticket (不是问题), a changed category (改类), or
    an explicit report the NLP had missed. ``zhibu nlp retrain`` reads these."""

    __tablename__ = "nlp_corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # not_issue | category | missed_issue | urgency
    text: Mapped[str] = mapped_column(Text)
    predicted_is_issue: Mapped[bool | None]
    predicted_category: Mapped[str | None] = mapped_column(String(16))
    predicted_urgent: Mapped[bool | None]
    is_issue: Mapped[bool]
    category: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(default=False)
    location: Mapped[str | None] = mapped_column(String(128))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_web_user: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]
    used_at: Mapped[datetime | None]  # set by retraining once it took the row in
