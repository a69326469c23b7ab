"""Database ids in URLs and forms: a number no row can have is "not found", never a crash.

Primary keys are 32-bit integers on PostgreSQL (and SQLite refuses anything past 64 bits),
so a 20-digit id from a URL would reach the driver and fail there as a 500.
"""
from __future__ import annotations

from aiohttp import web

MAX_ID = 2**31 - 1


def valid_id(raw: str | int) -> bool:
    """A positive id some row could have."""
    text = str(raw)
    return text.isdigit() and 0 < len(text) <= 10 and 0 < int(text) <= MAX_ID


@web.middleware
async def ids_in_range(request: web.Request, handler):  # noqa: ANN001, ANN201
    """Every ``{…_id}`` path part out of range is a 404 before any view reads it."""
    for name, value in request.match_info.items():
        if name.endswith("_id") and value.isdigit() and not valid_id(value):
            raise web.HTTPNotFound()
    return await handler(request)
