"""The social workers' visit lists (社工来敲门) and their reminders: 日走访 key spots every day,
周入户 households in difficulty every week, 月遍访 every household (by building/unit) every month.
Lists are kept by the community, in chat (添加走访 …) or imported from a table."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import or_, select

from bot.models import Person, Priority, Role, RoleName
from bot.models.schedules import VisitKind, VisitTarget
from bot.privacy import mask_pii
from bot.services import Actor, Deps, ServiceError
from bot.texts import visits as T

VISIT_ROLES = frozenset({RoleName.SOCIAL_WORKER, RoleName.GRID_WORKER, RoleName.SECRETARY,
                         RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF})
KIND_BY_WORD = {"日走访": VisitKind.DAILY, "走访": VisitKind.DAILY, "周入户": VisitKind.WEEKLY, "入户": VisitKind.WEEKLY,
                "月遍访": VisitKind.MONTHLY, "遍访": VisitKind.MONTHLY}
MAX_LABEL = 60
REMINDER_ITEMS = 30


def kind_of(word: str) -> str | None:
    return KIND_BY_WORD.get(word.strip())


def _check_rights(deps: Deps, actor: Actor, compound_id: int) -> None:
    if not actor.roles.has_any(VISIT_ROLES, compound_id):
        raise ServiceError(T.NOT_ALLOWED.format(compound=deps.org.name_of(compound_id)))


async def add_target(deps: Deps, actor: Actor, compound_id: int, kind: str, label: str, note: str | None = None,
                     worker_person_id: int | None = None) -> VisitTarget:
    _check_rights(deps, actor, compound_id)
    if kind not in set(VisitKind):
        raise ServiceError(T.BAD_KIND)
    label = " ".join((label or "").split())
    if not label:
        raise ServiceError(T.EMPTY_LABEL)
    if len(label) > MAX_LABEL:
        raise ServiceError(T.TOO_LONG.format(limit=MAX_LABEL))
    existing = (await deps.session.execute(select(VisitTarget).where(
        VisitTarget.compound_id == compound_id, VisitTarget.kind == kind, VisitTarget.label == label,
        VisitTarget.active.is_(True)))).scalar_one_or_none()
    if existing is not None:
        raise ServiceError(T.DUPLICATE.format(compound=deps.org.name_of(compound_id), kind=T.KIND_LABELS[kind],
                                              label=label, id=existing.id))
    target = VisitTarget(compound_id=compound_id, kind=kind, label=label, note=(note or "").strip()[:500] or None,
                         worker_person_id=worker_person_id or (actor.person_id if actor.roles.has(
                             RoleName.SOCIAL_WORKER, compound_id) else None),
                         created_at=deps.clock.now(), created_by=actor.person_id)
    deps.session.add(target)
    await deps.session.flush()
    return target


async def _get(deps: Deps, actor: Actor, target_id: int) -> VisitTarget:
    target = await deps.session.get(VisitTarget, target_id)
    if target is None or not target.active:
        raise ServiceError(T.NOT_FOUND.format(id=target_id))
    _check_rights(deps, actor, target.compound_id)
    return target


async def remove_target(deps: Deps, actor: Actor, target_id: int) -> VisitTarget:
    target = await _get(deps, actor, target_id)
    target.active = False
    return target


async def mark_visited(deps: Deps, actor: Actor, target_ids: Iterable[int]) -> list[VisitTarget]:
    done = []
    for target_id in target_ids:
        target = await _get(deps, actor, target_id)
        target.last_visited_at = deps.clock.now()
        target.last_visited_by = actor.person_id
        done.append(target)
    return done


async def list_targets(deps: Deps, actor: Actor, compound_id: int, kind: str | None = None) -> list[VisitTarget]:
    _check_rights(deps, actor, compound_id)
    query = select(VisitTarget).where(VisitTarget.compound_id == compound_id, VisitTarget.active.is_(True))
    if kind:
        query = query.where(VisitTarget.kind == kind)
    return list((await deps.session.execute(query.order_by(VisitTarget.kind, VisitTarget.id))).scalars())


# ---------------------------------------------------------------- reminders
def period_start(kind: str, local_now: datetime) -> datetime:
    """Local start of the current day / ISO week / month."""
    day = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == VisitKind.WEEKLY:
        return day - timedelta(days=day.weekday())
    if kind == VisitKind.MONTHLY:
        return day.replace(day=1)
    return day


@dataclass
class Reminder:
    person_id: int
    compound_id: int
    text: str


async def due_reminders(deps: Deps, kind: str) -> list[Reminder]:
    """Per compound and social worker: the targets of ``kind`` not yet visited this period."""
    since = period_start(kind, deps.clock.local()).astimezone(deps.clock.now().tzinfo)
    targets = list((await deps.session.execute(select(VisitTarget).where(
        VisitTarget.kind == kind, VisitTarget.active.is_(True),
        or_(VisitTarget.last_visited_at.is_(None), VisitTarget.last_visited_at < since),
    ).order_by(VisitTarget.compound_id, VisitTarget.id))).scalars())
    if not targets:
        return []
    compounds = sorted({t.compound_id for t in targets})
    communities = {deps.org.community_of.get(c) for c in compounds} - {None}
    roles = (await deps.session.execute(select(Role.person_id, Role.compound_id, Role.community_id).where(
        Role.name == RoleName.SOCIAL_WORKER,
        or_(Role.compound_id.in_(compounds), Role.community_id.in_(communities))))).all()
    workers_of: dict[int, set[int]] = {}
    for person_id, compound_id, community_id in roles:
        for c in compounds:
            if compound_id == c or (compound_id is None and community_id == deps.org.community_of.get(c)):
                workers_of.setdefault(c, set()).add(person_id)
    by_person: dict[tuple[int, int], list[VisitTarget]] = {}
    for t in targets:
        recipients = {t.worker_person_id} if t.worker_person_id else workers_of.get(t.compound_id, set())
        for person_id in recipients:
            by_person.setdefault((person_id, t.compound_id), []).append(t)
    reminders = []
    for (person_id, compound_id), items in sorted(by_person.items()):
        lines = [T.REMINDER_HEADER.format(kind=T.KIND_LABELS[kind], compound=deps.org.name_of(compound_id),
                                          period=T.REMINDER_PERIOD[kind], target=T.KIND_TARGET[kind],
                                          count=len(items))]
        for index, t in enumerate(items[:REMINDER_ITEMS], 1):
            lines.append(T.REMINDER_LINE.format(index=index, id=t.id, label=t.label,
                                                note=f"（{t.note}）" if t.note else ""))
        if len(items) > REMINDER_ITEMS:
            lines.append(T.REMINDER_MORE.format(count=len(items) - REMINDER_ITEMS))
        lines.append(T.REMINDER_TAIL)
        reminders.append(Reminder(person_id, compound_id, mask_pii("\n".join(lines))))
    return reminders


async def send_reminders(deps: Deps, kind: str) -> int:
    reminders = await due_reminders(deps, kind)
    for r in reminders:
        deps.outbox.enqueue(deps.session, r.text, person_id=r.person_id, priority=Priority.BROADCAST,
                            ref=("visit_reminder", r.compound_id))
    return len(reminders)


# ---------------------------------------------------------------- import
COLUMNS = {"compound": ("小区", "compound"), "kind": ("类型", "kind"), "label": ("对象", "地点", "住户", "label"),
           "note": ("备注", "note"), "worker": ("社工", "worker")}


def read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        if not rows:
            return []
        header = [str(h or "").strip() for h in rows[0]]
        return [dict(zip(header, row)) for row in rows[1:] if any(v not in (None, "") for v in row)]
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


async def import_targets(deps: Deps, actor: Actor, rows: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """All or nothing: (added count, problems). Rows already on the list are skipped."""
    problems: list[str] = []
    if not rows:
        return 0, ["表格是空的"]
    header = set(rows[0])
    column = {}
    for key, names in COLUMNS.items():
        column[key] = next((n for n in names if n in header), None)
    for key in ("compound", "kind", "label"):
        if column[key] is None:
            problems.append(T.IMPORT_MISSING_COLUMN.format(column=COLUMNS[key][0]))
    if problems:
        return 0, problems
    planned = []
    for index, row in enumerate(rows, start=2):
        def cell(key: str) -> str:
            return str(row.get(column[key]) or "").strip() if column[key] else ""
        info = deps.org.find(cell("compound"))
        kind = kind_of(cell("kind"))
        worker_id = None
        if info is None:
            problems.append(T.IMPORT_BAD_ROW.format(row=index, problem=T.IMPORT_UNKNOWN_COMPOUND.format(name=cell("compound"))))
            continue
        if kind is None:
            problems.append(T.IMPORT_BAD_ROW.format(row=index, problem=T.BAD_KIND.split("\n")[0]))
            continue
        if not cell("label"):
            problems.append(T.IMPORT_BAD_ROW.format(row=index, problem=T.EMPTY_LABEL.split("\n")[0]))
            continue
        if cell("worker"):
            worker_id = (await deps.session.execute(select(Person.id).where(
                Person.name == cell("worker"), Person.compound_id == info.id))).scalars().first()
            if worker_id is None:
                problems.append(T.IMPORT_BAD_ROW.format(row=index, problem=T.IMPORT_UNKNOWN_WORKER.format(name=cell("worker"))))
                continue
        if not actor.is_system and not actor.roles.has_any(VISIT_ROLES, info.id):
            problems.append(T.IMPORT_BAD_ROW.format(row=index, problem=T.NOT_ALLOWED.format(compound=info.name)))
            continue
        planned.append((info.id, kind, re.sub(r"\s+", " ", cell("label"))[:MAX_LABEL], cell("note"), worker_id))
    if problems:
        return 0, problems
    added = 0
    seen: set[tuple[int, str, str]] = set()
    for compound_id, kind, label, note, worker_id in planned:
        if (compound_id, kind, label) in seen:
            continue
        seen.add((compound_id, kind, label))
        exists = (await deps.session.execute(select(VisitTarget.id).where(
            VisitTarget.compound_id == compound_id, VisitTarget.kind == kind, VisitTarget.label == label,
            VisitTarget.active.is_(True)))).first()
        if exists:
            continue
        deps.session.add(VisitTarget(compound_id=compound_id, kind=kind, label=label, note=note or None,
                                     worker_person_id=worker_id, created_at=deps.clock.now(),
                                     created_by=actor.person_id))
        added += 1
    await deps.session.flush()
    return added, []
