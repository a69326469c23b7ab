"""What a handler gets: the message, who sent it, where, and ways to answer."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.models import ChatGroup, InboundMessage, OutboxMessage, Person, Priority
from bot.orgdir import OrgDirectory
from bot.outbox import Outbox
from bot.roles import Roles
from bot.services import Actor, Deps
from bot.texts import inbound as TI
from bot.transports.base import Incoming

# How much of the sender's words a late private answer quotes.
LATE_QUOTE_CHARS = 30


def loaded_row(row: Any) -> Any:
    """``row`` if it is in the session already; None while it is only the factory that would
    attach it (then the dispatcher writes the message's status by a plain UPDATE)."""
    return None if callable(row) else row


class Context:
    """The message being handled. ``person``, ``group`` and ``message`` are attached to the
    session only when a handler first touches them: most chat needs just their ids, and
    attaching (an ORM merge of the cached copies) is the dearest step of handling chatter."""

    def __init__(self, *, incoming: Incoming, session: AsyncSession, roles: Roles, clock: Clock,
                 settings: Settings, outbox: Outbox, org: OrgDirectory, text: str,
                 person: Person | Callable[[], Person], group: ChatGroup | Callable[[], ChatGroup] | None,
                 message: InboundMessage | Callable[[], InboundMessage], person_id: int,
                 group_id: int | None, message_id: int, group_snapshot: ChatGroup | None = None,
                 person_snapshot: Person | None = None,
                 services: dict[str, Any] | None = None, late: bool = False) -> None:
        self.incoming = incoming
        self.session = session
        self.roles = roles
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.org = org
        self.text = text  # the message text, mention stripped and trimmed
        self.services = services or {}
        self.person_id = person_id
        self.group_id = group_id
        self.message_id = message_id
        # Handled long after it was sent (stored before a stop, processed after the restart):
        # answers go privately to the sender, marked as late, instead of into a group that has
        # moved on (and that a backlog of late answers would flood).
        self.late = late
        self._person = person
        self._group = group
        self._message = message
        self.keep = False  # keep the message past the chatter retention (see keep_message)
        # Read-only copies of the sender and the group for cheap questions (name; bound compound,
        # account).
        self._person_snapshot = person_snapshot if person_snapshot is not None else (
            person if isinstance(person, Person) else None)
        self._group_snapshot = group_snapshot if group_snapshot is not None else (
            group if isinstance(group, ChatGroup) else None)

    @property
    def person(self) -> Person:
        if callable(self._person):
            self._person = self._person()
        return self._person

    @person.setter
    def person(self, person: Person) -> None:
        """The sender turned out to be someone else (an invite code linked a roster record)."""
        self._person = person
        self.person_id = person.id

    @property
    def group(self) -> ChatGroup | None:
        if callable(self._group):
            self._group = self._group()
        return self._group

    @property
    def message(self) -> InboundMessage:
        if callable(self._message):
            self._message = self._message()
        return self._message

    @property
    def loaded_message(self) -> InboundMessage | None:
        """The message's row if a handler attached it to the session, else None."""
        return loaded_row(self._message)

    @property
    def in_group(self) -> bool:
        return self.group_id is not None

    def _group_view(self) -> ChatGroup | None:
        """The attached group once a handler touched it (it may have changed it), else the copy."""
        return self._group_snapshot if callable(self._group) else self._group

    @property
    def group_compound_id(self) -> int | None:
        """The compound the group is bound to (None: private chat or an unbound group)."""
        group = self._group_view()
        return group.compound_id if group is not None else None

    @property
    def group_account(self) -> str | None:
        group = self._group_view()
        return group.account if group is not None else None

    @property
    def compound_id(self) -> int | None:
        """The compound this message is about: the group's, else the sender's own."""
        if self.group_id is not None:
            return self.group_compound_id
        return self.person.compound_id

    @property
    def compound_name(self) -> str:
        return self.org.name_of(self.compound_id)

    def reply(self, text: str, *, mention: bool = False, priority: int = Priority.REPLY) -> list[OutboxMessage]:
        """Answer where the message came from (the group, or privately; privately when late)."""
        if self.group_id is not None and self.late:
            topic = (self._group_view().topic if self._group_view() is not None else "") or "群"
            quote = " ".join(self.text.split())[:LATE_QUOTE_CHARS]
            return self.tell(self.person_id, TI.LATE_GROUP_PREFIX.format(topic=topic, quote=quote) + text,
                             priority=priority)
        if self.group_id is not None:
            return self.outbox.enqueue(
                self.session, text, group_id=self.group_id, priority=priority,
                mention_person_ids=[self.person_id] if mention else (),
                account=self.group_account, in_reply_to=self.message_id,
            )
        # Privately, answer on the account the message came in on: a person reachable on
        # several (WeChat and WeCom) is answered where they just wrote.
        return self.outbox.enqueue(self.session, text, person_id=self.person_id, priority=priority,
                                   account=self.incoming.account, in_reply_to=self.message_id)

    def tell(self, person_id: int, text: str, *, priority: int = Priority.REPLY,
             ref: tuple[str, int] | None = None) -> list[OutboxMessage]:
        """A private message to a person (to the sender of a late message: marked as late)."""
        if self.late and person_id == self.person_id:
            text = f"{text}\n{TI.LATE_NOTE}"
        return self.outbox.enqueue(self.session, text, person_id=person_id, priority=priority,
                                   ref=ref, in_reply_to=self.message_id)

    def post(self, group_id: int, text: str, *, priority: int = Priority.REPLY,
             mention_person_ids: Sequence[int] = ()) -> list[OutboxMessage]:
        return self.outbox.enqueue(self.session, text, group_id=group_id, priority=priority,
                                   mention_person_ids=mention_person_ids)

    def keep_message(self) -> None:
        """This message is part of a case: keep it past the chatter retention (written with the
        message's status by the dispatcher)."""
        self.keep = True

    @property
    def deps(self) -> Deps:
        return Deps(self.session, self.clock, self.outbox, self.org, self.settings)

    @property
    def actor(self) -> Actor:
        person = self._person_snapshot if callable(self._person) else self._person
        return Actor(name=person.name, roles=self.roles, person_id=self.person_id)
