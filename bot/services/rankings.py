"""The monthly property complaint ranking (投诉量前30名): property projects ranked by the
complaint tickets of the previous month. The top 30 go on the supervision list; two months
running → replace the project manager; three months running → replace the company.

Kept as rows (``property_rankings``) so the history is queryable by the dashboard."""
from __future__ import annotations

from dataclasses import dataclass
from sqlalchemy import select

from bot.models import Priority, Role, RoleName
from bot.months import month_bounds, shift_month
from bot.models.schedules import PropertyRanking, RankingAction
from bot.services import Deps
from bot.services.rating import standard
from bot.services.rating.complaints import per_project, projects_by_id
from bot.texts import digests as T

TOP_N = 30


async def complaint_counts(deps: Deps, month: str) -> dict[int, int]:
    """Complaint tickets per property project in ``month``, by the rating standard's complaint
    rule (bot.services.rating.complaints: the same rule as the property score)."""
    rule = standard.load(getattr(deps.settings, "rating_standard_file", None)).complaints
    start, end = month_bounds(month, deps.clock.tz)
    return await per_project(deps.session, rule, start, end)


def action_for(months_running: int) -> str:
    if months_running >= 3:
        return RankingAction.REPLACE_COMPANY
    if months_running == 2:
        return RankingAction.REPLACE_MANAGER
    return RankingAction.SUPERVISE


@dataclass
class Ranking:
    month: str
    rows: list[PropertyRanking]  # every project with complaints, best-known first
    created: bool                # False: it existed already (a rerun changes nothing)

    @property
    def top(self) -> list[PropertyRanking]:
        return [r for r in self.rows if r.action is not None]


async def compute_ranking(deps: Deps, month: str, *, counts: dict[int, int] | None = None) -> Ranking:
    """Rank ``month`` once; later calls return the stored ranking unchanged."""
    session = deps.session
    existing = await stored_ranking(deps, month)
    if existing:
        return Ranking(month, existing, created=False)
    if counts is None:
        counts = await complaint_counts(deps, month)
    projects = await projects_by_id(session)
    previous = {r.project_id: r for r in (await session.execute(select(PropertyRanking).where(
        PropertyRanking.month == shift_month(month, -1), PropertyRanking.action.is_not(None)))).scalars()}
    ordered = sorted(((pid, n) for pid, n in counts.items() if n > 0 and pid in projects),
                     key=lambda item: (-item[1], item[0]))
    rows = []
    now = deps.clock.now()
    higher = 0
    for index, (project_id, complaints) in enumerate(ordered):
        if index and complaints < ordered[index - 1][1]:
            higher = index
        rank = higher + 1  # ties share a rank; all tied at the boundary are on the list
        project = projects[project_id]
        on_list = rank <= TOP_N
        running = (previous[project_id].months_running + 1 if project_id in previous else 1) if on_list else 0
        rows.append(PropertyRanking(
            month=month, project_id=project_id, compound_id=project.compound_id, company=project.company,
            project_name=project.name, complaints=complaints, rank=rank, months_running=running,
            action=action_for(running) if on_list else None, created_at=now))
    session.add_all(rows)
    await session.flush()
    return Ranking(month, rows, created=True)


async def stored_ranking(deps: Deps, month: str) -> list[PropertyRanking]:
    return list((await deps.session.execute(select(PropertyRanking).where(PropertyRanking.month == month)
                                            .order_by(PropertyRanking.rank, PropertyRanking.project_id))).scalars())


async def project_history(deps: Deps, project_id: int) -> list[PropertyRanking]:
    return list((await deps.session.execute(select(PropertyRanking).where(
        PropertyRanking.project_id == project_id).order_by(PropertyRanking.month))).scalars())


def _flag(row: PropertyRanking) -> str:
    template = T.RANKING_FLAGS.get(row.action or "", "")
    return template.format(months=row.months_running)


def render(deps: Deps, ranking: Ranking) -> str:
    month_label = _month_label(ranking.month)
    if not ranking.top:
        return T.RANKING_NONE.format(month=month_label)
    lines = [T.RANKING_HEADER.format(month=month_label, top=TOP_N, projects=len(ranking.rows),
                                     total=sum(r.complaints for r in ranking.rows))]
    for r in ranking.top:
        lines.append(T.RANKING_LINE.format(rank=r.rank, project=r.project_name, company=r.company,
                                           compound=deps.org.name_of(r.compound_id), count=r.complaints,
                                           flag=_flag(r)))
    lines.append(T.RANKING_RULES)
    return "\n".join(lines)


def render_for_community(deps: Deps, ranking: Ranking, community_id: int) -> str:
    mine = [r for r in ranking.top if deps.org.community_of.get(r.compound_id) == community_id]
    head = render(deps, ranking)
    if not ranking.top:
        return head
    if not mine:
        return head + "\n" + T.RANKING_COMMUNITY_NONE.format(top=TOP_N)
    lines = "".join(T.RANKING_COMMUNITY_LINE.format(rank=r.rank, project=r.project_name,
                                                    compound=deps.org.name_of(r.compound_id),
                                                    count=r.complaints, flag=_flag(r)) for r in mine)
    return head + "\n" + T.RANKING_COMMUNITY.format(lines=lines)


def _month_label(month: str) -> str:
    year, mon = month.split("-")
    return f"{year}年{int(mon)}月"


async def staff_recipients(deps: Deps) -> tuple[list[int], dict[int, list[int]]]:
    """District staff person ids, and community staff person ids per community."""
    rows = (await deps.session.execute(select(Role.person_id, Role.name, Role.community_id).where(
        Role.name.in_([RoleName.DISTRICT_STAFF, RoleName.COMMUNITY_STAFF])))).all()
    district = sorted({p for p, name, _ in rows if name == RoleName.DISTRICT_STAFF})
    community: dict[int, list[int]] = {}
    for person_id, name, community_id in rows:
        if name == RoleName.COMMUNITY_STAFF and community_id is not None and person_id not in district:
            community.setdefault(community_id, []).append(person_id)
    return district, community


async def publish(deps: Deps, ranking: Ranking) -> int:
    """Post the ranking privately to district staff and (with their own projects) community staff."""
    district, community = await staff_recipients(deps)
    sent = 0
    text = render(deps, ranking)
    for person_id in district:
        deps.outbox.enqueue(deps.session, text, person_id=person_id, priority=Priority.BROADCAST,
                            ref=("property_ranking", _ref(ranking.month)))
        sent += 1
    for community_id, people in sorted(community.items()):
        text = render_for_community(deps, ranking, community_id)
        for person_id in sorted(set(people)):
            deps.outbox.enqueue(deps.session, text, person_id=person_id, priority=Priority.BROADCAST,
                                ref=("property_ranking", _ref(ranking.month)))
            sent += 1
    return sent


def _ref(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 100 + int(mon)

