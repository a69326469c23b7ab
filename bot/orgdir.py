"""An in-memory directory of the organisation (compounds are few; messages are many)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Community, Compound, Street


@dataclass(frozen=True, slots=True)
class CompoundInfo:
    id: int
    name: str
    community_id: int
    community: str
    street: str
    is_key: bool
    settings: dict


class OrgDirectory:
    """Compound names and their community, refreshed after imports and bindings."""

    def __init__(self) -> None:
        self.compounds: dict[int, CompoundInfo] = {}
        self.by_name: dict[str, CompoundInfo] = {}
        self.community_of: dict[int, int] = {}
        self.communities: dict[int, str] = {}

    async def refresh(self, session: AsyncSession) -> None:
        rows = (await session.execute(
            select(Compound, Community, Street)
            .join(Community, Compound.community_id == Community.id)
            .join(Street, Community.street_id == Street.id)
        )).all()
        self.compounds = {
            c.id: CompoundInfo(c.id, c.name, cm.id, cm.name, st.name, c.is_key, dict(c.settings or {}))
            for c, cm, st in rows
        }
        self.by_name = {info.name: info for info in self.compounds.values()}
        self.community_of = {cid: info.community_id for cid, info in self.compounds.items()}
        self.communities = {info.community_id: info.community for info in self.compounds.values()}

    def find(self, name: str) -> CompoundInfo | None:
        """By exact name, else by a unique partial match (residents abbreviate)."""
        name = name.strip()
        if name in self.by_name:
            return self.by_name[name]
        hits = [c for n, c in self.by_name.items() if name and (name in n or n in name)]
        return hits[0] if len(hits) == 1 else None

    def name_of(self, compound_id: int | None) -> str:
        info = self.compounds.get(compound_id) if compound_id else None
        return info.name if info else ""

    def setting(self, compound_id: int | None, key: str, default=None):  # noqa: ANN001
        info = self.compounds.get(compound_id) if compound_id else None
        return (info.settings if info else {}).get(key, default)
