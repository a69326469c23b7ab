"""The one way to write the audit trail: one ``Event`` row per change, in the caller's transaction.

Tickets, wishes, notices, groups, people and web accounts all record here, so the dashboard's
audit page and every timeline read the same columns the same way. Nothing reads an event back by
its id: the rows are queued and written together when the transaction commits (``bot.queued_rows``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.models import Event
from bot.queued_rows import queue


class Doer(Protocol):
    """Who acted: a chat person, a dashboard user, or neither (the system). ``bot.services.Actor`` is one."""

    person_id: int | None
    web_user: str | None


def record_event(session: AsyncSession | Session, subject_kind: str, subject_id: int, action: str, at: datetime, *,
                 actor: Doer | None = None, actor_person_id: int | None = None, actor_web_user: str | None = None,
                 from_state: str | None = None, to_state: str | None = None, note: str | None = None,
                 data: dict | None = None) -> Event:
    """Add one row to the trail; ``actor`` fills the actor columns unless they are given. The row
    is written at the commit (or before the session's next statement); its id is not filled in."""
    if actor is not None:
        actor_person_id = actor_person_id if actor_person_id is not None else actor.person_id
        actor_web_user = actor_web_user if actor_web_user is not None else actor.web_user
    event = Event(subject_kind=subject_kind, subject_id=subject_id, action=action, at=at,
                  actor_person_id=actor_person_id, actor_web_user=actor_web_user,
                  from_state=from_state, to_state=to_state, note=note, data=data)
    queue(session, event)
    return event
