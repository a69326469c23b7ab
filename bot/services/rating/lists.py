"""The monthly red and black lists (红黑榜) of property projects, from the property score and
the complaint ranking, by the rules in the standard file; published to district and
community staff (optionally a short red-list notice to the compound's groups); XLSX export;
a project's history across months."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.models import ChatGroup, Priority, PropertyProject
from bot.models.rating import PropertyListEntry
from bot.models.schedules import PropertyRanking
from bot.months import month_bounds, shift_month
from bot.services import Deps
from bot.services.rankings import staff_recipients
from bot.services.rating import entries as E
from bot.services.rating import periods
from bot.services.rating.complaints import projects_by_id
from bot.services.rating.metrics import Period, empty_measure, measure_all
from bot.services.rating.scoring import score_property
from bot.services.rating.standard import Standard
from bot.spreadsheet import safe_row, sheet_title
from bot.texts import rating as T

SUBJECT = "property_lists"


@dataclass
class Lists:
    month: str
    red: list[PropertyListEntry]
    black: list[PropertyListEntry]
    created: bool


async def compute_lists(deps: Deps, standard: Standard, month: str) -> Lists:
    """The month's lists, once: a rerun returns the stored lists unchanged."""
    stored = await stored_lists(deps, month)
    if stored.red or stored.black:
        return stored
    rules = standard.lists
    start, end = month_bounds(month, deps.clock.tz)
    prev_start, _ = month_bounds(shift_month(month, -1), deps.clock.tz)
    measures = await measure_all(deps.session, Period(start, end, prev_start, deps.clock.now()), standard.complaints)
    # The form of the rating period the month belongs to; else the latest one before it.
    year, mon = (int(x) for x in month.split("-"))
    period = periods.period_of(datetime(year, mon, 1), standard.period)
    forms = await E.latest_reviews(deps, end) | await E.reviews_for(deps, period)
    running = dict((await deps.session.execute(select(PropertyRanking.project_id, PropertyRanking.months_running)
                                               .where(PropertyRanking.month == month))).all())
    projects = list((await deps.session.execute(select(PropertyProject).where(
        PropertyProject.active.is_(True)).order_by(PropertyProject.id))).scalars())
    seen: set[int] = set()
    now = deps.clock.now()
    red, black = [], []
    for project in projects:
        if project.compound_id in seen:
            continue  # a compound's complaints count for its first active project only
        seen.add(project.compound_id)
        mine = {metric: per[project.compound_id] for metric, per in measures.items() if project.compound_id in per}
        form = forms.get(project.id)
        prop = score_property(standard, mine, None if form is None else {"form_score": form.form_score})
        score = prop["score"]
        counted = mine.get("property_complaints") or empty_measure("property_complaints")
        complaints = int(counted.value or 0)
        ticket_ids = counted.data.get("tickets", [])
        reasons = []
        if score < rules.black_max_score:
            reasons.append(T.REASON_LOW_SCORE.format(score=score, max=rules.black_max_score))
        if complaints >= rules.black_min_complaints:
            reasons.append(T.REASON_COMPLAINTS.format(complaints=complaints, min=rules.black_min_complaints))
        if running.get(project.id, 0) >= rules.black_ranking_months:
            reasons.append(T.REASON_RANKING.format(months=running[project.id]))
        board = "black" if reasons else None
        if board is None and score >= rules.red_min_score and complaints <= rules.red_max_complaints \
                and (form is not None or not rules.red_needs_form):
            board = "red"
            reasons = [T.REASON_RED.format(score=score, min=rules.red_min_score, complaints=complaints,
                                           max=rules.red_max_complaints)]
        if board is None:
            continue
        row = PropertyListEntry(month=month, project_id=project.id, compound_id=project.compound_id, board=board,
                                score=score, complaints=complaints, reasons=reasons, ticket_ids=ticket_ids,
                                created_at=now)
        deps.session.add(row)
        (red if board == "red" else black).append(row)
    await deps.session.flush()
    return Lists(month, red, black, created=True)


async def stored_lists(deps: Deps, month: str) -> Lists:
    rows = list((await deps.session.execute(select(PropertyListEntry).where(PropertyListEntry.month == month)
                                            .order_by(PropertyListEntry.score.desc(), PropertyListEntry.id))).scalars())
    return Lists(month, [r for r in rows if r.board == "red"],
                 [r for r in rows if r.board == "black"][::-1], created=False)


async def project_history(deps: Deps, project_id: int) -> list[PropertyListEntry]:
    return list((await deps.session.execute(select(PropertyListEntry).where(
        PropertyListEntry.project_id == project_id).order_by(PropertyListEntry.month))).scalars())


def _lines(deps: Deps, rows: list[PropertyListEntry], projects: dict[int, PropertyProject]) -> str:
    if not rows:
        return T.LISTS_NONE
    return "".join(T.LISTS_LINE.format(project=projects[r.project_id].name, company=projects[r.project_id].company,
                                       compound=deps.org.name_of(r.compound_id),
                                       score="—" if r.score is None else f"{r.score:g}", complaints=r.complaints)
                   for r in rows)


def render(deps: Deps, lists: Lists, projects: dict[int, PropertyProject], community_id: int | None = None) -> str:
    def mine(rows):  # noqa: ANN001, ANN202
        if community_id is None:
            return rows
        return [r for r in rows if deps.org.community_of.get(r.compound_id) == community_id]
    red, black = mine(lists.red), mine(lists.black)
    return (T.LISTS_HEADER.format(month=periods.label(lists.month))
            + T.LISTS_RED.format(count=len(red), lines=_lines(deps, red, projects))
            + T.LISTS_BLACK.format(count=len(black), lines=_lines(deps, black, projects)) + T.LISTS_RULES)


async def publish(deps: Deps, standard: Standard, lists: Lists) -> int:
    """District staff get the whole lists, community staff their community's; with
    ``notify_groups`` each red-listed compound's groups get a one-line thank-you."""
    projects = await projects_by_id(deps.session)
    district, community = await staff_recipients(deps)
    ref = (SUBJECT, int(lists.month.replace("-", "")))
    sent = 0
    whole = render(deps, lists, projects)
    for person_id in district:
        deps.outbox.enqueue(deps.session, whole, person_id=person_id, priority=Priority.BROADCAST, ref=ref)
        sent += 1
    for community_id, people in sorted(community.items()):
        text = render(deps, lists, projects, community_id)
        for person_id in sorted(set(people)):
            deps.outbox.enqueue(deps.session, text, person_id=person_id, priority=Priority.BROADCAST, ref=ref)
            sent += 1
    if standard.lists.notify_groups:
        for row in lists.red:
            groups = (await deps.session.execute(select(ChatGroup.id).where(
                ChatGroup.compound_id == row.compound_id, ChatGroup.active.is_(True),
                ChatGroup.building.is_(None)))).scalars()
            text = T.LISTS_GROUP_RED.format(project=projects[row.project_id].name, month=periods.label(lists.month))
            for group_id in groups:
                deps.outbox.enqueue(deps.session, text, group_id=group_id, priority=Priority.BROADCAST, ref=ref)
                sent += 1
    return sent


XLSX_HEADER = ["月份", "榜单", "物业项目", "物业企业", "小区", "评分", "投诉件数", "理由", "计入的工单"]


async def export_xlsx(deps: Deps, lists: Lists, compound_ids: set[int] | None = None) -> bytes:
    """The month's lists as XLSX (every cell through safe_row: names come from people)."""
    from openpyxl import Workbook

    projects = await projects_by_id(deps.session)
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title(f"{lists.month}红黑榜")
    sheet.append(safe_row(XLSX_HEADER))
    for row in lists.red + lists.black:
        if compound_ids is not None and row.compound_id not in compound_ids:
            continue
        project = projects[row.project_id]
        sheet.append(safe_row([row.month, T.BOARDS[row.board], project.name, project.company,
                               deps.org.name_of(row.compound_id), row.score, row.complaints,
                               "；".join(row.reasons), " ".join(f"#{t}" for t in row.ticket_ids)]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
