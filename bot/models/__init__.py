"""All tables. Feature modules add their own files here and import them below, so that
``Base.metadata`` (and Alembic) sees every table."""
from bot.models.base import Base, UTCDateTime
from bot.models.events import Event
from bot.models.messages import InboundMessage, InboundStatus, OutboxMessage, OutboxStatus, Priority
from bot.models.org import (
    Branch,
    Building,
    ChatGroup,
    Community,
    Compound,
    District,
    Identity,
    Invite,
    Person,
    PropertyProject,
    Role,
    RoleName,
    Street,
)

__all__ = [
    "Base", "Branch", "Building", "ChatGroup", "Community", "Compound", "District", "Event",
    "Identity", "InboundMessage", "InboundStatus", "Invite", "OutboxMessage", "OutboxStatus",
    "Person", "Priority", "PropertyProject", "Role", "RoleName", "Street", "UTCDateTime",
]
