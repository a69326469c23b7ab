"""12345 hotline orders: linked to tickets by hand, imported from the hotline's CSV/XLSX export,
counted per compound per month (fewer hotline orders is the headline goal of 有事找支部).

- ``link_hotline(deps, actor, ticket, order_no)`` — 热线 0042 <工单号>.
- ``parse_hotline_file(path, org, tz) -> list[HotlineRow]`` — all rows or ``HotlineImportError``.
- ``import_hotline_orders(session, rows, now) -> HotlineImportResult`` — idempotent on order number.
- ``current_compounds(session, order_nos)`` — where existing orders belong now (for scope checks).
- ``hotline_counts(session, month, tz) -> dict[int, int]`` — compound id → orders received in
  the local calendar month "YYYY-MM".
- ``register_cli(sub)`` — ``zhibu hotline import FILE`` and ``zhibu hotline counts YYYY-MM``.
"""
from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models.tickets import HotlineOrder, Ticket
from bot.months import month_bounds
from bot.services import Actor, Deps, ServiceError
from bot.services.tickets import events, naming, policy, rights
from bot.texts import tickets as T

ORDER_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$")

COLUMNS = {
    "order_no": ("工单号", "工单编号", "热线工单号", "编号", "order_no"),
    "received_at": ("受理时间", "来电时间", "登记时间", "创建时间", "日期", "received_at", "date"),
    "compound": ("小区", "小区名称", "所属小区", "compound"),
    "address": ("地址", "诉求地址", "事发地址", "address"),
    "content": ("诉求内容", "内容", "来电内容", "问题描述", "content"),
    "category": ("分类", "诉求分类", "类别", "category"),
    "status": ("状态", "办理状态", "status"),
}
REQUIRED = ("order_no", "received_at")


class HotlineImportError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class HotlineRow:
    order_no: str
    received_at: datetime
    compound_id: int | None
    content: str | None
    address: str | None
    category: str | None
    status: str | None


@dataclass
class HotlineImportResult:
    created: int = 0
    updated: int = 0
    unmatched: int = 0


# --------------------------------------------------------------------------- link
async def link_hotline(deps: Deps, actor: Actor, ticket: Ticket, order_no: str) -> HotlineOrder:
    """The ticket was also reported to 12345: keep the order number, count the order."""
    rights.require_handler(deps, actor, ticket)
    order_no = order_no.strip()
    if not ORDER_NO.match(order_no):
        raise ServiceError(T.HOTLINE_BAD_NO)
    now = deps.clock.now()
    order = (await deps.session.execute(select(HotlineOrder).where(HotlineOrder.order_no == order_no))).scalars().first()
    if order is not None and order.compound_id not in (None, ticket.compound_id) \
            and not rights.can_handle(actor, order.compound_id):
        # Another compound's order: linking it would pull it into this ticket's count and page.
        raise ServiceError(T.NO_RIGHT_HANDLE.format(compound=deps.org.name_of(order.compound_id)))
    if order is not None and order.ticket_id not in (None, ticket.id):
        other = await deps.session.get(Ticket, order.ticket_id)
        raise ServiceError(T.HOTLINE_TAKEN.format(order_no=order_no, code=naming.ticket_code(deps.org, other)
                                                  if other else order.ticket_id))
    if order is None:
        order = HotlineOrder(order_no=order_no, compound_id=ticket.compound_id, received_at=now,
                             category=policy.category_label(ticket.category), content=ticket.text[:2000],
                             address=ticket.location or None, source="linked", imported_at=now)
        deps.session.add(order)
    order.ticket_id = ticket.id
    order.compound_id = order.compound_id or ticket.compound_id
    previous = ticket.hotline_order_no
    ticket.hotline_order_no = order_no
    events.record(deps, actor, ticket, "hotline_linked", from_state=previous, to_state=order_no, note=order_no)
    await deps.session.flush()
    return order


# --------------------------------------------------------------------------- import
def _read_rows(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise HotlineImportError([T.HOTLINE_BAD_FILE.format(file=path.name)])
        return list(csv.DictReader(io.StringIO(text)))
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
        if not rows:
            return []
        header = [str(c).strip() if c is not None else "" for c in rows[0]]
        return [dict(zip(header, r)) for r in rows[1:] if any(v not in (None, "") for v in r)]
    raise HotlineImportError([T.HOTLINE_BAD_FILE.format(file=path.name)])


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                 "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日")


def _parse_date(value: Any, tz) -> datetime | None:  # noqa: ANN001
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = str(value or "").strip()
        moment = None
        for fmt in _DATE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            return None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _match_compound(org, name: str | None, address: str | None) -> int | None:  # noqa: ANN001
    if name:
        info = org.find(name)
        if info is not None:
            return info.id
    if address:
        hits = [info for n, info in org.by_name.items() if n and n in address]
        if hits:
            return max(hits, key=lambda i: len(i.name)).id
    return None


def parse_hotline_file(path: Path, org, tz) -> list[HotlineRow]:  # noqa: ANN001
    """Every row of a hotline export, or HotlineImportError naming each problem row."""
    rows = _read_rows(path)
    header = set(rows[0].keys()) if rows else set()
    columns: dict[str, str] = {}
    problems: list[str] = []
    for key, names in COLUMNS.items():
        found = next((n for n in names if n in header), None)
        if found:
            columns[key] = found
        elif key in REQUIRED:
            problems.append(T.HOTLINE_MISSING_COLUMN.format(file=path.name, column=names[0],
                                                            accepted="、".join(names)))
    if problems:
        raise HotlineImportError(problems)
    out: list[HotlineRow] = []
    seen: set[str] = set()
    for index, row in enumerate(rows, start=2):
        def cell(key: str) -> str | None:
            value = row.get(columns[key]) if key in columns else None
            text = str(value).strip() if value is not None else ""
            return text or None

        order_no = cell("order_no")
        if not order_no:
            problems.append(T.HOTLINE_EMPTY_NO.format(file=path.name, row=index))
            continue
        if order_no in seen:
            problems.append(T.HOTLINE_DUP_NO.format(file=path.name, row=index, order_no=order_no))
            continue
        seen.add(order_no)
        received = _parse_date(row.get(columns["received_at"]), tz)
        if received is None:
            problems.append(T.HOTLINE_BAD_DATE.format(file=path.name, row=index, value=cell("received_at") or ""))
            continue
        address = cell("address")
        out.append(HotlineRow(order_no=order_no[:64], received_at=received,
                              compound_id=_match_compound(org, cell("compound"), address),
                              content=(cell("content") or "")[:4000] or None, address=(address or "")[:256] or None,
                              category=(cell("category") or "")[:64] or None, status=(cell("status") or "")[:32] or None))
    if problems:
        raise HotlineImportError(problems)
    return out


async def import_hotline_orders(session: AsyncSession, rows: list[HotlineRow], now: datetime) -> HotlineImportResult:
    """Insert or update by order number; a hand-made ticket link is kept. New orders go in as one
    executemany (a month's file holds thousands: one INSERT each would be most of the import)."""
    result = HotlineImportResult()
    existing = {o.order_no: o for o in (await session.execute(select(HotlineOrder).where(
        HotlineOrder.order_no.in_([r.order_no for r in rows])))).scalars()} if rows else {}
    fresh: list[dict[str, Any]] = []
    for row in rows:
        order = existing.get(row.order_no)
        if order is None:
            fresh.append({"order_no": row.order_no, "received_at": row.received_at, "compound_id": row.compound_id,
                          "content": row.content, "address": row.address, "category": row.category,
                          "status": row.status, "source": "import", "imported_at": now})
            result.created += 1
            if row.compound_id is None:
                result.unmatched += 1
            continue
        result.updated += 1
        order.received_at = row.received_at
        order.compound_id = row.compound_id or order.compound_id
        order.content, order.address = row.content or order.content, row.address or order.address
        order.category, order.status = row.category or order.category, row.status or order.status
        order.imported_at = now
        if order.compound_id is None:
            result.unmatched += 1
    await session.flush()
    if fresh:
        await session.execute(insert(HotlineOrder), fresh)
    return result


async def current_compounds(session: AsyncSession, order_nos: list[str]) -> dict[str, int | None]:
    """Order number → the compound an existing order belongs to now (None: unmatched)."""
    if not order_nos:
        return {}
    return dict((await session.execute(select(HotlineOrder.order_no, HotlineOrder.compound_id).where(
        HotlineOrder.order_no.in_(order_nos)))).all())


async def hotline_counts(session: AsyncSession, month: str, tz) -> dict[int, int]:  # noqa: ANN001
    """Compound id → 12345 orders received in the local calendar month "YYYY-MM"."""
    start, end = month_bounds(month, tz)
    rows = (await session.execute(select(HotlineOrder.compound_id, func.count()).where(
        HotlineOrder.compound_id.is_not(None), HotlineOrder.received_at >= start, HotlineOrder.received_at < end)
        .group_by(HotlineOrder.compound_id))).all()
    return {cid: n for cid, n in rows}


# --------------------------------------------------------------------------- CLI
async def cmd_import(args: Any, app: Any) -> int:
    path = Path(args.file)
    if not path.exists():
        print(f"找不到文件 {path}", file=sys.stderr)
        return 2
    try:
        rows = parse_hotline_file(path, app.org, app.clock.tz)
    except HotlineImportError as exc:
        print(T.HOTLINE_IMPORT_PROBLEMS, file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    from bot.progress import chunked, progress

    result = HotlineImportResult()
    async with app.sessions() as session:
        with progress(len(rows), "正在导入12345工单", unit="条") as bar:
            for chunk in chunked(rows, 500):  # one transaction; chunks only move the bar
                part = await import_hotline_orders(session, chunk, app.clock.now())
                result.created, result.updated = result.created + part.created, result.updated + part.updated
                result.unmatched += part.unmatched
                bar.update(len(chunk))
        await session.commit()
    print(T.HOTLINE_IMPORT_DONE.format(created=result.created, updated=result.updated, unmatched=result.unmatched))
    return 0


async def cmd_counts(args: Any, app: Any) -> int:
    if not re.fullmatch(r"\d{4}-\d{2}", args.month or ""):
        print("月份格式：YYYY-MM，如 2026-12", file=sys.stderr)
        return 2
    async with app.sessions() as session:
        counts = await hotline_counts(session, args.month, app.clock.tz)
    for compound_id, n in sorted(counts.items(), key=lambda item: -item[1]):
        print(f"{app.org.name_of(compound_id)}\t{n}")
    return 0


def register_cli(sub: Any) -> None:
    parser = sub.add_parser("hotline", help="12345热线工单：导入与统计")
    commands = parser.add_subparsers(dest="hotline_command", required=True)
    imp = commands.add_parser("import", help="导入热线工单（CSV/XLSX，按工单号去重；有错误则不写入）")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import)
    counts = commands.add_parser("counts", help="某月各小区的热线工单量")
    counts.add_argument("month", help="YYYY-MM")
    counts.set_defaults(func=cmd_counts)
