"""Micro-wishes (微心愿): post, claim, progress, done, confirm, give up, stale claims.

Privacy: a wish's ``summary`` (with building, category, deadline) is public; ``details``,
``address`` and ``contact_phone`` go only to its claimers, its poster, the wisher and the
branch (``can_see_private``). Group texts never carry them.

Claims are race-safe: the place on a wish is taken by a conditional
``UPDATE wishes SET claimer_count = claimer_count + 1 … WHERE state = 'open' AND
claimer_count < max_claimers`` — on PostgreSQL the row lock makes a concurrent second UPDATE
re-check the condition, on SQLite writers are serialised — so two members claiming the same
wish from two processes cannot both win. (wish, person) is unique in ``wish_claims`` too.

Reading wishes (query functions for the digests, the dashboard and chat) and the lines people
read about one: ``bot.services.wish_queries``; service records and points:
``bot.services.member_points.service_records``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import record_event
from bot.models import Person, RoleName
from bot.models.members import IdentityRequest, PointKind, RequestState
from bot.models.wishes import ACTIVE_WISH_STATES, ClaimState, Wish, WishClaim, WishProgress, WishState
from bot.privacy import mask_pii
from bot.services import Actor, Deps, ServiceError
from bot.services.member_points import credit, point_value
from bot.services.members import (
    MEMBER_ROLES, branch_staff, compound_groups, person_of, reachable, tell,
)
from bot.services.names import person_names
from bot.services import wish_followup
from bot.services.wish_followup import setting_days
from bot.services.wish_queries import (
    claims_of, get_wish, is_owner, private_block, public_line, stale_claims,
)
from bot.texts import wishes as T

# May post a wish for someone who is not in WeChat (代发心愿).
ON_BEHALF_ROLES = frozenset({
    RoleName.SOCIAL_WORKER, RoleName.BUILDING_LEADER, RoleName.UNIT_LEADER, RoleName.GRID_WORKER,
    RoleName.SECRETARY, RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF,
})
SUMMARY_MAX = 40
DETAILS_MAX = 1000
PROGRESS_MAX = 500
MAX_TEAM = 10
MAX_OPEN_PER_WISHER = 5

# Stale claims: remind after REMIND_DAYS without progress, release after RELEASE_DAYS
# (per compound: settings wish_remind_days / wish_release_days). Sweeps speak only by day,
# from 9:00: the 8:30 digest shows the branch a stale claim before it is released.
REMIND_DAYS = 3
RELEASE_DAYS = 7
CONFIRM_REMIND_DAYS = 7
QUIET_BEFORE, QUIET_FROM = 9, 21


@dataclass
class WishDraft:
    """A wish as a poster describes it (chat parsing or a dashboard form fills it)."""

    summary: str
    details: str | None = None
    address: str | None = None
    phone: str | None = None
    building: str | None = None
    category: str | None = None
    deadline: datetime | None = None
    max_claimers: int = 1
    wisher_name: str | None = None        # 代发: the person it is for
    wisher_person_id: int | None = None   # 代发: when that person is on the roster


# ------------------------------------------------------------------ telling people
async def _wisher_contact(deps: Deps, wish: Wish) -> tuple[int | None, bool]:
    """Whom to tell about the wish's progress: (person id, is it the wisher themself).

    The wisher when they are in WeChat, else the poster who relays (代发)."""
    if await reachable(deps.session, wish.wisher_person_id):
        return wish.wisher_person_id, True
    if wish.posted_by is not None and wish.posted_by != wish.wisher_person_id:
        return wish.posted_by, False
    return None, False


async def _tell_wisher(deps: Deps, wish: Wish, own: str, relay: str, *, skip: int | None = None,
                       **values: str) -> bool:
    """Tell the wisher in plain words; or the poster, asking them to pass it on. False: nobody to tell."""
    person_id, is_wisher = await _wisher_contact(deps, wish)
    if person_id is None or person_id == skip:
        return False
    text = own if is_wisher else relay
    deps.outbox.enqueue(deps.session, text.format(summary=wish.summary, wisher=wish.wisher_name or "", **values),
                        person_id=person_id, ref=("wish", wish.id))
    return True


def _event(deps: Deps, actor: Actor, wish: Wish, action: str, from_state: str | None, note: str | None = None) -> None:
    record_event(deps.session, "wish", wish.id, action, deps.clock.now(), actor=actor,
                 from_state=from_state, to_state=wish.state, note=note)


# ------------------------------------------------------------------ posting
async def post_wish(deps: Deps, actor: Actor, compound_id: int, draft: WishDraft, *, on_behalf: bool = False,
                    group_id: int | None = None) -> Wish:
    if on_behalf and not actor.roles.has_any(ON_BEHALF_ROLES, compound_id):
        raise ServiceError(T.ON_BEHALF_NOT_ALLOWED)
    summary = (draft.summary or "").strip()
    if not summary:
        raise ServiceError(T.EMPTY_SUMMARY)
    if len(summary) > SUMMARY_MAX:
        raise ServiceError(T.TOO_LONG.format(what="心愿摘要", limit=SUMMARY_MAX))
    if draft.details and len(draft.details) > DETAILS_MAX:
        raise ServiceError(T.TOO_LONG.format(what="心愿详情", limit=DETAILS_MAX))
    if not 1 <= draft.max_claimers <= MAX_TEAM:
        raise ServiceError(T.BAD_TEAM.format(limit=MAX_TEAM))
    now = deps.clock.now()
    if draft.deadline is not None and draft.deadline <= now:
        raise ServiceError(T.DEADLINE_PAST)
    poster = await person_of(deps, actor)
    if on_behalf:
        if not draft.wisher_name:
            raise ServiceError(T.ON_BEHALF_NEEDS_NAME)
        wisher_id, wisher_name = draft.wisher_person_id, draft.wisher_name
    else:
        wisher_id = actor.person_id
        wisher_name = draft.wisher_name or (poster.name if poster else actor.name)
    if wisher_id is not None:
        open_count = (await deps.session.execute(select(func.count()).select_from(Wish).where(
            Wish.wisher_person_id == wisher_id, Wish.state.in_(list(ACTIVE_WISH_STATES))))).scalar_one()
        if open_count >= MAX_OPEN_PER_WISHER:
            raise ServiceError(T.TOO_MANY_OPEN.format(limit=MAX_OPEN_PER_WISHER))
    building = draft.building
    if building is None and poster is not None and not on_behalf and poster.compound_id == compound_id:
        building = poster.building
    wish = Wish(
        compound_id=compound_id, building=building, summary=summary, details=draft.details,
        address=draft.address, contact_phone=draft.phone, category=draft.category, deadline=draft.deadline,
        state=WishState.OPEN, max_claimers=draft.max_claimers, claimer_count=0, wisher_person_id=wisher_id,
        wisher_name=(wisher_name or "")[:64], posted_by=actor.person_id, posted_by_web=actor.web_user,
        on_behalf=on_behalf, source_group_id=group_id, created_at=now, updated_at=now,
    )
    deps.session.add(wish)
    await deps.session.flush()
    _event(deps, actor, wish, "posted", None, note=summary)
    text = T.NEW_WISH_TO_STAFF.format(
        line=public_line(wish, deps.clock), poster=poster.name if poster else actor.name,
        compound=deps.org.name_of(compound_id), private=private_block(wish))
    for staff_id in await branch_staff(deps.session, deps.org, compound_id):
        if staff_id != actor.person_id:
            tell(deps, staff_id, text, ref=("wish", wish.id))
    return wish


async def add_details(deps: Deps, actor: Actor, wish_id: int, *, details: str | None = None,
                      address: str | None = None, phone: str | None = None) -> Wish:
    """The wisher, poster or branch adds private details; current claimers are told privately."""
    wish = await get_wish(deps.session, wish_id)
    if not is_owner(actor, wish):
        raise ServiceError(T.NOT_OWNER.format(number=wish.number))
    if wish.state not in (*ACTIVE_WISH_STATES, WishState.DONE):
        raise ServiceError(T.WISH_CLOSED.format(number=wish.number, state=T.STATE_LABELS[wish.state]))
    if details:
        combined = f"{wish.details}\n{details}" if wish.details else details
        if len(combined) > DETAILS_MAX:
            raise ServiceError(T.TOO_LONG.format(what="心愿详情", limit=DETAILS_MAX))
        wish.details = combined
    if address:
        wish.address = address[:128]
    if phone:
        wish.contact_phone = phone[:64]
    wish.updated_at = deps.clock.now()
    record_event(deps.session, "wish", wish.id, "details_added", deps.clock.now(), actor=actor,
                 from_state=wish.state, to_state=wish.state)
    for claim in await claims_of(deps.session, wish.id):
        if claim.person_id != actor.person_id:
            tell(deps, claim.person_id, T.DETAILS_TO_CLAIMER.format(number=wish.number, summary=wish.summary,
                                                                     private=private_block(wish)), ref=("wish", wish.id))
    return wish


# ------------------------------------------------------------------ claiming
@dataclass
class ClaimResult:
    wish: Wish
    claim: WishClaim
    places_left: int


async def claim(deps: Deps, actor: Actor, wish_id: int) -> ClaimResult:
    """Take a place on a wish. Exactly one of two racing members gets the last place."""
    session = deps.session
    wish = await get_wish(session, wish_id)
    if actor.person_id is None:
        raise ServiceError(T.CLAIM_CHAT_ONLY)
    if not actor.roles.has_any(MEMBER_ROLES, wish.compound_id):
        pending = (await session.execute(select(IdentityRequest.id).where(
            IdentityRequest.person_id == actor.person_id, IdentityRequest.compound_id == wish.compound_id,
            IdentityRequest.state == RequestState.PENDING))).scalars().first()
        if pending is not None:
            raise ServiceError(T.CLAIM_PENDING_REQUEST.format(number=f"R{pending}"))
        raise ServiceError(T.CLAIM_NOT_MEMBER.format(compound=deps.org.name_of(wish.compound_id)))
    if actor.person_id == wish.wisher_person_id:
        raise ServiceError(T.CLAIM_OWN_WISH)
    existing = (await session.execute(select(WishClaim).where(
        WishClaim.wish_id == wish.id, WishClaim.person_id == actor.person_id))).scalar_one_or_none()
    if existing is not None and existing.state in (ClaimState.ACTIVE, ClaimState.DONE):
        raise ServiceError(T.CLAIM_ALREADY_YOURS.format(number=wish.number))
    if wish.state != WishState.OPEN:
        raise ServiceError(await _taken_message(deps, wish))
    now = deps.clock.now()
    taken = await session.execute(
        update(Wish)
        .where(Wish.id == wish.id, Wish.state == WishState.OPEN, Wish.claimer_count < Wish.max_claimers)
        .values(claimer_count=Wish.claimer_count + 1,
                state=case((Wish.claimer_count + 1 >= Wish.max_claimers, WishState.CLAIMED), else_=WishState.OPEN),
                updated_at=now)
        .execution_options(synchronize_session=False))
    await session.refresh(wish)
    if taken.rowcount != 1:
        raise ServiceError(await _taken_message(deps, wish))
    if existing is None:
        existing = WishClaim(wish_id=wish.id, person_id=actor.person_id, state=ClaimState.ACTIVE, claimed_at=now,
                             last_progress_at=now)
        session.add(existing)
    else:
        existing.state, existing.claimed_at, existing.last_progress_at = ClaimState.ACTIVE, now, now
        existing.reminded_at = existing.ended_at = None
    await session.flush()
    _event(deps, actor, wish, "claimed", WishState.OPEN)
    claimer = await person_of(deps, actor)
    name = claimer.name if claimer else actor.name
    await _tell_wisher(deps, wish, T.CLAIMED_TO_WISHER, T.CLAIMED_TO_POSTER, skip=actor.person_id, helper=name,
                       helper_desc=T.helper_desc(claimer.building if claimer else None))
    return ClaimResult(wish, existing, wish.max_claimers - wish.claimer_count)


async def _taken_message(deps: Deps, wish: Wish) -> str:
    if wish.state in (WishState.OPEN, WishState.CLAIMED):
        claims = await claims_of(deps.session, wish.id)
        names = "、".join((await person_names(deps.session, [c.person_id for c in claims])).values()) or "其他党员"
        return T.CLAIM_TAKEN.format(number=wish.number, names=names)
    return T.WISH_CLOSED.format(number=wish.number, state=T.STATE_LABELS[wish.state])


async def _active_claim(deps: Deps, actor: Actor, wish: Wish) -> WishClaim:
    claim_row = (await deps.session.execute(select(WishClaim).where(
        WishClaim.wish_id == wish.id, WishClaim.person_id == actor.person_id,
        WishClaim.state == ClaimState.ACTIVE))).scalar_one_or_none()
    if claim_row is None:
        raise ServiceError(T.NOT_YOUR_CLAIM.format(number=wish.number))
    return claim_row


async def my_active_claims(session: AsyncSession, person_id: int) -> list[Wish]:
    return list((await session.execute(select(Wish).join(WishClaim, WishClaim.wish_id == Wish.id).where(
        WishClaim.person_id == person_id, WishClaim.state == ClaimState.ACTIVE,
        Wish.state.in_(list(ACTIVE_WISH_STATES))).order_by(Wish.id))).scalars())


async def awaiting_confirmation(session: AsyncSession, actor: Actor) -> list[Wish]:
    """Done wishes this person may confirm as the wisher or poster."""
    if actor.person_id is None:
        return []
    return list((await session.execute(select(Wish).where(
        Wish.state == WishState.DONE,
        (Wish.wisher_person_id == actor.person_id) | (Wish.posted_by == actor.person_id)).order_by(Wish.id))).scalars())


async def add_progress(deps: Deps, actor: Actor, wish_id: int, text: str) -> Wish:
    text = (text or "").strip()
    if not text:
        raise ServiceError(T.PROGRESS_EMPTY)
    if len(text) > PROGRESS_MAX:
        raise ServiceError(T.TOO_LONG.format(what="进度", limit=PROGRESS_MAX))
    wish = await get_wish(deps.session, wish_id)
    claim_row = await _active_claim(deps, actor, wish)
    now = deps.clock.now()
    claim_row.last_progress_at = now
    claim_row.reminded_at = None
    wish.updated_at = now
    deps.session.add(WishProgress(wish_id=wish.id, person_id=actor.person_id, kind="progress", text=text, at=now))
    record_event(deps.session, "wish", wish.id, "progress", deps.clock.now(), actor=actor,
                 from_state=wish.state, to_state=wish.state, note=text)
    claimer = await person_of(deps, actor)
    await _tell_wisher(deps, wish, T.PROGRESS_TO_WISHER, T.PROGRESS_TO_POSTER, skip=actor.person_id,
                       helper=claimer.name if claimer else actor.name, note=mask_pii(text))
    wish_followup.hold_for_appointment(deps, wish, text)
    return wish


async def mark_done(deps: Deps, actor: Actor, wish_id: int, note: str | None = None) -> Wish:
    note = (note or "").strip()
    if len(note) > PROGRESS_MAX:
        raise ServiceError(T.TOO_LONG.format(what="说明", limit=PROGRESS_MAX))
    wish = await get_wish(deps.session, wish_id)
    await _active_claim(deps, actor, wish)
    now = deps.clock.now()
    before = wish.state
    result = await deps.session.execute(
        update(Wish).where(Wish.id == wish.id, Wish.state.in_(list(ACTIVE_WISH_STATES)))
        .values(state=WishState.DONE, done_at=now, updated_at=now, confirm_reminded_at=None)
        .execution_options(synchronize_session=False))
    await deps.session.refresh(wish)
    if result.rowcount != 1:
        raise ServiceError(T.WISH_CLOSED.format(number=wish.number, state=T.STATE_LABELS[wish.state]))
    await deps.session.execute(
        update(WishClaim).where(WishClaim.wish_id == wish.id, WishClaim.state == ClaimState.ACTIVE)
        .values(state=ClaimState.DONE, last_progress_at=now).execution_options(synchronize_session=False))
    deps.session.add(WishProgress(wish_id=wish.id, person_id=actor.person_id, kind="done",
                                  text=note or T.DONE_DEFAULT_NOTE, at=now))
    _event(deps, actor, wish, "done", before, note=note or None)
    claimer = await person_of(deps, actor)
    helper = claimer.name if claimer else actor.name
    told = await _tell_wisher(deps, wish, T.DONE_TO_WISHER, T.DONE_TO_POSTER, skip=actor.person_id, helper=helper,
                              number=wish.number, note=f"（{mask_pii(note)}）" if note else "")
    if not told:  # nobody on the wisher's side in WeChat (or the poster did it): the branch confirms
        for staff_id in await branch_staff(deps.session, deps.org, wish.compound_id):
            if staff_id != actor.person_id:
                tell(deps, staff_id, T.DONE_TO_STAFF.format(number=wish.number, summary=wish.summary, helper=helper),
                     ref=("wish", wish.id))
    for other in await claims_of(deps.session, wish.id, (ClaimState.DONE,)):
        if other.person_id != actor.person_id:
            tell(deps, other.person_id, T.DONE_TO_TEAM.format(number=wish.number, summary=wish.summary, helper=helper),
                 ref=("wish", wish.id))
    return wish


async def confirm(deps: Deps, actor: Actor, wish_id: int, *, public_thanks: bool = False) -> tuple[Wish, list[int]]:
    """The wisher (or poster, or branch) confirms; members who fulfilled it get their points.

    A public thank-you in the group is posted only when the wisher's side agrees to it."""
    wish = await get_wish(deps.session, wish_id)
    if not is_owner(actor, wish):
        raise ServiceError(T.NOT_OWNER.format(number=wish.number))
    if wish.state != WishState.DONE:
        if wish.state in ACTIVE_WISH_STATES:
            raise ServiceError(T.CONFIRM_NOT_DONE.format(number=wish.number))
        raise ServiceError(T.WISH_CLOSED.format(number=wish.number, state=T.STATE_LABELS[wish.state]))
    helpers = [c.person_id for c in await claims_of(deps.session, wish.id, (ClaimState.DONE,))]
    if actor.person_id is not None and actor.person_id in helpers:
        raise ServiceError(T.CONFIRM_OWN_WORK.format(number=wish.number))  # nobody confirms their own points
    now = deps.clock.now()
    wishers_side = actor.person_id is not None and actor.person_id in (wish.wisher_person_id, wish.posted_by)
    public = public_thanks and wishers_side
    result = await deps.session.execute(
        update(Wish).where(Wish.id == wish.id, Wish.state == WishState.DONE)
        .values(state=WishState.CONFIRMED, confirmed_at=now, updated_at=now, public_thanks=public)
        .execution_options(synchronize_session=False))
    await deps.session.refresh(wish)
    if result.rowcount != 1:
        raise ServiceError(T.WISH_CLOSED.format(number=wish.number, state=T.STATE_LABELS[wish.state]))
    _event(deps, actor, wish, "confirmed", WishState.DONE, note="公开感谢" if public else None)
    points = point_value(deps.org, wish.compound_id, PointKind.WISH)
    for person_id in helpers:
        await credit(deps.session, person_id, wish.compound_id, PointKind.WISH, wish.id, points, now, wish.summary)
        tell(deps, person_id, T.CONFIRMED_TO_CLAIMER.format(number=wish.number, summary=wish.summary, points=points),
             ref=("wish", wish.id))
    if public and helpers:
        await _thank_publicly(deps, wish, helpers)
    return wish, helpers


async def _thank_publicly(deps: Deps, wish: Wish, helpers: list[int]) -> None:
    people = (await deps.session.execute(select(Person).where(Person.id.in_(helpers)).order_by(Person.id))).scalars()
    named = [p.name for p in people if p.consent_named]
    unnamed = len(helpers) - len(named)
    who = "、".join(named)
    if unnamed:
        who = f"{who}和{T.UNNAMED_HELPERS.format(n=unnamed)}" if who else T.UNNAMED_HELPERS.format(n=unnamed)
    group_id = wish.source_group_id
    if group_id is None:
        groups = await compound_groups(deps.session, wish.compound_id)
        group_id = groups[0].id if groups else None
    if group_id is not None:
        deps.outbox.enqueue(deps.session, T.THANKS_IN_GROUP.format(summary=wish.summary, who=who), group_id=group_id,
                            ref=("wish", wish.id))


async def not_done(deps: Deps, actor: Actor, wish_id: int, reason: str | None = None) -> Wish:
    """The wisher says it is not done yet: back to the helpers, who are told why."""
    reason = (reason or "").strip()
    if len(reason) > PROGRESS_MAX:
        raise ServiceError(T.TOO_LONG.format(what="原因", limit=PROGRESS_MAX))
    wish = await get_wish(deps.session, wish_id)
    if not is_owner(actor, wish):
        raise ServiceError(T.NOT_OWNER.format(number=wish.number))
    if wish.state != WishState.DONE:
        raise ServiceError(T.NOT_DONE_WRONG_STATE.format(number=wish.number, state=T.STATE_LABELS[wish.state]))
    now = deps.clock.now()
    result = await deps.session.execute(
        update(Wish).where(Wish.id == wish.id, Wish.state == WishState.DONE)
        .values(state=case((Wish.claimer_count >= Wish.max_claimers, WishState.CLAIMED), else_=WishState.OPEN),
                done_at=None, updated_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ServiceError(T.NOT_DONE_WRONG_STATE.format(number=wish.number, state="已处理"))
    await deps.session.refresh(wish)
    helpers = await claims_of(deps.session, wish.id, (ClaimState.DONE,))
    await deps.session.execute(
        update(WishClaim).where(WishClaim.wish_id == wish.id, WishClaim.state == ClaimState.DONE)
        .values(state=ClaimState.ACTIVE, last_progress_at=now, reminded_at=None)
        .execution_options(synchronize_session=False))
    deps.session.add(WishProgress(wish_id=wish.id, person_id=actor.person_id, kind="not_done",
                                  text=reason or T.NOT_DONE_DEFAULT, at=now))
    _event(deps, actor, wish, "not_done", WishState.DONE, note=reason or None)
    for helper in helpers:
        tell(deps, helper.person_id, T.NOT_DONE_TO_CLAIMER.format(
            number=wish.number, summary=wish.summary, reason=reason or T.NOT_DONE_DEFAULT), ref=("wish", wish.id))
    return wish


async def _drop_claim(deps: Deps, actor: Actor, wish: Wish, claim_row: WishClaim, to_state: str, action: str,
                      note: str | None) -> bool:
    """Active claim → gave_up/released; frees its place on the wish. False if it was not active any more."""
    now = deps.clock.now()
    result = await deps.session.execute(
        update(WishClaim).where(WishClaim.id == claim_row.id, WishClaim.state == ClaimState.ACTIVE)
        .values(state=to_state, ended_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    before = wish.state
    await deps.session.execute(
        update(Wish).where(Wish.id == wish.id)
        .values(claimer_count=Wish.claimer_count - 1,
                state=case((Wish.state.in_(list(ACTIVE_WISH_STATES)), WishState.OPEN), else_=Wish.state),
                updated_at=now).execution_options(synchronize_session=False))
    await deps.session.refresh(wish)
    await deps.session.refresh(claim_row)
    _event(deps, actor, wish, action, before, note=note)
    return True


async def give_up(deps: Deps, actor: Actor, wish_id: int, reason: str | None = None) -> Wish:
    reason = (reason or "").strip()[:200]
    wish = await get_wish(deps.session, wish_id)
    claim_row = await _active_claim(deps, actor, wish)
    if not await _drop_claim(deps, actor, wish, claim_row, ClaimState.GAVE_UP, "gave_up", reason or None):
        raise ServiceError(T.NOT_YOUR_CLAIM.format(number=wish.number))
    claimer = await person_of(deps, actor)
    await _tell_wisher(deps, wish, T.GAVE_UP_TO_WISHER, T.GAVE_UP_TO_POSTER, skip=actor.person_id,
                       helper=claimer.name if claimer else actor.name)
    await _after_release(deps, wish, actor.person_id)
    return wish


async def _after_release(deps: Deps, wish: Wish, helper_id: int | None) -> None:
    """A wish back in the pool is offered again and, when it keeps falling through, the branch hears."""
    wish.release_count = (wish.release_count or 0) + 1
    wish.hold_until = None
    await wish_followup.reoffer(deps, wish, exclude=[helper_id] if helper_id else [])
    await wish_followup.escalate_if_falling_through(deps, wish)


async def cancel(deps: Deps, actor: Actor, wish_id: int, reason: str | None = None) -> Wish:
    """The wisher, poster or branch withdraws a wish; its helpers are told."""
    wish = await get_wish(deps.session, wish_id)
    if not is_owner(actor, wish):
        raise ServiceError(T.NOT_OWNER.format(number=wish.number))
    if wish.state not in (*ACTIVE_WISH_STATES, WishState.DONE):
        raise ServiceError(T.WISH_CLOSED.format(number=wish.number, state=T.STATE_LABELS[wish.state]))
    before = wish.state
    now = deps.clock.now()
    helpers = await claims_of(deps.session, wish.id, (ClaimState.ACTIVE, ClaimState.DONE))
    wish.state = WishState.CANCELLED
    wish.updated_at = now
    for helper in helpers:
        helper.state, helper.ended_at = ClaimState.CANCELLED, now
        tell(deps, helper.person_id, T.CANCELLED_TO_CLAIMER.format(number=wish.number, summary=wish.summary),
             ref=("wish", wish.id))
    _event(deps, actor, wish, "cancelled", before, note=(reason or "")[:200] or None)
    return wish


# ------------------------------------------------------------------ the sweep (schedules)
@dataclass
class SweepResult:
    reminded: int = 0
    released: int = 0
    expired: int = 0
    confirm_reminders: int = 0
    reoffered: int = 0
    escalated: int = 0


async def sweep(deps: Deps, actor: Actor) -> SweepResult:
    """Remind stale claimers, release claims stale too long, expire past-deadline wishes,
    and remind the branch of fulfilled wishes nobody confirmed. Only in the daytime."""
    out = SweepResult()
    now = deps.clock.now()
    hour = deps.clock.local(now).hour
    if hour < QUIET_BEFORE or hour >= QUIET_FROM:
        return out
    shortest = timedelta(days=1)
    for stale in await stale_claims(deps.session, now, shortest):
        remind_after = timedelta(days=setting_days(deps.org, stale.compound_id, "wish_remind_days", REMIND_DAYS))
        release_after = timedelta(days=setting_days(deps.org, stale.compound_id, "wish_release_days", RELEASE_DAYS))
        wish = await deps.session.get(Wish, stale.wish_id)
        claim_row = await deps.session.get(WishClaim, stale.claim_id)
        assert wish is not None and claim_row is not None
        if wish_followup.held(wish, now):
            continue  # an appointment is set: no reminder, no release before it
        # Idle time counts from the later of the last progress and the appointment day.
        idle = now - max(stale.last_progress_at, wish.hold_until or stale.last_progress_at)
        if idle >= release_after:
            if await _drop_claim(deps, actor, wish, claim_row, ClaimState.RELEASED, "released",
                                 T.RELEASE_NOTE.format(days=release_after.days)):
                tell(deps, stale.person_id, T.RELEASED_TO_CLAIMER.format(number=wish.number, summary=wish.summary,
                                                                         days=release_after.days), ref=("wish", wish.id))
                await _tell_wisher(deps, wish, T.RELEASED_TO_WISHER, T.RELEASED_TO_POSTER, helper=stale.claimer,
                                   days=str((now - stale.last_progress_at).days))
                await _after_release(deps, wish, stale.person_id)
                out.released += 1
        elif idle >= remind_after and (claim_row.reminded_at is None or claim_row.reminded_at < claim_row.last_progress_at):
            claim_row.reminded_at = now
            left = (release_after - idle).days or 1
            tell(deps, stale.person_id, T.STALE_REMINDER.format(number=wish.number, summary=wish.summary,
                                                                days=idle.days, left=left), ref=("wish", wish.id))
            out.reminded += 1
    out.reoffered, out.escalated = await wish_followup.sweep_open(deps)  # see next_sweep_work
    expired = (await deps.session.execute(select(Wish).where(
        Wish.state == WishState.OPEN, Wish.claimer_count == 0, Wish.deadline.is_not(None), Wish.deadline < now))).scalars()
    for wish in list(expired):
        wish.state, wish.updated_at = WishState.EXPIRED, now
        _event(deps, actor, wish, "expired", WishState.OPEN)
        await _tell_wisher(deps, wish, T.EXPIRED_TO_WISHER, T.EXPIRED_TO_POSTER)
        out.expired += 1
    unconfirmed = (await deps.session.execute(select(Wish).where(
        Wish.state == WishState.DONE, Wish.confirm_reminded_at.is_(None),
        Wish.done_at <= now - timedelta(days=CONFIRM_REMIND_DAYS)))).scalars()
    for wish in list(unconfirmed):
        wish.confirm_reminded_at = now
        for staff_id in await branch_staff(deps.session, deps.org, wish.compound_id):
            tell(deps, staff_id, T.CONFIRM_REMINDER_TO_STAFF.format(number=wish.number, summary=wish.summary,
                                                                    days=CONFIRM_REMIND_DAYS), ref=("wish", wish.id))
        out.confirm_reminders += 1
    return out


async def next_sweep_work(session: AsyncSession, org: Any, clock: Any, after: datetime) -> datetime | None:
    """The first daytime moment ``sweep`` would act, from what is stored at ``after``; None
    while every wish is settled (one read either way). The test kit's clock jumps to it
    (production sweeps hourly regardless). Early is harmless, the sweep finds nothing; late
    would skip a reminder, so every threshold ``sweep`` checks is mirrored here."""
    rows = (await session.execute(
        select(Wish, WishClaim.last_progress_at, WishClaim.reminded_at)
        .outerjoin(WishClaim, and_(WishClaim.wish_id == Wish.id, WishClaim.state == ClaimState.ACTIVE))
        .where(Wish.state.in_((WishState.OPEN, WishState.CLAIMED, WishState.DONE))))).all()
    moments: list[datetime] = []
    for wish in {wish.id: wish for wish, _, _ in rows}.values():
        if wish.state == WishState.OPEN and wish.claimer_count == 0:
            moments += wish_followup.open_work(org, wish, after)
            if wish.deadline is not None:
                moments.append(wish.deadline + timedelta(microseconds=1))  # expired once strictly past
        if wish.state == WishState.DONE and wish.confirm_reminded_at is None and wish.done_at is not None:
            moments.append(wish.done_at + timedelta(days=CONFIRM_REMIND_DAYS))
    for wish, last_progress, reminded_at in rows:
        if last_progress is None or wish.state not in ACTIVE_WISH_STATES:
            continue  # no active claim, or one ``stale_claims`` does not look at
        idle_from = max(last_progress, wish.hold_until or last_progress)
        release = timedelta(days=setting_days(org, wish.compound_id, "wish_release_days", RELEASE_DAYS))
        remind = timedelta(days=setting_days(org, wish.compound_id, "wish_remind_days", REMIND_DAYS))
        due = idle_from + release
        if reminded_at is None or reminded_at < last_progress:  # not reminded since the last progress
            due = min(due, idle_from + remind)
        moments.append(max(due, last_progress + timedelta(days=1)))  # ``stale_claims``' day
    if not moments:
        return None
    local = clock.local(max(min(moments), after))
    if local.hour < QUIET_BEFORE:
        local = local.replace(hour=QUIET_BEFORE, minute=0, second=0, microsecond=0)
    elif local.hour >= QUIET_FROM:
        local = (local + timedelta(days=1)).replace(hour=QUIET_BEFORE, minute=0, second=0, microsecond=0)
    return local.astimezone(after.tzinfo)
