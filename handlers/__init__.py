"""Feature routers. ``all_routers()`` is the one place that decides their order."""
from __future__ import annotations

from bot.router import Router
from handlers import agenda, core, members, notices, posts, rating, tickets, visits, wishes


def all_routers() -> list[Router]:
    """Every feature's router, in matching order (text hooks also sort by their own order)."""
    return [core.router, members.router, tickets.router, agenda.router, wishes.router, posts.router,
            notices.router, visits.router, rating.router]
