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
from bot.models import notices as _notice_tables, schedules as _schedule_tables  # noqa: F401,E402  (notices, collections, job runs, rankings)
from bot.models import web as _web_tables  # noqa: F401,E402  (dashboard users, sessions, API tokens)
from bot.models import members as _member_tables, wishes as _wish_tables  # noqa: F401,E402  (identity requests, posts, points; wishes)
from bot.models import tickets as _ticket_tables  # noqa: F401,E402  (tickets, reporters, agenda, hotline orders, nlp corrections)
from bot.models import limits as _limit_tables  # noqa: F401,E402  (outbox rate-limit pauses)
from bot.models import deadletters as _dead_letter_tables  # noqa: F401,E402  (inbound rows the database refused)
from bot.models import rating as _rating_tables  # noqa: F401,E402  (star rating runs, entries, property reviews, red/black lists)

__all__ = [
    "Base", "Branch", "Building", "ChatGroup", "Community", "Compound", "District", "Event",
    "Identity", "InboundMessage", "InboundStatus", "Invite", "OutboxMessage", "OutboxStatus",
    "Person", "Priority", "PropertyProject", "Role", "RoleName", "Street", "UTCDateTime",
]
