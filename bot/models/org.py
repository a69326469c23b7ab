"""The organisation: district → street → community → compound, branches, groups, people, roles."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base


class RoleName(StrEnum):
    RESIDENT = "resident"
    PARTY_MEMBER = "party_member"
    BUILDING_LEADER = "building_leader"
    UNIT_LEADER = "unit_leader"
    GRID_WORKER = "grid_worker"
    SOCIAL_WORKER = "social_worker"
    SECRETARY = "secretary"
    COMMUNITY_STAFF = "community_staff"
    DISTRICT_STAFF = "district_staff"
    PROPERTY_MANAGER = "property_manager"
    OWNERS_COMMITTEE = "owners_committee"
    VOLUNTEER = "volunteer"


class District(Base):
    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Street(Base):
    __tablename__ = "streets"
    __table_args__ = (UniqueConstraint("district_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    name: Mapped[str] = mapped_column(String(64))


class Community(Base):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("street_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    name: Mapped[str] = mapped_column(String(64))


class Branch(Base):
    """A compound's Party branch (小区党支部); several compounds may share one."""

    __tablename__ = "branches"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))


class Compound(Base):
    __tablename__ = "compounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    name: Mapped[str] = mapped_column(String(64), unique=True)
    is_key: Mapped[bool] = mapped_column(default=False)  # 重点小区
    # Per-compound settings (ack mode, welcome text, digest time, …) as a small JSON dict.
    settings: Mapped[dict] = mapped_column(default=dict)

    community: Mapped[Community] = relationship(lazy="joined")
    branch: Mapped[Branch | None] = relationship(lazy="joined")


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("compound_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    number: Mapped[str] = mapped_column(String(16))  # "3" for 3号楼
    units: Mapped[int | None]


class PropertyProject(Base):
    """A property company's project in one compound (物业项目): what the monthly ranking ranks."""

    __tablename__ = "property_projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    company: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    manager_name: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)


class ChatGroup(Base):
    """A WeChat group (room) as one bot account sees it, optionally bound to a compound.

    Several accounts may be in one room: each has its row, and at most one row per room is
    ``active`` (serves it: hears and speaks there). Which one is decided in the database by
    ``bot.rooms.settle_room``; a partial unique index makes a second active row impossible.
    """

    __tablename__ = "chat_groups"
    __table_args__ = (UniqueConstraint("account", "platform_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(128), default="")
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    building: Mapped[str | None] = mapped_column(String(16))  # a building's own group, if any
    active: Mapped[bool] = mapped_column(default=True)  # this account serves the room
    # What the account last reported: in the room (True), not in it (False), never said (None:
    # a row from the org file). Kept in the database so every process decides alike.
    in_room: Mapped[bool | None]
    member_count: Mapped[int] = mapped_column(default=0)
    member_names: Mapped[list] = mapped_column(default=list)  # snapshot for re-linking after id changes
    bound_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    bound_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime | None]
    # Set when a re-link after login was a guess the secretary still has to confirm.
    relink_pending: Mapped[bool] = mapped_column(default=False)

    compound: Mapped[Compound | None] = relationship(lazy="joined")


class Person(Base):
    """A human, keyed by our own id: chat platform ids are attributes (see Identity)."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    building: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(16))
    room_no: Mapped[str | None] = mapped_column(String(16))
    on_roster: Mapped[bool] = mapped_column(default=False)  # imported or approved, not just seen in chat
    consent_named: Mapped[bool] = mapped_column(default=True)  # may be named on honour rolls
    created_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)

    roles: Mapped[list[Role]] = relationship(
        back_populates="person", lazy="selectin", cascade="all, delete-orphan", foreign_keys="Role.person_id")


class Role(Base):
    """One role of a person, scoped to a compound, a community, or (both empty) the district."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("person_id", "name", "compound_id", "community_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    granted_at: Mapped[datetime]

    person: Mapped[Person] = relationship(back_populates="roles", foreign_keys=[person_id])


class Identity(Base):
    """A chat platform contact id seen by one bot account, linked to a person.

    Some WeChat connections change contact ids at every login, so this link can be redone;
    ``alias`` holds the stable marker the bot writes into the contact's remark.
    """

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("account", "platform_id"),
        # A person's contacts on one account (whom a private text goes to, whom a mention names):
        # with person and account in separate indexes SQLite read every contact of the account
        # for a batch of sends (4 ms at 20,000 contacts, 19 µs with this one).
        Index("ix_identities_person_account", "person_id", "account"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    alias: Mapped[str | None] = mapped_column(String(64), index=True)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(default=True)


class Invite(Base):
    """A one-time code that links a roster person's chat identity (sent privately to the bot)."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(default=0)


Index("ix_people_name", Person.name)
# One voice per room: at most one account serves a platform room id.
Index("uq_chat_groups_active_room", ChatGroup.platform_id, unique=True,
      postgresql_where=ChatGroup.active, sqlite_where=ChatGroup.active)
