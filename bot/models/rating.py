"""Branch star rating (支部评星): rating runs and each compound's result, the entered items
(正负清单, 一票否决, 业委会审计 findings), the branch's property review form (物业评议) and the
monthly red/black lists (红黑榜)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class RunStatus(StrEnum):
    DRAFT = "draft"          # computed; each community's staff review their compounds
    REVIEWED = "reviewed"    # every compound reviewed (or the district reviewed the rest); the district approves
    APPROVED = "approved"    # final; published to staff
    PUBLISHED = "published"  # results sent to staff and secretaries


class RatingRun(Base):
    """One rating period (``2026-Q4``) for the whole district; rerunning a draft recomputes it."""

    __tablename__ = "rating_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(16), unique=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.DRAFT)
    standard_name: Mapped[str] = mapped_column(String(128))
    standard_version: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None]


class CompoundRating(Base):
    """A compound's result in a run: aspects, items (value, rule, points, the data behind
    them), the property score, stars as computed and as adjusted (with a reason), class."""

    __tablename__ = "compound_ratings"
    __table_args__ = (UniqueConstraint("run_id", "compound_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("rating_runs.id", ondelete="CASCADE"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    branch_score: Mapped[float]           # 0–100: the five aspects
    property_score: Mapped[float | None]  # 0–100; None: no property project
    total: Mapped[float]                  # 0–100 after the property weighting and bonuses
    computed_stars: Mapped[int]
    stars: Mapped[int]                    # after vetoes and any adjustment
    klass: Mapped[str] = mapped_column(String(16))
    vetoes: Mapped[list] = mapped_column(default=list)
    aspects: Mapped[list] = mapped_column(default=list)
    items: Mapped[list] = mapped_column(default=list)
    property_detail: Mapped[dict] = mapped_column(default=dict)
    adjusted_by: Mapped[str | None] = mapped_column(String(64))
    adjustment_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))  # the community's reviewer
    reviewed_at: Mapped[datetime | None]


class EntryKind(StrEnum):
    POSITIVE = "positive"  # 正面清单: commendation
    NEGATIVE = "negative"  # 负面清单: incident
    VETO = "veto"          # 一票否决 (the standard's veto key in ``item_key``)
    AUDIT = "audit"        # 业委会审计 finding, rectified by its owner before its deadline


class RatingEntry(Base):
    """An item entered by community/district staff, with its evidence; audit findings also
    carry an owner and a deadline and are closed when rectified."""

    __tablename__ = "rating_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    item_key: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255))
    evidence: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    owner: Mapped[str | None] = mapped_column(String(64))
    deadline: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    withdrawn: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class PropertyReview(Base):
    """The branch's 物业评议 form for its property project in one period."""

    __tablename__ = "property_reviews"
    __table_args__ = (UniqueConstraint("project_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("property_projects.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    period: Mapped[str] = mapped_column(String(16))
    scores: Mapped[dict] = mapped_column(default=dict)  # form item key → points given
    form_score: Mapped[float]
    note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime]
    submitted_by: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class PropertyListEntry(Base):
    """A property project on a month's red or black list, with why."""

    __tablename__ = "property_lists"
    __table_args__ = (UniqueConstraint("month", "project_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("property_projects.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    board: Mapped[str] = mapped_column(String(8))  # red | black
    score: Mapped[float | None]
    complaints: Mapped[int]
    reasons: Mapped[list] = mapped_column(default=list)
    ticket_ids: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime]
