"""Photos and videos around a report: kept for the sender's report of the last minutes, or waiting
briefly for the report they are about to write; unclaimed ones are not kept."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot import media as store
from bot.models.tickets import ACTIVE_STATES, Ticket, TicketMedia, TicketReporter
from bot.services import Deps
from bot.services.gate import CachedFlag
from bot.services.tickets.events import record
from bot.services.tickets.rights import SYSTEM
from bot.texts import tickets as T


async def _query_any_waiting(deps: Deps) -> bool:
    return (await deps.session.execute(
        select(TicketMedia.id).where(TicketMedia.ticket_id.is_(None)).limit(1))).first() is not None


# "Is any photo waiting for its report?" Almost never: a report need not look (nor purge).
any_waiting = CachedFlag(_query_any_waiting)
any_waiting.forget_on_write(lambda obj: isinstance(obj, TicketMedia) and obj.ticket_id is None)


async def recent_ticket_of(deps: Deps, person_id: int, group_id: int | None, window: timedelta) -> Ticket | None:
    """The ticket this person reported (or joined) in this chat within ``window``."""
    since = deps.clock.now() - window
    where_group = TicketReporter.group_id.is_(None) if group_id is None else TicketReporter.group_id == group_id
    return (await deps.session.execute(
        select(Ticket).join(TicketReporter, TicketReporter.ticket_id == Ticket.id).where(
            TicketReporter.person_id == person_id, where_group, TicketReporter.reported_at >= since,
            Ticket.state.in_(ACTIVE_STATES))
        .order_by(TicketReporter.reported_at.desc()).limit(1))).scalars().first()


async def take_media(deps: Deps, *, account: str, platform_message_id: str, message_id: int | None,
                     group_id: int | None, person_id: int, kind: str, mime: str, data: bytes,
                     media_dir: Path, window: timedelta) -> tuple[TicketMedia, Ticket | None]:
    """Store a photo/video; attach it to the sender's report of the last ``window`` in this chat,
    or keep it waiting for the report they are about to write."""
    now = deps.clock.now()
    path = store.save(media_dir, data, at=now, mime=mime)
    ticket = await recent_ticket_of(deps, person_id, group_id, window)
    row = TicketMedia(ticket_id=ticket.id if ticket else None, account=account,
                      platform_message_id=platform_message_id, message_id=message_id, group_id=group_id,
                      person_id=person_id, kind=kind, mime=mime[:64], size=len(data), path=path, created_at=now)
    deps.session.add(row)
    await deps.session.flush()
    if ticket is not None:
        record(deps, SYSTEM, ticket, "media_added", note=T.MEDIA_KIND_LABELS.get(kind, kind),
                   data={"media_id": row.id})
    return row, ticket


async def attach_waiting_media(deps: Deps, ticket: Ticket, person_id: int | None, group_id: int | None,
                               window: timedelta) -> int:
    """Photos the reporter posted just before the report join the ticket."""
    if person_id is None:
        return 0
    since = deps.clock.now() - window
    where_group = TicketMedia.group_id.is_(None) if group_id is None else TicketMedia.group_id == group_id
    rows = list((await deps.session.execute(select(TicketMedia).where(
        TicketMedia.ticket_id.is_(None), TicketMedia.person_id == person_id, where_group,
        TicketMedia.created_at >= since))).scalars())
    for row in rows:
        row.ticket_id = ticket.id
        record(deps, SYSTEM, ticket, "media_added", note=T.MEDIA_KIND_LABELS.get(row.kind, row.kind),
                   data={"media_id": row.id})
    return len(rows)


async def purge_waiting_media(deps: Deps, media_dir: Path, window: timedelta) -> int:
    """Photos no report claimed within the window are not kept (they were just chatter)."""
    cutoff = deps.clock.now() - window
    rows = list((await deps.session.execute(select(TicketMedia).where(
        TicketMedia.ticket_id.is_(None), TicketMedia.created_at < cutoff))).scalars())
    for row in rows:
        await drop_media(deps, row, media_dir)
    return len(rows)


async def drop_media(deps: Deps, row: TicketMedia, media_dir: Path) -> None:
    path = row.path
    await deps.session.delete(row)
    await deps.session.flush()
    # Content-addressed: the same photo may be attached elsewhere too.
    others = (await deps.session.execute(select(func.count()).select_from(TicketMedia).where(
        TicketMedia.path == path))).scalar_one()
    if not others:
        store.delete(media_dir, path)


async def media_of(session: Any, ticket_id: int) -> list[TicketMedia]:
    return list((await session.execute(select(TicketMedia).where(TicketMedia.ticket_id == ticket_id)
                                        .order_by(TicketMedia.created_at, TicketMedia.id))).scalars())
