"""What a handler gets: the message, who sent it, where, and ways to answer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.models import ChatGroup, InboundMessage, OutboxMessage, Person, Priority
from bot.orgdir import OrgDirectory
from bot.outbox import Outbox
from bot.roles import Roles
from bot.transports.base import Incoming


@dataclass
class Context:
    incoming: Incoming
    message: InboundMessage
    session: AsyncSession
    person: Person
    roles: Roles
    group: ChatGroup | None
    clock: Clock
    settings: Settings
    outbox: Outbox
    org: OrgDirectory
    text: str  # the message text, mention stripped and trimmed
    services: dict[str, Any] = field(default_factory=dict)

    @property
    def in_group(self) -> bool:
        return self.group is not None

    @property
    def compound_id(self) -> int | None:
        """The compound this message is about: the group's, else the sender's own."""
        if self.group is not None:
            return self.group.compound_id
        return self.person.compound_id

    @property
    def compound_name(self) -> str:
        return self.org.name_of(self.compound_id)

    def reply(self, text: str, *, mention: bool = False, priority: int = Priority.REPLY) -> list[OutboxMessage]:
        """Answer where the message came from (the group, or privately)."""
        if self.group is not None:
            return self.outbox.enqueue(
                self.session, text, group_id=self.group.id, priority=priority,
                mention_person_ids=[self.person.id] if mention else (),
                account=self.group.account, in_reply_to=self.message.id,
            )
        return self.tell(self.person.id, text, priority=priority)

    def tell(self, person_id: int, text: str, *, priority: int = Priority.REPLY,
             ref: tuple[str, int] | None = None) -> list[OutboxMessage]:
        """A private message to a person."""
        return self.outbox.enqueue(self.session, text, person_id=person_id, priority=priority,
                                   ref=ref, in_reply_to=self.message.id)

    def post(self, group_id: int, text: str, *, priority: int = Priority.REPLY,
             mention_person_ids: Sequence[int] = ()) -> list[OutboxMessage]:
        return self.outbox.enqueue(self.session, text, group_id=group_id, priority=priority,
                                   mention_person_ids=mention_person_ids)

    def keep_message(self) -> None:
        """This message is part of a case: keep it past the chatter retention."""
        self.message.keep = True

    @property
    def deps(self) -> "Deps":
        from bot.services import Deps

        return Deps(self.session, self.clock, self.outbox, self.org, self.settings)

    @property
    def actor(self) -> "Actor":
        from bot.services import Actor

        return Actor(name=self.person.name, roles=self.roles, person_id=self.person.id)
