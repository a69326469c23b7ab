"""Dashboard accounts: web users and their scopes, sessions, API tokens, log-in throttling.

Actions taken through the dashboard are audited in the shared ``events`` table with
``actor_web_user`` set to the account's user name.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base


class WebRole(StrEnum):
    SECRETARY = "secretary"              # sees their compound(s)
    COMMUNITY_STAFF = "community_staff"  # sees every compound of their community
    DISTRICT_STAFF = "district_staff"    # sees everything


class WebUser(Base):
    __tablename__ = "web_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    is_admin: Mapped[bool] = mapped_column(default=False)  # may create and disable accounts
    # A linked roster person: their staff roles widen the scope, and chat texts name them.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(64))
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]

    scopes: Mapped[list[WebUserScope]] = relationship(
        back_populates="user", lazy="selectin", cascade="all, delete-orphan")


class WebUserScope(Base):
    """One compound or one community a web user is responsible for."""

    __tablename__ = "web_user_scopes"
    id: Mapped[int] = mapped_column(primary_key=True)
    web_user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)

    user: Mapped[WebUser] = relationship(back_populates="scopes")


class WebSession(Base):
    """A logged-in browser. The id is a hash of the cookie token: a database copy opens no session."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    web_user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))


class ApiToken(Base):
    """A bearer token for integrations (12345 platform, data screens); only its hash is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    web_user_id: Mapped[int] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists so a token can be recognised
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed log-in, counted per user name and per address within the throttle window."""

    __tablename__ = "web_login_failures"
    __table_args__ = (Index("ix_web_login_failures_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))  # "user:<name>" or "ip:<address>"
    at: Mapped[datetime]


class WebSetting(Base):
    """Small key/value state of the web server (the generated session secret)."""

    __tablename__ = "web_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
