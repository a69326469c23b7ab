"""The rating run: compute a period for every compound (a draft), community staff review,
the district approves, adjustments only with a written reason (audited as Event rows),
publication to staff and secretaries through the outbox, and the history per compound."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from bot.audit import record_event
from bot.models import Priority, Role, RoleName
from bot.models.rating import CompoundRating, RatingRun, RunStatus
from bot.services import Actor, Deps, ServiceError
from bot.services.rating import entries as E
from bot.services.rating import periods
from bot.services.rating.complaints import project_of_compound
from bot.services.rating.metrics import Period, measure_all
from bot.services.rating.scoring import EntryView, Result, class_for, score_compound, score_property
from bot.services.rating.standard import Standard
from bot.services.rankings import staff_recipients
from bot.texts import rating as T

RUN_SUBJECT = "rating_run"
RATING_SUBJECT = "compound_rating"


def stars_text(stars: int) -> str:
    return T.STAR * stars + T.NO_STAR * (5 - stars) if stars else T.NO_STAR * 5


@dataclass
class Scored:
    compound_id: int
    result: Result


async def score_period(deps: Deps, standard: Standard, period: str,
                       compound_ids: list[int] | None = None) -> list[Scored]:
    """Every compound's result for ``period`` (measured up to now when it has not ended)."""
    start, end = periods.bounds(period, deps.clock.tz)
    prev_start, _ = periods.bounds(periods.previous(period, standard.period), deps.clock.tz)
    p = Period(start, end, prev_start, deps.clock.now())
    measures = await measure_all(deps.session, p, standard.complaints, compound_ids)
    entry_rows = await E.entries_in(deps, start, end, compound_ids)
    by_compound: dict[int, list[EntryView]] = {}
    for e in entry_rows:
        by_compound.setdefault(e.compound_id, []).append(EntryView(e.id, e.kind, e.item_key, e.title))
    projects = await project_of_compound(deps.session)
    forms = await E.reviews_for(deps, period)
    targets = compound_ids if compound_ids is not None else sorted(deps.org.compounds)
    out = []
    for cid in targets:
        mine = {metric: per[cid] for metric, per in measures.items() if cid in per}
        project_id = projects.get(cid)
        prop = None
        if project_id is not None:
            form = forms.get(project_id)
            prop = score_property(standard, mine, None if form is None else {
                "id": form.id, "form_score": form.form_score, "scores": form.scores, "by": form.submitted_by})
            prop["project_id"] = project_id
        out.append(Scored(cid, score_compound(standard, mine, by_compound.get(cid, []), prop)))
    return out


async def run_for(deps: Deps, period: str) -> RatingRun | None:
    return (await deps.session.execute(select(RatingRun).where(RatingRun.period == period))).scalar_one_or_none()


async def compute_run(deps: Deps, standard: Standard, period: str, actor: Actor) -> RatingRun:
    """Compute (or recompute, while still a draft) the period's run. Adjustments made to a
    draft are kept across a recompute: they were reasoned by a person."""
    run = await run_for(deps, period)
    start, end = periods.bounds(period, deps.clock.tz)
    now = deps.clock.now()
    if run is not None and run.status != RunStatus.DRAFT:
        raise ServiceError(T.RUN_APPROVED)
    kept: dict[int, CompoundRating] = {}
    if run is None:
        run = RatingRun(period=period, starts_at=start, ends_at=end, status=RunStatus.DRAFT,
                        standard_name=standard.name, standard_version=standard.version, computed_at=now)
        deps.session.add(run)
        await deps.session.flush()
        record_event(deps.session, RUN_SUBJECT, run.id, "computed", deps.clock.now(), actor=actor,
                     to_state=RunStatus.DRAFT, data={"period": period})
    else:
        kept = {r.compound_id: r for r in (await deps.session.execute(select(CompoundRating).where(
            CompoundRating.run_id == run.id))).scalars()}
        run.computed_at, run.standard_name, run.standard_version = now, standard.name, standard.version
        record_event(deps.session, RUN_SUBJECT, run.id, "recomputed", deps.clock.now(), actor=actor,
                     from_state=run.status, to_state=run.status)
    # Bulk statements, not one ORM object per compound: a district's run writes 1,100 rows.
    fresh, changed = [], []
    for scored in await score_period(deps, standard, period):
        r = scored.result
        values = {"branch_score": r.branch_score, "property_score": r.property_score, "total": r.total,
                  "computed_stars": r.stars, "vetoes": r.vetoes, "aspects": r.aspects, "items": r.items,
                  "property_detail": r.property_detail}
        row = kept.get(scored.compound_id)
        if row is None or row.adjustment_reason is None:
            values |= {"stars": r.stars, "klass": r.klass}
        if row is None:
            fresh.append(values | {"run_id": run.id, "compound_id": scored.compound_id})
        else:
            changed.append(values | {"id": row.id})
    if fresh:
        await deps.session.execute(insert(CompoundRating), fresh)
    if changed:
        await deps.session.execute(update(CompoundRating), changed)
    await deps.session.flush()
    return run


async def review(deps: Deps, actor: Actor, run: RatingRun) -> int:
    """Community staff review their community's compounds; district staff the rest. When every
    compound is reviewed, the run is ready for approval. Returns how many compounds were marked."""
    if run.status != RunStatus.DRAFT:
        raise ServiceError(T.WRONG_STATUS.format(status=T.STATUS[run.status], action="审核"))
    district = actor.roles.has(RoleName.DISTRICT_STAFF)
    if not district and not actor.roles.has(RoleName.COMMUNITY_STAFF):
        raise ServiceError(T.NO_RIGHT_REVIEW)
    rows = await ratings_of(deps, run)
    mine = [r for r in rows if r.reviewed_at is None
            and (district or actor.roles.has(RoleName.COMMUNITY_STAFF, r.compound_id))]
    now, who = deps.clock.now(), actor.web_user or actor.name
    for row in mine:
        row.reviewed_by, row.reviewed_at = who, now
    communities = sorted({deps.org.community_of.get(r.compound_id) for r in mine} - {None})
    left = sum(1 for r in rows if r.reviewed_at is None)
    if left:
        record_event(deps.session, RUN_SUBJECT, run.id, "community_reviewed", deps.clock.now(), actor=actor, data={
            "compounds": [r.compound_id for r in mine], "communities": communities, "left": left})
        return len(mine)
    run.status, run.reviewed_at, run.reviewed_by = RunStatus.REVIEWED, now, who
    record_event(deps.session, RUN_SUBJECT, run.id, "reviewed", deps.clock.now(), actor=actor,
                 from_state=RunStatus.DRAFT, to_state=RunStatus.REVIEWED,
                 data={"compounds": [r.compound_id for r in mine], "communities": communities})
    return len(mine)


async def approve(deps: Deps, actor: Actor, run: RatingRun) -> RatingRun:
    if not actor.roles.has(RoleName.DISTRICT_STAFF):
        raise ServiceError(T.NO_RIGHT_APPROVE)
    if run.status != RunStatus.REVIEWED:
        raise ServiceError(T.WRONG_STATUS.format(status=T.STATUS[run.status], action="审定"))
    run.status, run.approved_at, run.approved_by = RunStatus.APPROVED, deps.clock.now(), actor.web_user or actor.name
    record_event(deps.session, RUN_SUBJECT, run.id, "approved", deps.clock.now(), actor=actor,
                 from_state=RunStatus.REVIEWED, to_state=RunStatus.APPROVED)
    return run


async def adjust(deps: Deps, actor: Actor, standard: Standard, rating_id: int, stars: int, reason: str) -> CompoundRating:
    """Change a compound's stars before approval, with a written reason. Community staff may
    adjust their own compounds while the run is a draft; district staff until it is approved."""
    row = await deps.session.get(CompoundRating, rating_id)
    if row is None:
        raise ServiceError(T.NO_SUCH_ENTRY)
    run = await deps.session.get(RatingRun, row.run_id)
    assert run is not None
    district = actor.roles.has(RoleName.DISTRICT_STAFF)
    community = actor.roles.has(RoleName.COMMUNITY_STAFF, row.compound_id)
    if not (district or (community and run.status == RunStatus.DRAFT)):
        raise ServiceError(T.NO_RIGHT_ADJUST)
    if run.status not in (RunStatus.DRAFT, RunStatus.REVIEWED):
        raise ServiceError(T.WRONG_STATUS.format(status=T.STATUS[run.status], action="调整"))
    if not reason or not reason.strip():
        raise ServiceError(T.REASON_NEEDED)
    if not 0 <= stars <= 5:
        raise ServiceError(T.STARS_RANGE)
    before = row.stars
    row.stars, row.klass = stars, class_for(standard, stars)
    row.adjusted_by, row.adjustment_reason = actor.web_user or actor.name, reason.strip()
    record_event(deps.session, RATING_SUBJECT, row.id, "adjusted", deps.clock.now(), actor=actor,
                 from_state=str(before), to_state=str(stars),
                 note=reason.strip(), data={"run": run.period, "compound_id": row.compound_id,
                                         "computed_stars": row.computed_stars})
    return row


async def ratings_of(deps: Deps, run: RatingRun) -> list[CompoundRating]:
    return list((await deps.session.execute(select(CompoundRating).where(
        CompoundRating.run_id == run.id).order_by(CompoundRating.compound_id))).scalars())


async def history(deps: Deps, compound_id: int) -> list[tuple[RatingRun, CompoundRating]]:
    rows = (await deps.session.execute(select(RatingRun, CompoundRating).join(
        CompoundRating, CompoundRating.run_id == RatingRun.id).where(
        CompoundRating.compound_id == compound_id).order_by(RatingRun.starts_at))).all()
    return [(run, row) for run, row in rows]


async def last_result(deps: Deps, compound_id: int, other_than: str) -> tuple[str, int, str] | None:
    """(period, stars, class) of the compound's latest approved or published rating of another period."""
    row = (await deps.session.execute(select(RatingRun.period, CompoundRating.stars, CompoundRating.klass).join(
        CompoundRating, CompoundRating.run_id == RatingRun.id).where(
        CompoundRating.compound_id == compound_id, RatingRun.period != other_than,
        RatingRun.status.in_([RunStatus.APPROVED, RunStatus.PUBLISHED])).order_by(RatingRun.starts_at.desc())
        .limit(1))).first()
    return None if row is None else (row[0], row[1], row[2])


def advice_lines(items: list[dict], limit: int = 5) -> list[str]:
    """What would raise the score most: the items furthest below their maximum, with advice."""
    gaps = sorted((i for i in items if i.get("advice")), key=lambda i: -(i["max"] - i["points"]))
    return [i["advice"] for i in gaps[:limit]]


def _summary(standard: Standard, rows: list[CompoundRating], period: str) -> str:
    stars = Counter(r.stars for r in rows)
    classes = Counter(r.klass for r in rows)
    class_text = "；".join(T.RESULT_CLASS.format(name=c.name, count=classes.get(c.name, 0), focus=c.focus)
                          for c in standard.classes)
    return T.RESULT_DISTRICT.format(period=periods.label(period), count=len(rows), s5=stars.get(5, 0),
                                    s4=stars.get(4, 0), s3=stars.get(3, 0),
                                    low=sum(n for s, n in stars.items() if s <= 2), classes=class_text)


async def publish(deps: Deps, standard: Standard, run: RatingRun, actor: Actor) -> int:
    """An approved run's results: a summary to district staff, their compounds to community
    staff, each secretary their own result with what would raise it. Through the outbox."""
    if run.status != RunStatus.APPROVED:
        raise ServiceError(T.WRONG_STATUS.format(status=T.STATUS[run.status], action="发布"))
    rows = await ratings_of(deps, run)
    district, community = await staff_recipients(deps)
    ref = (RUN_SUBJECT, run.id)
    sent = 0
    summary = _summary(standard, rows, run.period)
    for person_id in district:
        deps.outbox.enqueue(deps.session, summary, person_id=person_id, priority=Priority.BROADCAST, ref=ref)
        sent += 1
    for community_id, people in sorted(community.items()):
        mine = [r for r in rows if deps.org.community_of.get(r.compound_id) == community_id]
        if not mine:
            continue
        lines = "".join(T.RESULT_COMMUNITY_LINE.format(compound=deps.org.name_of(r.compound_id),
                                                       stars=stars_text(r.stars), klass=r.klass, total=r.total)
                        for r in mine)
        text = summary + "\n" + T.RESULT_COMMUNITY.format(lines=lines)
        for person_id in sorted(set(people)):
            deps.outbox.enqueue(deps.session, text, person_id=person_id, priority=Priority.BROADCAST, ref=ref)
            sent += 1
    secretaries = (await deps.session.execute(select(Role.person_id, Role.compound_id).where(
        Role.name == RoleName.SECRETARY, Role.compound_id.is_not(None)))).all()
    by_compound = {r.compound_id: r for r in rows}
    for person_id, compound_id in sorted(set(secretaries)):
        r = by_compound.get(compound_id)
        if r is None:
            continue
        advice = advice_lines(r.items)
        text = T.RESULT_SECRETARY.format(
            period=periods.label(run.period), compound=deps.org.name_of(compound_id), stars=stars_text(r.stars),
            klass=r.klass, total=r.total, branch=r.branch_score,
            property=T.PROPERTY_NONE if r.property_score is None else f"{r.property_score:g}分",
            advice=T.RESULT_ADVICE.format(lines="".join(T.RESULT_ADVICE_LINE.format(line=a) for a in advice))
            if advice else "")
        deps.outbox.enqueue(deps.session, text, person_id=person_id, priority=Priority.BROADCAST, ref=ref)
        sent += 1
    run.status, run.published_at = RunStatus.PUBLISHED, deps.clock.now()
    record_event(deps.session, RUN_SUBJECT, run.id, "published", deps.clock.now(), actor=actor,
                 from_state=RunStatus.APPROVED, to_state=RunStatus.PUBLISHED, data={"recipients": sent})
    return sent
