"""Immutable result types returned by the analyzer."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where a message says the problem is (all parts optional).

    ``zone`` is a phase or area of the compound ("2期", "B区"); ``compound`` a
    compound name seen in the text ("兰山小区"), mostly in hotline letters.
    """

    building: str | None = None
    unit: str | None = None
    room: str | None = None
    landmarks: tuple[str, ...] = ()
    zone: str | None = None
    compound: str | None = None

    def label(self) -> str:
        """Human-readable location: "3号楼2单元501", "东门", "2期3号楼 东门" or ""."""
        head = (self.compound or "") + (self.zone or "")
        if self.building:
            head += f"{self.building}座" if self.building.isalpha() else f"{self.building}号楼"
        if self.unit:
            head += f"{self.unit}单元"
        if self.room:
            head += self.room
        marks = "、".join(self.landmarks)
        if head and marks:
            return f"{head} {marks}"
        return head or marks

    @property
    def is_empty(self) -> bool:
        return not (self.building or self.unit or self.room or self.landmarks or self.zone)


@dataclass(frozen=True)
class PiiSpan:
    """A piece of personal data in the original text: text[start:end]."""

    start: int
    end: int
    kind: str  # "mobile" | "id_card" | "landline"


@dataclass(frozen=True)
class Analysis:
    """Everything the bot needs to know about one message."""

    text: str
    is_issue: bool
    confidence: float
    category: str
    urgent: bool
    location: Location = field(default_factory=Location)
    reasons: tuple[str, ...] = ()
    fingerprint: frozenset[str] = frozenset()
    pii: tuple[PiiSpan, ...] = ()
    category_label: str = ""
    issue_probability: float = 0.0
    urgent_kind: str | None = None
    truncated: bool = False
    category_confidence: float = 0.0


@dataclass(frozen=True)
class UrgentResult:
    urgent: bool
    kind: str | None = None
    label: str | None = None
    category: str | None = None
    word: str | None = None
    hits: tuple[tuple[str, str], ...] = ()  # (kind, matched text) before context checks
    context: tuple[str, ...] = ()  # "resolved" / "not_real" / "present"

    def features(self) -> list[str]:
        if not self.hits:
            return []
        out = ["urg"]
        out.extend(dict.fromkeys(f"urg:{k}" for k, _ in self.hits))
        out.extend(f"urg_ctx:{c}" for c in self.context)
        if self.urgent:
            out.append("urg_rule")
        return out


NOT_URGENT = UrgentResult(False)
