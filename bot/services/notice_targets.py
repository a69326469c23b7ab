"""Notice targets and rights: who may send what to whom (scope words → ``Target``), which groups or
people a target means right now (``Recipient``), and who may manage an existing notice."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import and_, select

from bot.models import Building, ChatGroup, Identity, Person, RoleName
from bot.models.notices import Notice
from bot.roles import STAFF_ROLES
from bot.services import Actor, Deps, ServiceError
from bot.services.duty import is_duty_group
from bot.texts import notices as T
from nlp.buildings import building_label, building_of

_SPLIT = re.compile(r"^(\S+?)(?:[\s:：,，]+|$)(.*)$", re.S)


# ---------------------------------------------------------------- targets
@dataclass(frozen=True)
class Target:
    """Who a notice goes to, before resolving groups: stored on the notice as ``target``."""

    scope: str                       # compound / building / community / district
    label: str
    compound_ids: tuple[int, ...] = ()
    community_ids: tuple[int, ...] = ()
    building: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "compound_ids": list(self.compound_ids),
                "community_ids": list(self.community_ids), "building": self.building}


@dataclass(frozen=True)
class Recipient:
    group_id: int | None
    person_id: int | None
    compound_id: int | None
    label: str
    account: str | None


def district_staff(actor: Actor) -> bool:
    return any(g.name == RoleName.DISTRICT_STAFF and g.compound_id is None and g.community_id is None
               for g in actor.roles.grants)


def _community_ids_of(actor: Actor) -> list[int]:
    return sorted({g.community_id for g in actor.roles.grants
                   if g.name == RoleName.COMMUNITY_STAFF and g.community_id is not None})


def can_send_to(deps: Deps, actor: Actor, compound_id: int) -> bool:
    return actor.roles.is_staff_for(compound_id)


def is_notice_staff(actor: Actor) -> bool:
    return actor.roles.has_any(STAFF_ROLES)


def default_target(deps: Deps, actor: Actor, compound_id: int | None) -> Target:
    """No scope word: the group's compound; privately, the actor's own area."""
    if compound_id is not None:
        return compound_target(deps, actor, compound_id)
    if district_staff(actor):
        return district_target(deps, actor)
    communities = _community_ids_of(actor)
    if communities:
        return community_target(deps, actor, communities)
    mine = actor.roles.compounds_with([RoleName.SECRETARY], deps.org.compounds)
    if len(mine) == 1:
        return compound_target(deps, actor, mine[0])
    if mine:
        raise ServiceError(T.NO_COMPOUND)
    raise ServiceError(T.NOT_STAFF if not is_notice_staff(actor) else T.NO_COMPOUND)


def compound_target(deps: Deps, actor: Actor, compound_id: int, building: str | None = None) -> Target:
    name = deps.org.name_of(compound_id)
    if not can_send_to(deps, actor, compound_id):
        raise ServiceError(T.NOT_YOUR_COMPOUND.format(compound=name))
    if building:
        return Target("building", f"{name} {building_label(building)}", (compound_id,), building=building)
    return Target("compound", name, (compound_id,))


def community_target(deps: Deps, actor: Actor, community_ids: Sequence[int]) -> Target:
    compounds = tuple(sorted(c for c, k in deps.org.community_of.items() if k in community_ids))
    if not compounds or not all(can_send_to(deps, actor, c) for c in compounds):
        raise ServiceError(T.NOT_COMMUNITY)
    names = "、".join(deps.org.communities.get(k, "") for k in community_ids)
    return Target("community", f"{names}（{len(compounds)}个小区）", compounds, tuple(community_ids))


def district_target(deps: Deps, actor: Actor) -> Target:
    if not district_staff(actor):
        raise ServiceError(T.NOT_DISTRICT)
    return Target("district", f"全区（{len(deps.org.compounds)}个小区）", tuple(sorted(deps.org.compounds)))


async def parse_scope(deps: Deps, actor: Actor, args: str, compound_id: int | None) -> tuple[Target, str]:
    """Scope words at the start of ``通知 …``: 全区 / 全社区 / a compound name / 3号楼 (any order)."""
    rest = args.strip()
    compound: int | None = None
    building: str | None = None
    scope_word: str | None = None
    for _ in range(3):
        m = _SPLIT.match(rest)
        if not m:
            break
        token, tail = m.group(1), m.group(2)
        if token in ("全区", "全部小区") and scope_word is None:
            scope_word = "district"
        elif token in ("全社区", "本社区") and scope_word is None:
            scope_word = "community"
        elif building is None and (number := building_of(token)):
            building = number
        elif compound is None and token in deps.org.by_name:
            compound = deps.org.by_name[token].id
        else:
            break
        rest = tail.strip()
    if scope_word == "district":
        return district_target(deps, actor), rest
    if scope_word == "community":
        base = compound or compound_id
        ids = [deps.org.community_of[base]] if base in deps.org.community_of else _community_ids_of(actor)
        if not ids:
            raise ServiceError(T.NOT_COMMUNITY)
        return community_target(deps, actor, ids), rest
    if compound is not None:
        target = compound_target(deps, actor, compound, building)
    elif building is not None:
        base = compound_id
        if base is None:
            mine = actor.roles.compounds_with(STAFF_ROLES, deps.org.compounds)
            if len(mine) != 1:
                raise ServiceError(T.BUILDING_NEEDS_ONE_COMPOUND)
            base = mine[0]
        target = compound_target(deps, actor, base, building)
    else:
        target = default_target(deps, actor, compound_id)
    if target.building is not None:
        await _check_building(deps, target.compound_ids[0], target.building)
    return target, rest


async def _check_building(deps: Deps, compound_id: int, building: str) -> None:
    known = list((await deps.session.execute(
        select(Building.number).where(Building.compound_id == compound_id))).scalars())
    if known and building not in known:
        ordered = sorted(known, key=lambda b: (len(b), b))
        raise ServiceError(T.UNKNOWN_BUILDING.format(compound=deps.org.name_of(compound_id), building=building,
                                                     known="、".join(building_label(b) for b in ordered)))


async def resolve_recipients(deps: Deps, target: dict[str, Any]) -> list[Recipient]:
    """The groups (or, for a building without a group, the people) a target means right now."""
    session = deps.session
    scope = target.get("scope")
    if scope == "district":
        where = ChatGroup.compound_id.is_not(None)
    elif scope == "community":
        ids = [c for c, k in deps.org.community_of.items() if k in set(target.get("community_ids") or [])]
        where = ChatGroup.compound_id.in_(ids)
    else:
        where = ChatGroup.compound_id.in_(target.get("compound_ids") or [])
    building = target.get("building")
    if building:
        where = and_(where, ChatGroup.building == building)
    groups = (await session.execute(
        select(ChatGroup.id, ChatGroup.compound_id, ChatGroup.topic, ChatGroup.account)
        .where(where, ChatGroup.active.is_(True), ~is_duty_group())  # staff duty groups get alerts, not notices
        .order_by(ChatGroup.compound_id, ChatGroup.id))).all()
    if groups or not building:
        return [Recipient(g.id, None, g.compound_id, g.topic, g.account) for g in groups]
    compound_id = (target.get("compound_ids") or [None])[0]
    reachable = select(Identity.person_id).where(Identity.active.is_(True))
    people = (await session.execute(
        select(Person.id, Person.name).where(Person.compound_id == compound_id, Person.building == building,
                                             Person.id.in_(reachable)).order_by(Person.id))).all()
    return [Recipient(None, p.id, compound_id, p.name, None) for p in people]



def is_author(notice: Notice, actor: Actor) -> bool:
    if actor.person_id is not None:
        return notice.author_person_id == actor.person_id
    return actor.web_user is not None and notice.author_web_user == actor.web_user


def may_manage(deps: Deps, notice: Notice, actor: Actor) -> bool:
    """The author, or staff over every compound the notice reaches (a community over its secretaries)."""
    if is_author(notice, actor):
        return True
    target = notice.target or {}
    if target.get("scope") == "district":
        return district_staff(actor)
    compounds = target.get("compound_ids") or []
    return bool(compounds) and all(actor.roles.is_staff_for(c) for c in compounds)


async def get_notice(deps: Deps, actor: Actor, notice_id: int) -> Notice:
    notice = await deps.session.get(Notice, notice_id)
    if notice is None:
        raise ServiceError(T.NOT_FOUND.format(id=notice_id))
    if not may_manage(deps, notice, actor):
        raise ServiceError(T.NOT_AUTHOR.format(id=notice_id))
    return notice

