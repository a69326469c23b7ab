"""The ticket's history: every change is one ``Event`` row with subject_kind="ticket"."""
from __future__ import annotations

from datetime import datetime

from bot.audit import record_event
from bot.models import Event
from bot.models.tickets import Ticket
from bot.services import Actor, Deps
from bot.services.tickets.policy import SUBJECT

# In the data of an "auto_closed" event: how many reporters were asked and never answered
# (their rating is the default one; the satisfaction counts read it from there).
DEFAULTED = "defaulted"


def record(deps: Deps, actor: Actor, ticket: Ticket, action: str, *, from_state: str | None = None,
           to_state: str | None = None, note: str | None = None, data: dict | None = None,
           at: datetime | None = None) -> Event:
    """One change of ``ticket`` by ``actor``; the ticket counts as updated now (or ``at``: a new
    ticket's creation time, so that recording it does not update the row just inserted)."""
    now = at or deps.clock.now()
    if ticket.updated_at != now:  # a new ticket's creation: setting it would only make the row dirty
        ticket.updated_at = now
    return record_event(deps.session, SUBJECT, ticket.id, action, now, actor=actor,
                        from_state=from_state, to_state=to_state, note=note, data=data)
