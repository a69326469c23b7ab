"""Who may do what where: a person's roles, resolved against the organisation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from bot.models import Role, RoleName
from bot.texts.core import ROLE_LABELS

# Roles that act for every compound in their scope (community or district) rather than one.
AREA_ROLES = {RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF}
# Roles that may review and handle tickets for a compound (支部先议 and its delegates).
HANDLING_ROLES = frozenset({
    RoleName.SECRETARY, RoleName.GRID_WORKER, RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF,
})
STAFF_ROLES = frozenset({RoleName.SECRETARY, RoleName.COMMUNITY_STAFF, RoleName.DISTRICT_STAFF})


@dataclass(frozen=True, slots=True)
class Grant:
    name: str
    compound_id: int | None
    community_id: int | None

    def covers(self, compound_id: int | None, community_of: dict[int, int]) -> bool:
        if self.compound_id is None and self.community_id is None:
            return True  # district-wide
        if compound_id is None:
            return False
        if self.compound_id is not None:
            return self.compound_id == compound_id
        return community_of.get(compound_id) == self.community_id


class Roles:
    """A person's grants. Area roles (community/district staff) imply staff rights below them."""

    def __init__(self, grants: Iterable[Grant], community_of: dict[int, int]) -> None:
        self.grants = tuple(grants)
        self._community_of = community_of

    @classmethod
    def from_rows(cls, rows: Iterable[Role], community_of: dict[int, int]) -> Roles:
        return cls((Grant(r.name, r.compound_id, r.community_id) for r in rows), community_of)

    def names(self) -> set[str]:
        return {g.name for g in self.grants}

    def has(self, name: str, compound_id: int | None = None) -> bool:
        """Holds ``name`` for ``compound_id`` (any compound when None)."""
        for grant in self.grants:
            if grant.name != name:
                continue
            if compound_id is None or grant.covers(compound_id, self._community_of):
                return True
        return False

    def has_any(self, names: Iterable[str], compound_id: int | None = None) -> bool:
        return any(self.has(n, compound_id) for n in names)

    def compounds_with(self, names: Iterable[str], all_compounds: Iterable[int]) -> list[int]:
        """Every compound id where one of ``names`` applies (area roles expand to their area)."""
        wanted = set(names)
        return [c for c in all_compounds
                if any(g.name in wanted and g.covers(c, self._community_of) for g in self.grants)]

    def is_staff_for(self, compound_id: int | None) -> bool:
        return self.has_any(STAFF_ROLES, compound_id)


def role_label(name: str) -> str:
    return ROLE_LABELS.get(name, name)
