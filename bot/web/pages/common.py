"""Helpers shared by the dashboard pages."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from bot.orgdir import OrgDirectory
from bot.web.api import query_dict
from bot.web.errors import parse
from bot.web.principal import Principal
from bot.web.state import bot
from bot.web.tables import Table, export_response


def page_query(request: web.Request, model: type[BaseModel]) -> Any:
    return parse(model, {k: v for k, v in query_dict(request).items() if k != "format"})


def export_format(request: web.Request) -> str | None:
    fmt = request.query.get("format")
    return fmt if fmt in ("csv", "xlsx") else None


def export(request: web.Request, table: Table, title: str) -> web.Response:
    return export_response(table, export_format(request) or "csv", bot(request).clock, title)


def compound_options(user: Principal, org: OrgDirectory) -> list[tuple[int, str]]:
    return [(cid, org.name_of(cid)) for cid in user.visible(sorted(org.compounds, key=org.name_of))]


def community_options(user: Principal, org: OrgDirectory) -> list[tuple[int, str]]:
    if user.is_district:
        return sorted(org.communities.items(), key=lambda item: item[1])
    return [(cid, org.communities.get(cid, "")) for cid in sorted(user.community_ids)]


async def form_dict(request: web.Request) -> dict[str, Any]:
    """A posted form as a dict for a pydantic model: repeated fields become lists, blanks vanish."""
    form = await request.post()
    out: dict[str, Any] = {}
    for key in form:
        if key == "_csrf":
            continue
        values = [v for v in form.getall(key) if isinstance(v, str) and v.strip() != ""]
        if values:
            out[key] = values if len(values) > 1 else values[0]
    return out
