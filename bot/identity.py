"""Resolving who and where a message comes from: identities → people, rooms → groups."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChatGroup, Identity, Person

# last_seen is refreshed at most this often, to spare a write per message.
_SEEN_GRANULARITY = timedelta(hours=1)


async def person_for(session: AsyncSession, account: str, platform_id: str, display_name: str,
                     now: datetime, alias: str | None = None) -> Person:
    """The person behind a platform contact id; a first-time sender becomes a new resident."""
    ident = (await session.execute(
        select(Identity).where(Identity.account == account, Identity.platform_id == platform_id)
    )).scalar_one_or_none()
    if ident is None:
        person = Person(name=display_name or platform_id, created_at=now, roles=[])
        session.add(person)
        await session.flush()
        session.add(Identity(account=account, platform_id=platform_id, person_id=person.id,
                             display_name=display_name, alias=alias, first_seen_at=now, last_seen_at=now))
        return person
    if display_name and ident.display_name != display_name:
        ident.display_name = display_name  # display only: never consulted for rights
    if now - ident.last_seen_at > _SEEN_GRANULARITY:
        ident.last_seen_at = now
    person = await session.get(Person, ident.person_id)
    assert person is not None
    return person


async def group_for(session: AsyncSession, account: str, platform_id: str, topic: str | None,
                    now: datetime) -> ChatGroup:
    group = (await session.execute(
        select(ChatGroup).where(ChatGroup.account == account, ChatGroup.platform_id == platform_id)
    )).scalar_one_or_none()
    if group is None:
        group = ChatGroup(account=account, platform_id=platform_id, topic=topic or "", first_seen_at=now)
        session.add(group)
        await session.flush()
    elif topic and group.topic != topic:
        group.topic = topic
    return group
