"""Private messages about a ticket, through the outbox (quiet hours decided by the caller)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from bot.models import Person, Priority
from bot.models.tickets import Ticket
from bot.services import Deps
from bot.services.tickets.policy import SUBJECT


def tell(deps: Deps, person_id: int | None, text: str, ticket: Ticket, *, priority: int = Priority.REPLY,
         not_before: datetime | None = None) -> None:
    if person_id is None:
        return
    deps.outbox.enqueue(deps.session, text, person_id=person_id, priority=priority, ref=(SUBJECT, ticket.id),
                        not_before=not_before)


def tell_many(deps: Deps, people: Iterable[Person | int], text: str, ticket: Ticket, *,
               skip: int | None = None, priority: int = Priority.REPLY,
               not_before: datetime | None = None) -> list[int]:
    told: list[int] = []
    for item in people:
        pid = item if isinstance(item, int) else item.id
        if pid == skip or pid in told:
            continue
        tell(deps, pid, text, ticket, priority=priority, not_before=not_before)
        told.append(pid)
    return told
