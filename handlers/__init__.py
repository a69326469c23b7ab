"""Feature routers. ``all_routers()`` is the one place that decides their order."""
from __future__ import annotations

from bot.router import Router


def all_routers() -> list[Router]:
    """Every feature's router, in matching order (text hooks also sort by their own order)."""
    from handlers import core

    routers = [core.router]
    for name in ("members", "tickets", "agenda", "wishes", "posts", "notices", "visits", "rating"):
        try:
            module = __import__(f"handlers.{name}", fromlist=["router"])
        except ModuleNotFoundError as exc:
            if exc.name != f"handlers.{name}":
                raise
            continue
        routers.append(module.router)
    return routers
