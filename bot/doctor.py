"""`zhibu doctor` and `zhibu outbox status`: what an operator must fix, one line per finding.

Read-only: the doctor neither migrates the database nor opens the gateway's event stream (that
would take held messages away from the running bot). Findings are "ok", "warn" or "error";
any error makes `zhibu doctor` exit non-zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot import db
from bot.clock import Clock, SystemClock
from bot.config import LOOPBACK_HOSTS, Settings
from bot.deadletters import dead_letter_count
from bot.models import ChatGroup, Compound, InboundMessage, InboundStatus, OutboxMessage, OutboxStatus, Person
from bot.models.web import WebUser
from bot.outbox import OutboxRow, outbox_report
from bot.texts import doctor as T
from bot.transports.gateway_probe import GatewayProbe, probe_gateway

Probe = Callable[..., Awaitable[GatewayProbe]]
BACKLOG_AFTER = timedelta(minutes=15)  # a reply that waits this long means sends are stuck
LIST_MAX = 20                          # per kind of finding, so the output stays readable


@dataclass(frozen=True)
class Finding:
    level: str  # "ok" | "warn" | "error"
    zh: str
    en: str

    def line(self) -> str:
        return f"{T.LEVELS[self.level]} {self.zh} / {self.en}"


def _f(level: str, text: tuple[str, str], **values: Any) -> Finding:
    return Finding(level, text[0].format(**values), text[1].format(**values))


# ---------------------------------------------------------------- configuration
def check_config(settings: Settings) -> list[Finding]:
    found: list[Finding] = []
    accounts = settings.wechaty.all_accounts()
    if accounts:
        found.append(_f("ok", T.ACCOUNTS, names="、".join(a.name for a in accounts)))
    else:
        found.append(_f("error", T.NO_GATEWAY))
    for key in ("org_file", "nlp_rules_file", "nlp_model_file"):
        path = getattr(settings, key)
        if path is not None and not Path(path).exists():
            found.append(_f("error", T.FILE_MISSING, key=key, path=path))
    return found


async def check_database(engine: AsyncEngine) -> tuple[bool, list[Finding]]:
    """Whether the schema is current (the other database checks need it)."""
    head = db.head_revision()
    try:
        current = await db.database_revision(engine)
    except Exception as exc:  # noqa: BLE001 (any driver error: the operator needs its text)
        return False, [_f("error", T.DB_UNREACHABLE, error=str(exc).splitlines()[0][:200])]
    if current is None:
        return False, [_f("error", T.DB_EMPTY)]
    if current != head:
        return False, [_f("error", T.DB_OUTDATED, current=current, head=head)]
    return True, [_f("ok", T.DB_OK, head=head)]


# ---------------------------------------------------------------- gateway and groups
def gateway_finding(account: str, probe: GatewayProbe) -> Finding:
    where = {"account": account, "endpoint": probe.endpoint}
    if not probe.reachable:
        return _f("error", T.GW_UNREACHABLE, error=probe.error, **where)
    if probe.token_ok is False:
        return _f("error", T.GW_TOKEN, **where)
    if probe.error:
        return _f("error", T.GW_ERROR, error=probe.error, **where)
    if not probe.logged_in:
        return _f("error", T.GW_NOT_LOGGED_IN, **where)
    return _f("ok", T.GW_OK, rooms=len(probe.rooms), **where)


async def bound_groups(session: AsyncSession) -> list[Any]:
    return (await session.execute(
        select(ChatGroup.account, ChatGroup.platform_id, ChatGroup.topic, ChatGroup.relink_pending,
               Compound.name.label("compound"))
        .join(Compound, Compound.id == ChatGroup.compound_id)
        .where(ChatGroup.active.is_(True)).order_by(ChatGroup.id))).all()


async def check_groups(session: AsyncSession, settings: Settings, probes: dict[str, GatewayProbe]) -> list[Finding]:
    """Which account serves which bound group, and the groups no live account serves."""
    found: list[Finding] = []
    configured = [a.name for a in settings.wechaty.all_accounts()]
    groups = await bound_groups(session)
    served_compounds: set[str] = set()
    for account in configured:
        mine = [g for g in groups if g.account == account]
        probe = probes.get(account)
        live = probe.rooms if probe is not None and probe.logged_in else None
        if live is None:  # the gateway finding already says why; membership cannot be told
            served_compounds.update(g.compound for g in mine)
            continue
        topics = set(live.values())
        served, problems = [], []
        for g in mine:
            if g.platform_id in live:
                served.append(g)
            elif g.topic and g.topic in topics:
                problems.append(_f("warn", T.PENDING_LINK, topic=g.topic, compound=g.compound))
            else:
                problems.append(_f("error", T.NOT_IN_GROUP, topic=g.topic, compound=g.compound, account=account))
        served_compounds.update(g.compound for g in served)
        problems += [_f("warn", T.RELINK_PENDING, topic=g.topic, compound=g.compound)
                     for g in served if g.relink_pending]
        names = "、".join(f"{g.topic}（{g.compound}）" for g in served[:10]) + ("…" if len(served) > 10 else "")
        found.append(_f("ok", T.SERVES, account=account, count=len(served), groups=names or "—"))
        found += problems[:LIST_MAX]
    if configured:
        orphans: dict[str, int] = {}
        for g in groups:
            if g.account not in configured:
                orphans[g.account] = orphans.get(g.account, 0) + 1
        hint = configured[0] if len(configured) == 1 else "账号名"
        for account, count in sorted(orphans.items()):
            found.append(_f("error", T.NO_ACCOUNT, count=count, account=account, hint=hint))
        compounds = (await session.execute(select(Compound.name).order_by(Compound.id))).scalars().all()
        missing = [c for c in compounds if c not in served_compounds]
        found += [_f("warn", T.COMPOUND_NO_GROUP, compound=c) for c in missing[:LIST_MAX]]
    return found


# ---------------------------------------------------------------- outbox and inbound
async def check_outbox(session: AsyncSession, clock: Clock) -> list[Finding]:
    now = clock.now()
    report = await outbox_report(session, now)
    found: list[Finding] = []
    waiting = sum(report.counts.get(s, 0) for s in (OutboxStatus.PENDING, OutboxStatus.SENDING))
    late = [r for r in report.waiting if r.created_at <= now - BACKLOG_AFTER]
    if late:
        oldest = min(r.created_at for r in late)
        found.append(_f("error", T.OUTBOX_BACKLOG, count=len(late), minutes=int(BACKLOG_AFTER.total_seconds() // 60),
                        oldest=clock.local(oldest).strftime("%m-%d %H:%M")))
    if report.undelivered_urgent:
        found.append(_f("error", T.OUTBOX_URGENT, count=report.undelivered_urgent))
    if report.no_live_account:
        found.append(_f("warn", T.OUTBOX_NO_ACCOUNT, count=report.no_live_account))
    for account, until in sorted(report.paused.items()):
        found.append(_f("warn", T.OUTBOX_PAUSED, account=account, until=clock.local(until).strftime("%H:%M")))
    failed = [r for r in report.problems if r.status == OutboxStatus.FAILED]
    if failed:
        found.append(_f("warn", T.OUTBOX_FAILED, count=len(failed), reason=failed[0].reason or T.NO_REASON))
    if not found:
        found.append(_f("ok", T.OUTBOX_OK, waiting=waiting, failed=len(failed)))
    return found


async def failed_inbound_count(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(InboundMessage)
                                  .where(InboundMessage.status == InboundStatus.FAILED))).scalar_one()


async def check_inbound(session: AsyncSession) -> list[Finding]:
    found: list[Finding] = []
    failed = await failed_inbound_count(session)
    if failed:
        found.append(_f("error", T.FAILED_INBOUND, count=failed))
    dead = await dead_letter_count(session)
    if dead:
        found.append(_f("error", T.DEAD_LETTERS, count=dead))
    return found or [_f("ok", T.INBOUND_OK)]


# ---------------------------------------------------------------- web
def check_web_exposure(settings: Settings) -> list[Finding]:
    host, port = settings.web.host, settings.web.port
    found = [_f("ok", T.WEB_EXPOSES, host=host, port=port)]
    if host not in LOOPBACK_HOSTS:
        found.append(_f("warn", T.WEB_PUBLIC, host=host))
    return found


async def check_web_users(session: AsyncSession) -> list[Finding]:
    admins = (await session.execute(select(func.count()).select_from(WebUser).where(
        WebUser.is_admin.is_(True), WebUser.active.is_(True)))).scalar_one()
    return [] if admins else [_f("warn", T.WEB_NO_ADMIN)]


# ---------------------------------------------------------------- all together
async def diagnose(settings: Settings, *, probe: Probe = probe_gateway, clock: Clock | None = None,
                   engine: AsyncEngine | None = None) -> list[Finding]:
    clock = clock or SystemClock(settings.timezone)
    own_engine = engine is None
    engine = engine or db.create_engine(settings.database_url)
    found = check_config(settings)
    try:
        db_ok, db_found = await check_database(engine)
        found += db_found
        sessions = db.session_factory(engine)
        known: set[str] = set()
        if db_ok:
            async with sessions() as session:
                known = {g.platform_id for g in await bound_groups(session)}
        probes: dict[str, GatewayProbe] = {}
        for account in settings.wechaty.all_accounts():
            probes[account.name] = await probe(account.endpoint, account.token, topics_for=known)
            found.append(gateway_finding(account.name, probes[account.name]))
        if db_ok:
            async with sessions() as session:
                found += await check_groups(session, settings, probes)
                found += await check_outbox(session, clock)
                found += await check_web_users(session)
            async with sessions() as session:
                found += await check_inbound(session)
        found += check_web_exposure(settings)
    finally:
        if own_engine:
            await engine.dispose()
    return found


def summary(findings: list[Finding]) -> str:
    errors = sum(f.level == "error" for f in findings)
    warnings = sum(f.level == "warn" for f in findings)
    return T.SUMMARY_OK if not errors and not warnings else T.SUMMARY_BAD.format(errors=errors, warnings=warnings)


# ---------------------------------------------------------------- zhibu outbox status
async def outbox_status_lines(session: AsyncSession, clock: Clock) -> list[str]:
    report = await outbox_report(session, clock.now())
    group_ids = {r.group_id for r in report.waiting + report.problems if r.group_id}
    person_ids = {r.person_id for r in report.waiting + report.problems if r.person_id}
    topics = dict((await session.execute(select(ChatGroup.id, ChatGroup.topic)
                                         .where(ChatGroup.id.in_(group_ids)))).all()) if group_ids else {}
    names = dict((await session.execute(select(Person.id, Person.name)
                                        .where(Person.id.in_(person_ids)))).all()) if person_ids else {}

    def row(r: OutboxRow) -> str:
        to = f"群“{topics.get(r.group_id, r.group_id)}”" if r.group_id else f"{names.get(r.person_id, r.person_id)}（私聊）"
        return T.STATUS_ROW.format(id=r.id, status=r.status, account=r.account or "—", to=to, attempts=r.attempts,
                                   created=clock.local(r.created_at).strftime("%m-%d %H:%M"),
                                   reason=r.reason or T.NO_REASON, preview=r.preview)

    lines = [T.STATUS_COUNTS.format(counts="，".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "—")]
    for account, until in sorted(report.paused.items()):
        lines.append(T.STATUS_PAUSED.format(account=account, until=clock.local(until).strftime("%m-%d %H:%M")))
    lines.append(T.STATUS_WAITING.format(count=len(report.waiting)))
    lines += [row(r) for r in report.waiting] or [T.STATUS_NONE]
    lines.append(T.STATUS_PROBLEMS.format(count=len(report.problems)))
    lines += [row(r) for r in report.problems] or [T.STATUS_NONE]
    return lines
