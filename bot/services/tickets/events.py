"""The ticket's history: every change is one ``Event`` row with subject_kind="ticket"."""
from __future__ import annotations

from bot.models import Event
from bot.models.tickets import Ticket
from bot.services import Actor, Deps
from bot.services.tickets.policy import SUBJECT


def record(deps: Deps, actor: Actor, ticket: Ticket, action: str, *, from_state: str | None = None,
           to_state: str | None = None, note: str | None = None, data: dict | None = None) -> Event:
    now = deps.clock.now()
    ticket.updated_at = now
    event = Event(subject_kind=SUBJECT, subject_id=ticket.id, action=action, at=now,
                  actor_person_id=actor.person_id, actor_web_user=actor.web_user,
                  from_state=from_state, to_state=to_state, note=note, data=data)
    deps.session.add(event)
    return event
