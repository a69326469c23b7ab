"""Alias markers: the bot writes ``name#zb<person id>`` into a contact's remark (alias).

Web-protocol puppets hand out new WeChat ids at every login; the remark survives, so a marker
lets the dispatcher (``bot.identity``) and the post-login matching (``bot.relink``) find the
person again without ever trusting a display name. ``bot.marker_writer`` writes them.
"""
from __future__ import annotations

import re

MARKER_RE = re.compile(r"#zb(\d+)$")
MARKER_NAME_CHARS = 16


def marker_for(name: str, person_id: int) -> str:
    """The alias written into a contact's remark: readable name + ``#zb<person id>``."""
    base = (name or "").strip()[:MARKER_NAME_CHARS]
    return f"{base}#zb{person_id}"


def parse_marker(alias: str | None) -> int | None:
    if not alias:
        return None
    match = MARKER_RE.search(alias.strip())
    return int(match.group(1)) if match else None
