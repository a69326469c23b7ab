"""Duty groups: send-only staff channels bound to a compound (a WeCom group robot in the
community's duty group, say) that receive the compound's urgent alerts and daily digest
besides the people who get them.

A transport serving such groups registers its account-name prefix here, so the services find
a compound's duty groups without knowing which platform is behind them.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChatGroup

duty_account_prefixes: set[str] = set()


def is_duty_group():  # noqa: ANN201  (an SQL condition)
    """True for a duty group's row: residents' notices skip them (a community's robot serves one
    ChatGroup per compound and would get a district notice once per compound)."""
    if not duty_account_prefixes:
        return false()
    return or_(*[ChatGroup.account.startswith(prefix) for prefix in sorted(duty_account_prefixes)])


async def duty_groups(session: AsyncSession, compound_ids: Iterable[int]) -> dict[int, list[int]]:
    """compound id → ids of its active duty groups (none registered: no query)."""
    ids = list(compound_ids)
    if not duty_account_prefixes or not ids:
        return {}
    rows = (await session.execute(select(ChatGroup.compound_id, ChatGroup.id).where(
        ChatGroup.compound_id.in_(ids), ChatGroup.active.is_(True), is_duty_group())
        .order_by(ChatGroup.id))).all()
    found: dict[int, list[int]] = defaultdict(list)
    for compound_id, group_id in rows:
        found[compound_id].append(group_id)
    return dict(found)
