"""Entered items (正负清单, 一票否决, 业委会审计 findings) and the branch's property review
form (物业评议). Every change is an Event row."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.audit import record_event
from bot.models import RoleName
from bot.models.rating import EntryKind, PropertyReview, RatingEntry
from bot.services import Actor, Deps, ServiceError
from bot.services.rating.complaints import project_of_compound
from bot.services.rating.standard import Standard
from bot.texts import rating as T

ENTRY_SUBJECT = "rating_entry"
REVIEW_SUBJECT = "property_review"


def may_enter(actor: Actor, compound_id: int) -> bool:
    return actor.roles.has_any((RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF), compound_id)


def may_review_property(actor: Actor, compound_id: int) -> bool:
    return actor.roles.has_any((RoleName.SECRETARY, RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF), compound_id)


async def add_entry(deps: Deps, actor: Actor, standard: Standard, compound_id: int, kind: str, title: str, *,
                    occurred_at: datetime | None = None, evidence: str | None = None, item_key: str | None = None,
                    owner: str | None = None, deadline: datetime | None = None) -> RatingEntry:
    if not may_enter(actor, compound_id):
        raise ServiceError(T.NO_RIGHT_ENTRY)
    kind = EntryKind(kind)
    if kind == EntryKind.VETO and standard.veto(item_key or "") is None:
        raise ServiceError(T.UNKNOWN_VETO.format(key=item_key))
    now = deps.clock.now()
    entry = RatingEntry(compound_id=compound_id, kind=kind, item_key=item_key, title=title.strip()[:255],
                        evidence=evidence, occurred_at=occurred_at or now, owner=owner, deadline=deadline,
                        created_at=now, created_by=actor.web_user or actor.name)
    deps.session.add(entry)
    await deps.session.flush()
    record_event(deps.session, ENTRY_SUBJECT, entry.id, "added", deps.clock.now(), actor=actor, to_state=kind,
                 data={"compound_id": compound_id, "title": entry.title, "owner": owner,
                    "deadline": deadline.isoformat() if deadline else None})
    return entry


async def _entry(deps: Deps, actor: Actor, entry_id: int) -> RatingEntry:
    entry = await deps.session.get(RatingEntry, entry_id)
    if entry is None:
        raise ServiceError(T.NO_SUCH_ENTRY)
    if not may_enter(actor, entry.compound_id):
        raise ServiceError(T.NO_RIGHT_ENTRY)
    return entry


async def close_entry(deps: Deps, actor: Actor, entry_id: int, note: str | None = None) -> RatingEntry:
    """An audit finding rectified (整改销号)."""
    entry = await _entry(deps, actor, entry_id)
    entry.closed_at = deps.clock.now()
    record_event(deps.session, ENTRY_SUBJECT, entry.id, "closed", deps.clock.now(), actor=actor,
                 from_state="open", to_state="closed", note=note)
    return entry


async def withdraw_entry(deps: Deps, actor: Actor, entry_id: int, reason: str) -> RatingEntry:
    if not reason.strip():
        raise ServiceError(T.REASON_NEEDED)
    entry = await _entry(deps, actor, entry_id)
    entry.withdrawn = True
    record_event(deps.session, ENTRY_SUBJECT, entry.id, "withdrawn", deps.clock.now(), actor=actor, note=reason)
    return entry


async def entries_in(deps: Deps, start: datetime, end: datetime, compound_ids=None) -> list[RatingEntry]:  # noqa: ANN001
    """Positive, negative and veto entries that happened in [start, end)."""
    query = select(RatingEntry).where(
        RatingEntry.kind.in_([EntryKind.POSITIVE, EntryKind.NEGATIVE, EntryKind.VETO]),
        RatingEntry.withdrawn.is_(False), RatingEntry.occurred_at >= start, RatingEntry.occurred_at < end)
    if compound_ids is not None:
        query = query.where(RatingEntry.compound_id.in_(list(compound_ids)))
    return list((await deps.session.execute(query.order_by(RatingEntry.id))).scalars())


async def compound_entries(deps: Deps, compound_id: int) -> list[RatingEntry]:
    return list((await deps.session.execute(select(RatingEntry).where(
        RatingEntry.compound_id == compound_id).order_by(RatingEntry.occurred_at.desc()))).scalars())


# ---------------------------------------------------------------- 物业评议
def form_total(standard: Standard, scores: dict[str, float]) -> float:
    for item in standard.property.form:
        got = scores.get(item.key)
        if got is None:
            raise ServiceError(T.FORM_COUNT.format(count=len(standard.property.form),
                                                   items="、".join(i.name for i in standard.property.form)))
        if got < 0 or got > item.points:
            raise ServiceError(T.FORM_RANGE.format(item=item.name, max=item.points, got=got))
    return round(sum(scores[i.key] for i in standard.property.form), 2)


async def submit_review(deps: Deps, actor: Actor, standard: Standard, compound_id: int, period: str,
                        scores: dict[str, float], note: str | None = None) -> PropertyReview:
    """The branch's form for the period; a second submission replaces the first (audited)."""
    if not may_review_property(actor, compound_id):
        raise ServiceError(T.NO_RIGHT_REVIEW_FORM)
    project_id = (await project_of_compound(deps.session)).get(compound_id)
    if project_id is None:
        raise ServiceError(T.NO_PROJECT)
    total = form_total(standard, scores)
    clean = {i.key: float(scores[i.key]) for i in standard.property.form}
    review = await review_of(deps, project_id, period)
    before = review.form_score if review else None
    if review is None:
        review = PropertyReview(project_id=project_id, compound_id=compound_id, period=period, scores=clean,
                                form_score=total, note=note, submitted_at=deps.clock.now(),
                                submitted_by=actor.web_user or actor.name, person_id=actor.person_id)
        deps.session.add(review)
    else:
        review.scores, review.form_score, review.note = clean, total, note
        review.submitted_at, review.submitted_by = deps.clock.now(), actor.web_user or actor.name
        review.person_id = actor.person_id
    await deps.session.flush()
    record_event(deps.session, REVIEW_SUBJECT, review.id, "submitted", deps.clock.now(), actor=actor,
                 from_state=None if before is None else f"{before:g}", to_state=f"{total:g}",
                 note=note, data={"period": period, "scores": clean})
    return review


async def review_of(deps: Deps, project_id: int, period: str) -> PropertyReview | None:
    """The project's form for the period, if submitted."""
    return (await deps.session.execute(select(PropertyReview).where(
        PropertyReview.project_id == project_id, PropertyReview.period == period))).scalar_one_or_none()


async def reviews_for(deps: Deps, period: str) -> dict[int, PropertyReview]:
    """Project id → the period's form."""
    rows = (await deps.session.execute(select(PropertyReview).where(PropertyReview.period == period))).scalars()
    return {r.project_id: r for r in rows}


async def latest_reviews(deps: Deps, up_to_period_end: datetime) -> dict[int, PropertyReview]:
    """Project id → its most recent form submitted before the given time (the monthly lists)."""
    rows = (await deps.session.execute(select(PropertyReview).where(
        PropertyReview.submitted_at < up_to_period_end).order_by(PropertyReview.submitted_at))).scalars()
    return {r.project_id: r for r in rows}
