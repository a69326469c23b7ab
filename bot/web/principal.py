"""Who is using the dashboard or API, and which compounds they may see.

A secretary sees their compound(s), community staff their community, district staff
everything. A web user linked to a roster person also gets the scope of that person's
staff roles. The same grants become the ``Actor`` handed to the domain services.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from bot.models import RoleName
from bot.models.web import WebRole, WebUser
from bot.orgdir import OrgDirectory
from bot.roles import Grant, Roles, STAFF_ROLES
from bot.services import Actor


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    is_admin: bool
    person_id: int | None
    roles: Roles
    compound_ids: frozenset[int] | None  # None: every compound (district staff)
    community_ids: frozenset[int]
    via: str = "session"                 # "session" or "token"
    csrf: str = ""

    @property
    def is_district(self) -> bool:
        return self.compound_ids is None

    def sees(self, compound_id: int | None) -> bool:
        """May see objects of this compound (objects without a compound: district staff only)."""
        if self.compound_ids is None:
            return True
        return compound_id is not None and compound_id in self.compound_ids

    def visible(self, all_compounds: Iterable[int]) -> list[int]:
        ids = list(all_compounds)
        return ids if self.compound_ids is None else [c for c in ids if c in self.compound_ids]

    def actor(self) -> Actor:
        return Actor(name=self.display_name, roles=self.roles, person_id=self.person_id,
                     web_user=self.username)

    def as_dict(self, org: OrgDirectory) -> dict:
        compounds = self.visible(sorted(org.compounds))
        return {
            "username": self.username, "display_name": self.display_name, "role": self.role,
            "is_admin": self.is_admin, "person_id": self.person_id,
            "compounds": [{"id": c, "name": org.name_of(c)} for c in compounds],
            "communities": [{"id": c, "name": org.communities.get(c, "")} for c in sorted(self.community_ids)],
            "district_wide": self.is_district,
        }


def grants_of(user: WebUser, person_roles: Iterable = ()) -> list[Grant]:
    """The web account's own scope as role grants, plus the linked person's staff roles."""
    grants: list[Grant] = []
    if user.role == WebRole.DISTRICT_STAFF:
        grants.append(Grant(RoleName.DISTRICT_STAFF, None, None))
    for scope in user.scopes:
        if user.role == WebRole.COMMUNITY_STAFF and scope.community_id is not None:
            grants.append(Grant(RoleName.COMMUNITY_STAFF, None, scope.community_id))
        elif user.role == WebRole.SECRETARY and scope.compound_id is not None:
            grants.append(Grant(RoleName.SECRETARY, scope.compound_id, None))
    for role in person_roles:
        grants.append(Grant(role.name, role.compound_id, role.community_id))
    return grants


def build_principal(user: WebUser, org: OrgDirectory, person_roles: Iterable = (), *,
                    via: str = "session", csrf: str = "") -> Principal:
    grants = grants_of(user, person_roles)
    roles = Roles(grants, org.community_of)
    staff = [g for g in grants if g.name in STAFF_ROLES]
    if any(g.compound_id is None and g.community_id is None for g in staff):
        compound_ids: frozenset[int] | None = None
    else:
        compound_ids = frozenset(roles.compounds_with(STAFF_ROLES, org.compounds))
    communities = frozenset(g.community_id for g in staff if g.community_id is not None)
    return Principal(
        user_id=user.id, username=user.username, display_name=user.display_name, role=user.role,
        is_admin=bool(user.is_admin and user.role == WebRole.DISTRICT_STAFF), person_id=user.person_id,
        roles=roles, compound_ids=compound_ids, community_ids=communities, via=via, csrf=csrf,
    )
