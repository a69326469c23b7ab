"""Make an arriving message's fields storable in every database we support.

One bad character must not cost a message (or, in a shared INSERT, its neighbours):
PostgreSQL rejects NUL in text, SQLite's driver rejects lone surrogates (which JSON can
carry), and platform ids longer than their column fail the INSERT. Fix them where they
enter, so the stored row is always writable.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from bot.transports.base import RoomInfo

# NUL, and UTF-16 surrogates that did not pair up into a character (Python keeps them as
# code points; no database driver can encode them).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable_text(text: str | None) -> str:
    """The text with NUL and lone surrogates replaced by U+FFFD (everything else kept)."""
    if not text:
        return ""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def capped_text(text: str | None, limit: int) -> tuple[str, bool]:
    """Storable text cut to ``limit`` characters, and whether it was cut."""
    text = storable_text(text)
    return (text[:limit], True) if len(text) > limit else (text, False)


def storable_id(value: str | None, limit: int) -> str | None:
    """An identifier that fits its column and stays the same for the same input.

    A too-long id keeps a readable head and ends in a hash of the whole value: two long ids
    that share their head stay distinct, and a redelivery of the same id maps to the same
    stored value (deduplication keeps working) without widening the column.
    """
    if value is None:
        return None
    value = storable_text(value)
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{value[:limit - 34]}#h{digest}"


def storable_name(value: str | None, limit: int) -> str:
    """A display name cut to its column (names are not keys: a plain cut is enough)."""
    return storable_text(value)[:limit]


def storable_room(room: RoomInfo) -> RoomInfo:
    """A room as a login or join event reported it, made storable like a message: its topic
    and member names reach the database too (a topic with NUL failed the whole login sync)."""
    return replace(room, platform_id=storable_id(room.platform_id, 128) or "",
                   topic=storable_name(room.topic, 128),
                   member_names=tuple(storable_name(name, 64) for name in room.member_names))
