"""Ticket settings and deadlines: what a compound (or the district) configured, else our defaults."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from bot.models.tickets import Ticket
from bot.services import Deps
from bot.texts import tickets as T
from nlp import CATEGORY_LABELS


SUBJECT = "ticket"
MAX_TEXT = 2000          # a ticket keeps at most this much of the report
MAX_NOTE = 500           # notes, resolutions, reasons
QUOTE = 80               # how much of the report a notification quotes


DEFAULT_DEADLINES: dict[str, tuple[timedelta, timedelta]] = {
    # key: "urgent" or a category; value: (to first response, to resolution)
    "urgent": (timedelta(minutes=30), timedelta(hours=24)),
    "default": (timedelta(hours=24), timedelta(days=7)),
    "elevator": (timedelta(hours=8), timedelta(days=3)),
    "utilities": (timedelta(hours=8), timedelta(days=3)),
    "safety": (timedelta(hours=8), timedelta(days=3)),
    "assistance": (timedelta(hours=8), timedelta(days=3)),
    "sanitation": (timedelta(hours=24), timedelta(days=3)),
    "noise": (timedelta(hours=24), timedelta(days=3)),
    "roads": (timedelta(hours=24), timedelta(days=14)),
    "greening": (timedelta(hours=24), timedelta(days=14)),
    "dispute": (timedelta(hours=24), timedelta(days=14)),
}
DEFAULTS: dict[str, Any] = {
    "ack_mode": "group",
    "duplicate_window_hours": 72,
    "confirm_days": 3,
    "quiet_hours": (22, 7),  # local hours: non-urgent notices to staff wait for the morning
    "tell_reporters": True,  # reporters hear privately of the assignment and the assignee's progress
}
# Categories the property company answers for (it attends their discussion day); what counts as a
# complaint against it is the rating standard's rule (bot.services.rating.complaints).
PROPERTY_CATEGORIES = frozenset({"property", "sanitation", "parking", "elevator", "greening"})

FALLBACK_LABELS = {
    "property": "物业服务", "sanitation": "环境卫生/垃圾", "parking": "停车/车棚/充电",
    "roads": "道路/路灯/井盖/排水", "utilities": "水电气暖/网络", "elevator": "电梯",
    "noise": "噪音扰民", "safety": "安全/消防", "dispute": "邻里纠纷", "greening": "绿化",
    "pets": "宠物", "assistance": "困难帮扶/求助", "other": "其他",
}


def category_labels() -> dict[str, str]:
    return {**FALLBACK_LABELS, **CATEGORY_LABELS}


def category_label(code: str | None) -> str:
    return category_labels().get(code or "other", code or "其他")


def policy(deps: Deps, compound_id: int | None, key: str, default: Any = None) -> Any:
    """A ticket setting: the compound's, else the district's ``tickets`` section, else ours."""
    value = deps.org.setting(compound_id, key) if compound_id else None
    if value is not None:
        return value
    section = getattr(deps.settings, "tickets", None)
    if section is not None:
        value = section.get(key) if isinstance(section, dict) else getattr(section, key, None)
        if value is not None:
            return value
    return DEFAULTS.get(key, default) if default is None else default


def acks_in_group(deps: Deps, compound_id: int | None, *, in_group: bool, late: bool = False) -> bool:
    """Whether a reporter hears back in the group (else privately, the ``…_PRIVATE`` wording): only
    for a report made in a group and handled in time, in a compound whose ``ack_mode`` is "group".
    The one place this is decided, for the first acknowledgement and every later word."""
    return in_group and not late and policy(deps, compound_id, "ack_mode") != "private"


def _span(spec: dict, prefix: str) -> timedelta | None:
    for unit in ("minutes", "hours", "days"):
        value = spec.get(f"{prefix}_{unit}")
        if isinstance(value, (int, float)) and value > 0:
            return timedelta(**{unit: value})
    return None


def deadlines_for(deps: Deps, compound_id: int, category: str, urgent: bool) -> tuple[timedelta, timedelta]:
    """(to first response, to resolution) for a ticket of this category and urgency."""
    key = "urgent" if urgent else category
    first, resolve = DEFAULT_DEADLINES.get(key, DEFAULT_DEADLINES["default"])
    overrides = policy(deps, compound_id, "ticket_deadlines", {}) or {}
    for name in ("default", key):
        spec = overrides.get(name) if isinstance(overrides, dict) else None
        if isinstance(spec, dict):
            first = _span(spec, "first_response") or first
            resolve = _span(spec, "resolve") or resolve
    return first, resolve


def parse_category(word: str) -> str | None:
    word = word.strip()
    labels = category_labels()
    if word in labels:
        return word
    for code, label in labels.items():
        if word == label or word in label.split("/"):
            return code
    return T.CATEGORY_WORDS.get(word)


def set_deadlines(deps: Deps, ticket: Ticket, *, from_time: datetime) -> None:
    first, resolve = deadlines_for(deps, ticket.compound_id, ticket.category, ticket.urgent)
    ticket.first_response_due = from_time + first
    ticket.resolve_due = from_time + resolve


def after_quiet_hours(deps: Deps, ticket: Ticket) -> datetime | None:
    """For a non-urgent notice at night (``quiet_hours``, default 22–7 local): when it may go."""
    if ticket.urgent:
        return None
    start, end = policy(deps, ticket.compound_id, "quiet_hours")
    local = deps.clock.local()
    if start <= end:
        quiet = start <= local.hour < end
    else:
        quiet = local.hour >= start or local.hour < end
    if not quiet:
        return None
    wake = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if wake <= local:
        wake += timedelta(days=1)
    return wake.astimezone(timezone.utc)
