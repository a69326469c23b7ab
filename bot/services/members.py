"""Members of the branch: identity requests (亮身份), roles added or removed by a secretary, the
roster and naming consent. Rights come only from Role rows (per compound), never from display names.

``pending_requests(deps, actor)`` → ``PendingRequest`` rows the actor may decide (digests, dashboard).
Points, service records and the honour roll: ``bot.services.member_points``; words and numbers
as people type them in commands: ``bot.services.chat_words``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit import record_event
from bot.invites import create_invite
from bot.models import ChatGroup, Identity, Person, Role, RoleName
from bot.models.members import (
    IdentityRequest, PostSignup, RequestState, SignupState, VolunteerPost,
)
from bot.orgdir import OrgDirectory
from bot.roles import STAFF_ROLES, role_label
from bot.services import Actor, Deps, ServiceError
from bot.services.chat_words import normalize
from bot.texts import members as T
from nlp.buildings import Home

# Who may claim wishes and hold volunteer posts.
MEMBER_ROLES = frozenset({RoleName.PARTY_MEMBER, RoleName.VOLUNTEER})
# Roles a person may apply for in chat (亮身份); the rest are appointed.
APPLICABLE_ROLES = (RoleName.PARTY_MEMBER, RoleName.BUILDING_LEADER, RoleName.UNIT_LEADER, RoleName.VOLUNTEER)
# Compound roles a secretary may add; community/district staff may add a secretary too.
ADDABLE_ROLES = frozenset({
    RoleName.PARTY_MEMBER, RoleName.BUILDING_LEADER, RoleName.UNIT_LEADER, RoleName.VOLUNTEER,
    RoleName.GRID_WORKER, RoleName.SOCIAL_WORKER, RoleName.PROPERTY_MANAGER, RoleName.OWNERS_COMMITTEE,
    RoleName.RESIDENT,
})
AREA_STAFF = frozenset({RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF})

# ------------------------------------------------------------------ small shared helpers
def tell(deps: Deps, person_id: int, text: str, *, ref: tuple[str, int] | None = None) -> None:
    deps.outbox.enqueue(deps.session, text, person_id=person_id, ref=ref)


async def reachable(session: AsyncSession, person_id: int | None) -> bool:
    """The person has an active chat identity, so a private text can reach them."""
    if person_id is None:
        return False
    found = await session.execute(select(Identity.id).where(
        Identity.person_id == person_id, Identity.active.is_(True)).limit(1))
    return found.first() is not None


async def branch_staff(session: AsyncSession, org: OrgDirectory, compound_id: int) -> list[int]:
    """Who hears about a compound's requests and wishes: its secretaries, else its community staff."""
    secretaries = list((await session.execute(select(Role.person_id).where(
        Role.name == RoleName.SECRETARY, Role.compound_id == compound_id).order_by(Role.person_id))).scalars())
    if secretaries:
        return list(dict.fromkeys(secretaries))
    community = org.community_of.get(compound_id)
    staff = list((await session.execute(select(Role.person_id).where(
        Role.name == RoleName.COMMUNITY_STAFF, Role.community_id == community).order_by(Role.person_id))).scalars())
    return list(dict.fromkeys(staff))


async def compound_groups(session: AsyncSession, compound_id: int) -> list[ChatGroup]:
    """The compound's active, bound groups (whole-compound groups before building groups)."""
    rows = (await session.execute(select(ChatGroup).where(
        ChatGroup.compound_id == compound_id, ChatGroup.active.is_(True)).order_by(ChatGroup.id))).scalars()
    return sorted(rows, key=lambda g: g.building is not None)


async def person_of(deps: Deps, actor: Actor) -> Person | None:
    return await deps.session.get(Person, actor.person_id) if actor.person_id else None


def require_staff(actor: Actor, compound_id: int, org: OrgDirectory) -> None:
    if not actor.roles.is_staff_for(compound_id):
        raise ServiceError(T.STAFF_ONLY.format(compound=org.name_of(compound_id)))


def staff_compounds(actor: Actor, org: OrgDirectory) -> list[int]:
    return actor.roles.compounds_with(STAFF_ROLES, sorted(org.compounds))


# ------------------------------------------------------------------ identity requests
@dataclass(frozen=True)
class PendingRequest:
    """What the dashboard shows of an identity request waiting for a decision."""

    id: int
    number: str
    person_id: int
    name: str
    compound_id: int
    role: str
    detail: str
    created_at: datetime


def request_number(request_id: int) -> str:
    return f"R{request_id}"


def _detail(req: IdentityRequest) -> str:
    parts = [Home(req.building, req.unit, req.room_no).label()]
    if req.applicant_name:
        parts.append(T.DETAIL_WECHAT_NAME.format(name=req.applicant_name))
    if req.note:
        parts.append(req.note)
    return "；".join(p for p in parts if p)


async def apply_identity(deps: Deps, actor: Actor, compound_id: int, role: str, *, home: Home | None = None,
                         note: str | None = None, group_id: int | None = None,
                         applicant_name: str = "") -> IdentityRequest:
    """A person asks for a compound role; the branch is told and decides (同意/拒绝)."""
    if actor.person_id is None:
        raise ServiceError(T.APPLY_CHAT_ONLY)
    if role not in APPLICABLE_ROLES:
        raise ServiceError(T.APPLY_ROLE_APPOINTED.format(role=role_label(role)))
    if note and len(note) > 200:
        raise ServiceError(T.TOO_LONG.format(what="说明", limit=200))
    person = await person_of(deps, actor)
    assert person is not None
    if any(r.name == role and r.compound_id == compound_id for r in person.roles):
        raise ServiceError(T.APPLY_ALREADY_HAS.format(role=role_label(role), compound=deps.org.name_of(compound_id)))
    pending = (await deps.session.execute(select(IdentityRequest).where(
        IdentityRequest.person_id == person.id, IdentityRequest.compound_id == compound_id,
        IdentityRequest.role == role, IdentityRequest.state == RequestState.PENDING))).scalars().first()
    if pending is not None:
        raise ServiceError(T.APPLY_PENDING.format(number=request_number(pending.id)))
    home = home or Home()
    req = IdentityRequest(
        person_id=person.id, compound_id=compound_id, role=role, building=home.building, unit=home.unit,
        room_no=home.room, note=note, applicant_name=applicant_name[:128], group_id=group_id,
        state=RequestState.PENDING, created_at=deps.clock.now(),
    )
    deps.session.add(req)
    await deps.session.flush()
    record_event(deps.session, "identity_request", req.id, "applied", deps.clock.now(), actor=actor,
                 to_state=RequestState.PENDING,
                 note=f"{role} {home.label()}".strip())
    staff = await branch_staff(deps.session, deps.org, compound_id)
    text = T.REQUEST_TO_STAFF.format(
        number=request_number(req.id), name=person.name, role=role_label(role),
        compound=deps.org.name_of(compound_id), detail=_detail(req) or "—")
    for staff_id in staff:
        if staff_id != person.id:
            tell(deps, staff_id, text, ref=("identity_request", req.id))
    return req


async def pending_requests(deps: Deps, actor: Actor) -> list[PendingRequest]:
    """Requests waiting in the compounds where the actor is staff, oldest first."""
    compounds = staff_compounds(actor, deps.org)
    if not compounds:
        return []
    rows = (await deps.session.execute(
        select(IdentityRequest, Person.name).join(Person, Person.id == IdentityRequest.person_id)
        .where(IdentityRequest.state == RequestState.PENDING, IdentityRequest.compound_id.in_(compounds))
        .order_by(IdentityRequest.id))).all()
    return [PendingRequest(r.id, request_number(r.id), r.person_id, name, r.compound_id, r.role, _detail(r),
                           r.created_at) for r, name in rows]


async def _decidable(deps: Deps, actor: Actor, request_id: int) -> IdentityRequest:
    req = await deps.session.get(IdentityRequest, request_id)
    if req is None:
        raise ServiceError(T.REQUEST_UNKNOWN.format(number=request_number(request_id)))
    require_staff(actor, req.compound_id, deps.org)
    if req.state != RequestState.PENDING:
        raise ServiceError(T.REQUEST_DECIDED.format(number=request_number(req.id), state=T.REQUEST_STATES[req.state]))
    return req


async def _mark_decided(deps: Deps, actor: Actor, req: IdentityRequest, state: str, reason: str | None) -> None:
    """Pending → decided, conditionally: two secretaries answering at once decide only once."""
    now = deps.clock.now()
    result = await deps.session.execute(
        update(IdentityRequest).where(IdentityRequest.id == req.id, IdentityRequest.state == RequestState.PENDING)
        .values(state=state, decided_at=now, decided_by=actor.person_id, decided_by_web=actor.web_user,
                reason=reason).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ServiceError(T.REQUEST_DECIDED.format(number=request_number(req.id), state="已处理"))
    await deps.session.refresh(req)


async def grant_role(deps: Deps, actor: Actor, person: Person, role: str, compound_id: int | None,
                     community_id: int | None = None) -> bool:
    """Add a Role row unless the person has it; True when added."""
    await deps.session.refresh(person, ["roles"])
    if any(r.name == role and r.compound_id == compound_id and r.community_id == community_id for r in person.roles):
        return False
    deps.session.add(Role(person_id=person.id, name=role, compound_id=compound_id, community_id=community_id,
                          granted_by=actor.person_id, granted_at=deps.clock.now()))
    await deps.session.flush()
    await deps.session.refresh(person, ["roles"])
    record_event(deps.session, "person", person.id, "role_granted", deps.clock.now(), actor=actor, to_state=role,
                 note=deps.org.name_of(compound_id) or deps.org.communities.get(community_id or 0, ""))
    return True


async def approve_request(deps: Deps, actor: Actor, request_id: int) -> IdentityRequest:
    req = await _decidable(deps, actor, request_id)
    await _mark_decided(deps, actor, req, RequestState.APPROVED, None)
    person = await deps.session.get(Person, req.person_id)
    assert person is not None
    await grant_role(deps, actor, person, req.role, req.compound_id)
    if person.compound_id is None or person.compound_id == req.compound_id:
        person.compound_id = req.compound_id
        person.building = req.building or person.building
        person.unit = req.unit or person.unit
        person.room_no = req.room_no or person.room_no
    person.on_roster = True
    record_event(deps.session, "identity_request", req.id, "approved", deps.clock.now(), actor=actor,
                 from_state=RequestState.PENDING,
                 to_state=RequestState.APPROVED)
    compound = deps.org.name_of(req.compound_id)
    tell(deps, person.id, T.APPROVED_TO_APPLICANT.format(
        name=person.name, role=role_label(req.role), compound=compound,
        rights=T.MEMBER_RIGHTS if req.role in MEMBER_ROLES else ""))
    if req.group_id is not None and person.consent_named:
        group = await deps.session.get(ChatGroup, req.group_id)
        if group is not None and group.active and group.compound_id == req.compound_id:
            home = Home(req.building).label()
            deps.outbox.enqueue(deps.session, T.SHOW_IDENTITY_IN_GROUP.format(
                name=person.name, role=role_label(req.role), home=f"（{home}）" if home else ""),
                group_id=group.id)
    return req


async def reject_request(deps: Deps, actor: Actor, request_id: int, reason: str) -> IdentityRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(T.REJECT_NEEDS_REASON)
    if len(reason) > 200:
        raise ServiceError(T.TOO_LONG.format(what="原因", limit=200))
    req = await _decidable(deps, actor, request_id)
    await _mark_decided(deps, actor, req, RequestState.REJECTED, reason)
    record_event(deps.session, "identity_request", req.id, "rejected", deps.clock.now(), actor=actor,
                 from_state=RequestState.PENDING,
                 to_state=RequestState.REJECTED, note=reason)
    tell(deps, req.person_id, T.REJECTED_TO_APPLICANT.format(
        role=role_label(req.role), compound=deps.org.name_of(req.compound_id), reason=reason))
    return req


async def only_pending_for(deps: Deps, actor: Actor) -> int | None:
    """The one pending request the actor may decide, when there is exactly one."""
    rows = await pending_requests(deps, actor)
    return rows[0].id if len(rows) == 1 else None


# ------------------------------------------------------------------ secretary adds / removes
@dataclass
class AddResult:
    person: Person
    role: str
    added: bool          # False: the person already had the role
    created: bool        # a new roster person (not seen in chat yet)
    invite_code: str | None = None  # for the person to link their WeChat (private to the secretary)


async def add_member(deps: Deps, actor: Actor, compound_id: int, name: str, role: str, *,
                     home: Home | None = None, phone: str | None = None) -> AddResult:
    """A secretary adds a person to the roster with a role.

    Only roster people (imported or approved) are matched by name: a chat display name never
    receives a role this way. Anyone else becomes a new roster person with a one-time code
    that links their WeChat when they send it to the bot privately.
    """
    require_staff(actor, compound_id, deps.org)
    name = normalize(name)
    if not name or len(name) > 16:
        raise ServiceError(T.ADD_BAD_NAME)
    allowed = ADDABLE_ROLES | ({RoleName.SECRETARY} if actor.roles.has_any(AREA_STAFF, compound_id) else set())
    if role not in allowed:
        raise ServiceError(T.ADD_ROLE_NOT_ALLOWED.format(role=role_label(role)))
    query = select(Person).where(Person.name == name, Person.compound_id == compound_id, Person.on_roster.is_(True))
    if phone:
        query = select(Person).where(Person.phone == phone)
    matches = list((await deps.session.execute(query.order_by(Person.id))).scalars())
    if len(matches) > 1:
        raise ServiceError(T.ADD_AMBIGUOUS.format(name=name, count=len(matches)))
    home = home or Home()
    created = not matches
    if created:
        person = Person(name=name, phone=phone, compound_id=compound_id, building=home.building, unit=home.unit,
                        room_no=home.room, on_roster=True, created_at=deps.clock.now())
        deps.session.add(person)
        await deps.session.flush()
        record_event(deps.session, "person", person.id, "added", deps.clock.now(), actor=actor,
                     note=f"{deps.org.name_of(compound_id)} {home.label()}")
    else:
        person = matches[0]
        if person.compound_id in (None, compound_id):
            person.compound_id = compound_id
            person.building = home.building or person.building
            person.unit = home.unit or person.unit
            person.room_no = home.room or person.room_no
    added = await grant_role(deps, actor, person, role, compound_id)
    code = None
    if not await reachable(deps.session, person.id):
        invite = await create_invite(deps.session, person, role, deps.clock.now(), deps.settings.invite_ttl_hours,
                                     compound_id=compound_id)
        code = invite.code
    elif added:
        tell(deps, person.id, T.ADDED_TO_PERSON.format(role=role_label(role), compound=deps.org.name_of(compound_id)))
    return AddResult(person, role, added, created, code)


async def remove_member(deps: Deps, actor: Actor, compound_id: int, name: str, role: str) -> Person:
    require_staff(actor, compound_id, deps.org)
    if role == RoleName.SECRETARY and not actor.roles.has_any(AREA_STAFF, compound_id):
        raise ServiceError(T.ADD_ROLE_NOT_ALLOWED.format(role=role_label(role)))
    rows = list((await deps.session.execute(
        select(Role).join(Person, Person.id == Role.person_id)
        .where(Person.name == normalize(name), Role.name == role, Role.compound_id == compound_id))).scalars())
    if not rows:
        raise ServiceError(T.REMOVE_NOT_FOUND.format(name=name, role=role_label(role)))
    if len(rows) > 1:
        raise ServiceError(T.ADD_AMBIGUOUS.format(name=name, count=len(rows)))
    person = await deps.session.get(Person, rows[0].person_id)
    assert person is not None
    await deps.session.execute(delete(Role).where(Role.id == rows[0].id))
    # Posts are held by members: leaving the role leaves the compound's posts too.
    still_member = any(r.name in MEMBER_ROLES and r.compound_id == compound_id and r.id != rows[0].id
                       for r in person.roles)
    if role in MEMBER_ROLES and not still_member:
        held = (await deps.session.execute(
            select(PostSignup).join(VolunteerPost, VolunteerPost.id == PostSignup.post_id).where(
                PostSignup.person_id == person.id, PostSignup.state == SignupState.ACTIVE,
                VolunteerPost.compound_id == compound_id))).scalars()
        for signup in list(held):
            signup.state, signup.left_at = SignupState.LEFT, deps.clock.now()
            await deps.session.execute(
                update(VolunteerPost).where(VolunteerPost.id == signup.post_id, VolunteerPost.holder_count > 0)
                .values(holder_count=VolunteerPost.holder_count - 1).execution_options(synchronize_session=False))
    await deps.session.refresh(person, ["roles"])
    record_event(deps.session, "person", person.id, "role_revoked", deps.clock.now(), actor=actor,
                 from_state=role, note=deps.org.name_of(compound_id))
    return person


# ------------------------------------------------------------------ roster listing and consent
@dataclass(frozen=True)
class MemberRow:
    person_id: int
    name: str
    building: str | None
    unit: str | None
    roles: tuple[str, ...]
    consent_named: bool


async def list_members(deps: Deps, actor: Actor, compound_id: int, *, building: str | None = None,
                       role: str | None = None) -> list[MemberRow]:
    """People with a (non-resident) role in the compound, sorted by building, unit, name."""
    require_staff(actor, compound_id, deps.org)
    query = (select(Person, Role.name).join(Role, Role.person_id == Person.id)
             .where(Role.compound_id == compound_id, Role.name != RoleName.RESIDENT))
    if building:
        query = query.where(Person.building == building)
    rows = (await deps.session.execute(query.order_by(Person.id))).all()
    people: dict[int, tuple[Person, list[str]]] = {}
    for person, name in rows:
        people.setdefault(person.id, (person, []))[1].append(name)
    out = [MemberRow(p.id, p.name, p.building, p.unit, tuple(sorted(names)), p.consent_named)
           for p, names in people.values() if role is None or role in names]
    return sorted(out, key=lambda m: (_sort_key(m.building), _sort_key(m.unit), m.name))


def _sort_key(value: str | None) -> tuple[int, int, str]:
    if value is None:
        return (1, 0, "")
    return (0, int(value), "") if value.isdigit() else (0, 10**6, value)


async def set_consent(deps: Deps, actor: Actor, consent: bool) -> Person:
    person = await person_of(deps, actor)
    if person is None:
        raise ServiceError(T.APPLY_CHAT_ONLY)
    if person.consent_named != consent:
        person.consent_named = consent
        record_event(deps.session, "person", person.id, "consent_named", deps.clock.now(), actor=actor,
                     to_state="yes" if consent else "no")
    return person


__all__ = [
    "ADDABLE_ROLES", "APPLICABLE_ROLES", "AddResult", "MEMBER_ROLES", "MemberRow", "PendingRequest",
    "add_member", "apply_identity", "approve_request", "branch_staff", "compound_groups", "grant_role",
    "list_members", "pending_requests", "reachable", "reject_request", "remove_member", "request_number",
    "set_consent", "tell",
]
