"""Micro-wishes (微心愿): the wish, who claimed it, and the claimers' progress notes."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base


class WishState(StrEnum):
    OPEN = "open"            # claimable: fewer claimers than max_claimers (maybe some already)
    CLAIMED = "claimed"      # every place taken
    DONE = "done"            # a claimer says it is fulfilled; waiting for the wisher's confirmation
    CONFIRMED = "confirmed"  # the wisher (or the poster / secretary) confirmed: points credited
    CANCELLED = "cancelled"
    EXPIRED = "expired"      # deadline passed with nobody on it


ACTIVE_WISH_STATES = (WishState.OPEN, WishState.CLAIMED)


class Wish(Base):
    """A resident's small wish, shown as W<id>.

    ``summary`` (and building, category, deadline) are public; ``details``, ``address`` and
    ``contact_phone`` are private: only the claimers, the poster, the wisher and the branch see them.
    """

    __tablename__ = "wishes"
    __table_args__ = (Index("ix_wishes_compound_state", "compound_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    building: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(128))
    contact_phone: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(16))
    deadline: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default=WishState.OPEN)
    max_claimers: Mapped[int] = mapped_column(default=1)
    # Maintained only by conditional UPDATEs, so concurrent claims can never overfill a wish.
    claimer_count: Mapped[int] = mapped_column(default=0)
    wisher_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    wisher_name: Mapped[str] = mapped_column(String(64), default="")
    posted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    posted_by_web: Mapped[str | None] = mapped_column(String(64))
    on_behalf: Mapped[bool] = mapped_column(default=False)  # posted for someone not in WeChat
    source_group_id: Mapped[int | None] = mapped_column(ForeignKey("chat_groups.id"))
    public_thanks: Mapped[bool] = mapped_column(default=False)  # the wisher agreed to a public thank-you
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    confirm_reminded_at: Mapped[datetime | None]
    # After a stale claim is released: how often, when the wish was last offered again (at
    # most once per few days), when the secretary was told it keeps falling through.
    release_count: Mapped[int] = mapped_column(default=0)
    reoffered_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    # A claimer's note names a future date (an appointment): no release before it.
    hold_until: Mapped[datetime | None]

    @property
    def number(self) -> str:
        return f"W{self.id}"


class ClaimState(StrEnum):
    ACTIVE = "active"
    DONE = "done"          # the wish was marked fulfilled while this claim was active
    GAVE_UP = "gave_up"
    RELEASED = "released"  # no progress for too long: back to the pool
    CANCELLED = "cancelled"  # the wish was withdrawn


class WishClaim(Base):
    """One member on one wish. Unique per (wish, person): a re-claim reuses the row."""

    __tablename__ = "wish_claims"
    __table_args__ = (UniqueConstraint("wish_id", "person_id"), Index("ix_wish_claims_state", "state"))
    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=ClaimState.ACTIVE)
    claimed_at: Mapped[datetime]
    last_progress_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class WishProgress(Base):
    """A claimer's progress note, the done note, or a wisher's "not done yet"."""

    __tablename__ = "wish_progress"
    id: Mapped[int] = mapped_column(primary_key=True)
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(16), default="progress")  # progress / done / not_done
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
