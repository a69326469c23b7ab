"""One-time codes that link a roster person (names and phones) to their chat identity."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import record_event
from bot.models import Identity, InboundMessage, Invite, Person, Role

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6


def new_code() -> str:
    """Six characters with at least one digit (so an English word is never taken for a code)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if any(ch.isdigit() for ch in code):
            return code


async def create_invite(session: AsyncSession, person: Person, role: str, now: datetime, ttl_hours: int,
                        compound_id: int | None = None, community_id: int | None = None) -> Invite:
    while True:
        code = new_code()
        if not (await session.execute(select(Invite.id).where(Invite.code == code))).first():
            break
    invite = Invite(code=code, person_id=person.id, role=role, compound_id=compound_id,
                    community_id=community_id, created_at=now, expires_at=now + timedelta(hours=ttl_hours))
    session.add(invite)
    await session.flush()
    return invite


class InviteError(Exception):
    pass


async def redeem(session: AsyncSession, code: str, chat_person: Person, now: datetime) -> Person:
    """Link the chat identity behind ``chat_person`` to the invite's roster person."""
    invite = (await session.execute(select(Invite).where(Invite.code == code.upper()))).scalar_one_or_none()
    if invite is None or invite.expires_at < now:
        raise InviteError("bad")
    if invite.used_at is not None:
        raise InviteError("used")
    target = await session.get(Person, invite.person_id)
    assert target is not None
    invite.used_at = now
    if chat_person.id != target.id:
        await session.execute(update(Identity).where(Identity.person_id == chat_person.id)
                              .values(person_id=target.id))
        await session.execute(update(InboundMessage).where(InboundMessage.person_id == chat_person.id)
                              .values(person_id=target.id))
    has_role = any(r.name == invite.role and r.compound_id == invite.compound_id
                   and r.community_id == invite.community_id for r in target.roles)
    if not has_role:
        session.add(Role(person_id=target.id, name=invite.role, compound_id=invite.compound_id,
                         community_id=invite.community_id, granted_at=now))
    record_event(session, "person", target.id, "linked", now, actor_person_id=target.id,
                 note=f"验证码关联，身份 {invite.role}")
    await session.flush()
    await session.refresh(target, ["roles"])
    return target
