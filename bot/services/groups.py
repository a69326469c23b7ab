"""Chat groups: binding to a compound, the bot joining, leaving and seeing rooms renamed, and the
secretaries' confirmation of a group re-linked by a guess after a login.

Every entrance goes through here: the chat command 绑定 (``handlers/core.py``), the dashboard
(``bot/web/views/org.py``), the roster import (``bot/orgimport.py``), the configured WeCom groups (``bot/transports/wecom/setup.py``), the
transports' room events (``BotApp``) and the post-login matching (``bot/relink.py``). One
``Event`` row per change.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import Doer, record_event
from bot.models import ChatGroup, Priority, Role, RoleName
from bot.orgdir import OrgDirectory
from bot.outbox import fail_pending_for_group
from bot.rooms import settle_room
from bot.services import Actor, Deps, ServiceError
from bot.texts import core as T
from bot.texts.wechaty import TEXT_CONFIRM_GUESS
from bot.transports.base import RoomInfo

# Why the group's waiting sends failed (shown with the row on the dashboard and by the doctor).
REMOVED_FROM_GROUP = "机器人已被移出该群"

ChatBinding = Literal["bound", "confirmed", "already"]


class CompoundNames(Protocol):
    """What binding needs of the org directory: a compound's name for the trail."""

    def name_of(self, compound_id: int | None) -> str: ...


# --------------------------------------------------------------------------- binding

def bind(session: AsyncSession, org: CompoundNames, group: ChatGroup, compound_id: int | None, now: datetime,
         *, actor: Doer | None = None) -> bool:
    """Bind ``group`` to a compound (None: unbind). False when it was bound there already."""
    previous = group.compound_id
    if previous == compound_id:
        return False
    group.compound_id = compound_id
    group.bound_at = now if compound_id is not None else None
    if actor is not None:
        group.bound_by = actor.person_id
    group.relink_pending = False
    record_event(session, "group", group.id, "bound" if compound_id is not None else "unbound", now, actor=actor,
                 from_state=str(previous or ""), to_state=str(compound_id or ""),
                 note=org.name_of(compound_id) or org.name_of(previous))
    return True


def confirm_relink(session: AsyncSession, org: OrgDirectory, group: ChatGroup, now: datetime,
                   *, actor: Doer | None = None) -> bool:
    """A secretary confirms a group re-linked by a guess. False when none was pending."""
    if not group.relink_pending:
        return False
    group.relink_pending = False
    record_event(session, "group", group.id, "relink_confirmed", now, actor=actor,
                 note=org.name_of(group.compound_id))
    return True


def bind_from_chat(deps: Deps, actor: Actor, group: ChatGroup, compound_id: int) -> ChatBinding:
    """绑定 typed in the group: staff of that compound bind it, or confirm a guessed re-link."""
    if not actor.roles.is_staff_for(compound_id):
        raise ServiceError(T.BIND_NOT_SECRETARY.format(compound=deps.org.name_of(compound_id)))
    now = deps.clock.now()
    if group.compound_id == compound_id:
        return "confirmed" if confirm_relink(deps.session, deps.org, group, now, actor=actor) else "already"
    bind(deps.session, deps.org, group, compound_id, now, actor=actor)
    return "bound"


async def ask_to_confirm_guesses(deps: Deps, groups: Iterable[ChatGroup]) -> None:
    """Ask the secretaries, privately, to confirm each bound group re-linked by a guess."""
    for group in groups:
        if group.compound_id is None or not group.relink_pending:
            continue
        secretaries = (await deps.session.execute(select(Role.person_id).where(
            Role.name == RoleName.SECRETARY, Role.compound_id == group.compound_id))).scalars().all()
        text = TEXT_CONFIRM_GUESS.format(topic=group.topic, count=group.member_count,
                                         compound=deps.org.name_of(group.compound_id))
        for person_id in sorted(set(secretaries)):
            deps.outbox.enqueue(deps.session, text, person_id=person_id, priority=Priority.REPLY,
                                account=group.account)


# --------------------------------------------------------------------------- rooms

async def _group_of(session: AsyncSession, account: str, platform_id: str) -> ChatGroup | None:
    return (await session.execute(select(ChatGroup).where(
        ChatGroup.account == account, ChatGroup.platform_id == platform_id))).scalar_one_or_none()


async def room_joined(deps: Deps, account: str, room: RoomInfo, *, bot_joined: bool) -> ChatGroup:
    """The bot (``bot_joined``) or someone joined a room: record it; the bot introduces itself,
    a newcomer gets the compound's welcome text. A room another account serves stays quiet."""
    session, now = deps.session, deps.clock.now()
    group = await _group_of(session, account, room.platform_id)
    if group is None:
        group = ChatGroup(account=account, platform_id=room.platform_id, topic=room.topic, first_seen_at=now,
                          active=False)
        session.add(group)
    group.in_room = True
    group.member_count = room.member_count or group.member_count
    await settle_room(session, group.platform_id, now)
    if not group.active:
        return group  # another account serves this room
    if bot_joined:
        if group.compound_id is None:
            text = T.JOINED_UNBOUND.format(bot_name=T.BOT_NAME)
        else:
            text = T.SELF_INTRO.format(bot_name=T.BOT_NAME, compound=deps.org.name_of(group.compound_id),
                                       days=deps.settings.retention_days)
        deps.outbox.enqueue(session, text, group_id=group.id, priority=Priority.REPLY)
    elif group.compound_id is not None:
        welcome = deps.org.setting(group.compound_id, "welcome_text")
        if welcome:
            deps.outbox.enqueue(session, welcome, group_id=group.id, priority=Priority.BROADCAST)
    return group


async def bot_removed(deps: Deps, account: str, room_id: str) -> ChatGroup | None:
    """The bot was removed from a room: another account in it takes over, else the group goes
    quiet and its waiting sends fail."""
    session, now = deps.session, deps.clock.now()
    group = await _group_of(session, account, room_id)
    if group is None:
        return None
    group.in_room = False
    successor = await settle_room(session, group.platform_id, now)
    if successor is None or successor is group:  # nobody else is in the room
        group.active = False
        await fail_pending_for_group(session, group.id, REMOVED_FROM_GROUP)
    record_event(session, "group", group.id, "bot_removed", now, note=group.topic)
    return group


def rename(session: AsyncSession, group: ChatGroup, topic: str, now: datetime) -> bool:
    """The room's name changed. False when it is the same."""
    if group.topic == topic:
        return False
    record_event(session, "group", group.id, "renamed", now, note=f"{group.topic} → {topic}")
    group.topic = topic
    return True


async def room_renamed(deps: Deps, account: str, room_id: str, topic: str) -> ChatGroup | None:
    group = await _group_of(deps.session, account, room_id)
    if group is not None:
        rename(deps.session, group, topic, deps.clock.now())
    return group
