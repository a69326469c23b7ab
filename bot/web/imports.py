"""Roster import from the dashboard: the foundation's importer, in chunks with progress.

``parse_file`` checks the whole file first (nothing is written when any row is wrong); then
``apply_plan`` runs chunk by chunk in ONE transaction, so the progress bar moves and a failure
still leaves nothing behind. A secretary may only import into their own compound(s).
"""
from __future__ import annotations

import asyncio
import logging
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from sqlalchemy import select

from bot.audit import record_event
from bot.models import District
from bot.orgimport import OrgImportError, OrgPlan, apply_in_chunks, choose_account, parse_file
from bot.texts import web as T
from bot.web.principal import Principal

if TYPE_CHECKING:
    from bot.app import BotApp

log = logging.getLogger(__name__)

CHUNK = 50
MAX_BYTES = 10 * 1024 * 1024
JOB_TTL_SECONDS = 3600
_ROW = re.compile(r"第(\d+)行")
_COLUMN = re.compile(r"列\s*([^：:]+)[：:]")


@dataclass
class Problem:
    row: int | None
    column: str | None
    message: str


@dataclass
class ImportJob:
    id: str
    owner: str
    filename: str
    created_at: datetime
    status: str = "running"   # running, done, failed
    total: int = 1
    done: int = 0
    problems: list[Problem] = field(default_factory=list)
    result: dict | None = None

    @property
    def percent(self) -> int:
        return 100 if self.status != "running" else min(99, int(100 * self.done / max(1, self.total)))

    def as_dict(self) -> dict:
        return {"id": self.id, "filename": self.filename, "status": self.status, "total": self.total,
                "done": self.done, "percent": self.percent, "result": self.result,
                "problems": [p.__dict__ for p in self.problems]}


def problem_of(text: str, tmp_path: str, filename: str) -> Problem:
    text = text.replace(tmp_path, filename)
    row = _ROW.search(text)
    column = _COLUMN.search(text)
    message = text
    if column:
        message = text[column.end():].strip()
    elif row:
        message = text[row.end():].lstrip("，,：: ").strip() or text
    return Problem(int(row.group(1)) if row else None, column.group(1).strip() if column else None, message)


def scope_problems(plan: OrgPlan, user: Principal, app: "BotApp") -> list[Problem]:
    """What a non-district user may not import: other compounds, moves, area roles."""
    if user.is_district:
        return []
    problems = []
    for spec in plan.compounds.values():
        info = app.org.by_name.get(spec.name)
        if info is None or not user.sees(info.id) or info.community != spec.community:
            problems.append(Problem(None, "小区", T.IMPORT_OUT_OF_SCOPE.format(name=spec.name)))
    for person in plan.people:
        for role, community in person.roles:
            if role == "district_staff":
                problems.append(problem_of(f"{person.where}，列 角色：{T.IMPORT_ROLE_FORBIDDEN}", "", ""))
            elif role == "community_staff":
                name = community or (plan.compounds[person.compound].community if person.compound else None)
                ids = [cid for cid, n in app.org.communities.items() if n == name]
                if not ids or not set(ids) & set(user.community_ids):
                    problems.append(problem_of(f"{person.where}，列 角色：{T.IMPORT_ROLE_FORBIDDEN}", "", ""))
    return problems


async def _district_name(app: "BotApp") -> str:
    async with app.worker_sessions() as session:
        name = (await session.execute(select(District.name).order_by(District.id))).scalars().first()
    return name or "默认区"


async def run_import(app: "BotApp", job: ImportJob, user: Principal, data: bytes) -> None:
    suffix = Path(job.filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="zhibu-import-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            plan = await asyncio.to_thread(parse_file, path, await _district_name(app))
        except OrgImportError as exc:
            job.problems = [problem_of(p, str(path), job.filename) for p in exc.problems]
            job.status = "failed"
            return
        for person in plan.people:  # rows name the uploaded file, not our temporary copy
            person.where = person.where.replace(str(path), job.filename)
    job.problems = scope_problems(plan, user, app)
    if job.problems:
        job.status = "failed"
        return
    try:  # the same account rule as `zhibu import org` (a group on the wrong account is never answered)
        account = choose_account(list(app.transports), None, plan)
    except OrgImportError as exc:
        job.problems = [problem_of(p, str(path), job.filename) for p in exc.problems]
        job.status = "failed"
        return
    job.total = len(plan.people) + 1
    now = app.clock.now()

    async def advance(n: int) -> None:
        job.done += n
        await asyncio.sleep(0)  # let the progress poll in

    async with app.worker_sessions() as session:
        try:
            result = await apply_in_chunks(session, plan, now, account=account, size=CHUNK, advance=advance,
                                           actor=user.actor())
            job.result = {"compounds": result.compounds, "people": result.people, "groups": result.groups,
                          "roles": result.roles}
            record_event(session, "roster", 0, "imported", now, actor_web_user=user.username, note=job.filename,
                         data=job.result)
            await session.commit()
        except Exception as exc:  # noqa: BLE001  (a database error: nothing was written)
            await session.rollback()
            log.exception("roster import %s failed", job.id)
            job.problems = [Problem(None, None, f"{T.SERVER_ERROR}（{type(exc).__name__}）")]
            job.status = "failed"
            return
    await app.refresh_org()
    job.status = "done"


def upload_name(raw: str) -> str:
    """The uploaded file's own name (some clients percent-encode non-ASCII names)."""
    name = Path(unquote(raw) if "%" in raw else raw).name
    return name[:128] or "upload"


def new_job(owner: str, filename: str, now: datetime) -> ImportJob:
    return ImportJob(id=secrets.token_urlsafe(12), owner=owner, filename=upload_name(filename), created_at=now)


def forget_old(jobs: dict[str, ImportJob], now: datetime) -> None:
    for key in [k for k, j in jobs.items() if (now - j.created_at).total_seconds() > JOB_TTL_SECONDS]:
        del jobs[key]
