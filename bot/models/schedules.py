"""Scheduled work as rows: job runs, the single-runner lease, digests sent, the monthly
property ranking and the social workers' visit lists.

The scheduler is a clock that reads these tables, so a restart (or a second process on the
same database) loses nothing and sends nothing twice.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class JobStatus(StrEnum):
    REGISTERED = "registered"  # first sight of a job: the anchor its fire times count from
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    MISSED = "missed"          # due while no scheduler ran, and past its grace period


class JobRun(Base):
    """One fire time of one job. Unique per (job, due time): a run cannot happen twice."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "due_at"), Index("ix_job_runs_status", "status", "job"))
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(255))


class SchedulerLease(Base):
    """Who runs the schedules. Renewed each tick; another process takes over after expiry."""

    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class DigestRun(Base):
    """A digest for one recipient scope and one period (daily: the local date; weekly: the
    ISO week), so each goes out once and "new since the last digest" has a start."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("kind", "scope_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))      # "daily" (compound) / "weekly" (community)
    scope_id: Mapped[int]                                # compound id / community id
    period: Mapped[str] = mapped_column(String(16))    # "2026-12-01" / "2026-W49"
    due_at: Mapped[datetime]
    covered_from: Mapped[datetime | None]
    covered_to: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="sent")  # sent / missed / empty
    recipients: Mapped[int] = mapped_column(default=0)
    data: Mapped[dict | None]  # the figures, for week-on-week comparisons


class RankingAction(StrEnum):
    SUPERVISE = "supervise"                # top 30: supervision list, talk with the project head
    REPLACE_MANAGER = "replace_manager"    # two months running
    REPLACE_COMPANY = "replace_company"    # three months running


class PropertyRanking(Base):
    """One property project's place in one month's complaint ranking (投诉量前30名)."""

    __tablename__ = "property_rankings"
    __table_args__ = (UniqueConstraint("month", "project_id"), Index("ix_property_rankings_month_rank", "month", "rank"))
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # "2026-11"
    project_id: Mapped[int] = mapped_column(ForeignKey("property_projects.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    company: Mapped[str] = mapped_column(String(128))
    project_name: Mapped[str] = mapped_column(String(128))
    complaints: Mapped[int]
    rank: Mapped[int]
    months_running: Mapped[int] = mapped_column(default=0)  # consecutive months in the top list, this one included
    action: Mapped[str | None] = mapped_column(String(32))   # RankingAction when on the list
    created_at: Mapped[datetime]


class VisitKind(StrEnum):
    DAILY = "daily"      # 日走访: key spots
    WEEKLY = "weekly"    # 周入户: households in difficulty
    MONTHLY = "monthly"  # 月遍访: every household (by building/unit)


class VisitTarget(Base):
    """An entry of a community's visit list (社工来敲门)."""

    __tablename__ = "visit_targets"
    __table_args__ = (Index("ix_visit_targets_compound_kind", "compound_id", "kind", "active"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    worker_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # assigned social worker
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    last_visited_at: Mapped[datetime | None]
    last_visited_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


# Indexes the digests and the ranking need on the tickets' tables (grouped queries over every
# compound: new / resolved / rated since a time, open by state). Declared here, next to the
# queries' owner, so the ticket model stays about the ticket flow; one definition each.
from bot.models.tickets import Ticket, TicketReporter  # noqa: E402

Index("ix_tickets_created_at", Ticket.created_at)
Index("ix_tickets_resolved_at", Ticket.resolved_at)
Index("ix_tickets_state_compound", Ticket.state, Ticket.compound_id)
Index("ix_ticket_reporters_rated_at", TicketReporter.rated_at)
