"""Party members' side of the branch: identity requests (亮身份), volunteer posts (设岗定责),
duty reports, and the service-point ledger behind service records and honour rolls."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class IdentityRequest(Base):
    """A person's application for a compound role (``亮身份 党员 3号楼2单元``), shown as R<id>.

    Tied to the person (internal id), never to a display name; no rights until approved.
    """

    __tablename__ = "identity_requests"
    __table_args__ = (Index("ix_identity_requests_compound_state", "compound_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    role: Mapped[str] = mapped_column(String(32))
    building: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(16))
    room_no: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    applicant_name: Mapped[str] = mapped_column(String(128), default="")  # display name when applying
    group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))  # where they applied
    state: Mapped[str] = mapped_column(String(16), default=RequestState.PENDING)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_by_web: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)


class VolunteerPost(Base):
    """A volunteer post a secretary defines (楼道安全巡查员 …), shown as P<id>.

    ``schedule`` is ``{"days": [0..6] (Monday=0), "start": "HH:MM", "end": "HH:MM" | None}``
    in district-local time, or None for a post without fixed duty times.
    """

    __tablename__ = "volunteer_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    duties: Mapped[str | None] = mapped_column(Text)
    schedule: Mapped[dict | None]
    schedule_text: Mapped[str | None] = mapped_column(String(64))
    capacity: Mapped[int | None]  # None: any number of members
    # Maintained only by conditional UPDATEs, so concurrent sign-ups cannot overfill the post.
    holder_count: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime]


class SignupState(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class PostSignup(Base):
    """A member holding a post (认岗). One row per (post, person); leaving and rejoining reuse it."""

    __tablename__ = "post_signups"
    __table_args__ = (UniqueConstraint("post_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("volunteer_posts.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=SignupState.ACTIVE)
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    # The duty slot (UTC start) last reminded of: a restart or a second tick never reminds twice.
    last_reminded_for: Mapped[datetime | None]


class DutyReport(Base):
    """A member reporting a duty done (到岗/打卡): at most one per post, person and local day."""

    __tablename__ = "duty_reports"
    __table_args__ = (UniqueConstraint("post_id", "person_id", "duty_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("volunteer_posts.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    duty_date: Mapped[date]
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)


class PointKind(StrEnum):
    WISH = "wish"   # a micro-wish fulfilled and confirmed
    DUTY = "duty"   # a duty reported at a volunteer post


class ServicePoint(Base):
    """The points ledger: one row per credited deed, unique so nothing is credited twice."""

    __tablename__ = "service_points"
    __table_args__ = (
        UniqueConstraint("person_id", "kind", "subject_id"),
        Index("ix_service_points_compound_at", "compound_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int]  # the wish id or the duty report id
    points: Mapped[int]
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(128))
