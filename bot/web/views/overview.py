"""Headline figures for the overview page: what needs attention in the user's compounds."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import ChatGroup, Person
from bot.services import Deps
from bot.services import members as M
from bot.services import wish_queries as WQ
from bot.services import wishes as W
from bot.services.tickets import queries
from bot.web.principal import Principal
from bot.web.views.org import compound_filter

if TYPE_CHECKING:
    from bot.app import BotApp


async def _count(session: AsyncSession, stmt) -> int:  # noqa: ANN001
    return (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()


async def figures(session: AsyncSession, app: "BotApp", user: Principal) -> dict[str, Any]:
    people = select(Person.id).where(Person.on_roster.is_(True))
    groups = select(ChatGroup.id).where(ChatGroup.active.is_(True), ChatGroup.compound_id.is_not(None))
    where_p = compound_filter(user, Person.compound_id, None)
    where_g = compound_filter(user, ChatGroup.compound_id, None)
    if where_p is not None:
        people, groups = people.where(where_p), groups.where(where_g)
    out: dict[str, Any] = {
        "compounds": len(user.visible(app.org.compounds)),
        "people": await _count(session, people),
        "groups": await _count(session, groups),
        "tickets": None, "attention": [], "wishes_open": None, "stale_claims": None, "pending_requests": None,
    }
    deps = Deps(session, app.clock, app.outbox, app.org, app.settings)
    ids = None if user.is_district else sorted(user.compound_ids or [])
    views = await queries.list_tickets(deps, user.actor(), compound_ids=ids, limit=5000)
    out["tickets"] = {"open": len(views), "overdue": sum(v.overdue for v in views),
                      "urgent": sum(v.urgent for v in views), "supervised": sum(v.supervised for v in views),
                      "new": sum(v.state == "new" for v in views)}
    out["attention"] = [v for v in views if v.overdue or v.urgent or v.supervised or v.state == "new"][:8]
    out["wishes_open"] = len(await WQ.open_wishes(session, ids))
    out["stale_claims"] = len(await WQ.stale_claims(session, app.clock.now(), timedelta(days=W.REMIND_DAYS), ids))
    out["pending_requests"] = len([r for r in await M.pending_requests(deps, user.actor())
                                   if user.sees(r.compound_id)])
    return out
