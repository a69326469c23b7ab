"""Scoring analyses against labelled examples (used by evaluate, train --cv and retrain)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from .corpus import Example
from .buildings import numerals_to_digits
from .normalize import normalize
from .types import Analysis

TARGETS = {"issue_f1": 0.93, "category_macro_f1": 0.88, "urgent_recall": 0.97, "urgent_precision": 0.85}


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


@dataclass
class Metrics:
    n: int = 0
    issue_precision: float = 0.0
    issue_recall: float = 0.0
    issue_f1: float = 0.0
    category_macro_f1: float = 0.0
    category_accuracy: float = 0.0
    per_category: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    urgent_precision: float = 0.0
    urgent_recall: float = 0.0
    urgent_f1: float = 0.0
    urgent_support: int = 0
    location_accuracy: float | None = None
    location_support: int = 0
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, expected, got) without text

    def meets_targets(self) -> dict[str, bool]:
        return {name: getattr(self, name) >= value for name, value in TARGETS.items()}

    def summary(self) -> dict[str, float]:
        out = {
            "issue_precision": self.issue_precision,
            "issue_recall": self.issue_recall,
            "issue_f1": self.issue_f1,
            "category_macro_f1": self.category_macro_f1,
            "urgent_precision": self.urgent_precision,
            "urgent_recall": self.urgent_recall,
        }
        if self.location_accuracy is not None:
            out["location_accuracy"] = self.location_accuracy
        return {k: round(v, 4) for k, v in out.items()}


_GOLD_BUILDING = re.compile(r"(\d{1,3}|[a-z])(?:号楼|栋|座|#)")
_GOLD_UNIT = re.compile(r"(\d{1,2}|[东西南北中])单元")
_GOLD_ROOM = re.compile(r"单元(\d{3,4})|(\d{3,4})室")


def location_matches(gold: str, got: Analysis) -> bool:
    """Lenient: every part the label names (building, unit, room, or a place name) is found."""
    g = numerals_to_digits(normalize(gold))
    loc = got.location
    b = _GOLD_BUILDING.search(g)
    u = _GOLD_UNIT.search(g)
    r = _GOLD_ROOM.search(g)
    if b or u or r:
        if b and (loc.building or "").lower() != b.group(1):
            return False
        if u and loc.unit != u.group(1):
            return False
        if r and loc.room != (r.group(1) or r.group(2)):
            return False
        return True
    names = [*loc.landmarks, loc.zone or "", loc.compound or ""]
    return any(n and (n in g or g in n) for n in names)


def score(examples: Sequence[Example], analyses: Sequence[Analysis]) -> Metrics:
    m = Metrics(n=len(examples))
    tp = fp = fn = 0
    utp = ufp = ufn = 0
    loc_ok = loc_n = 0
    gold_cats = sorted({e.category for e in examples if e.is_issue})
    confusion: dict[str, dict[str, int]] = {}
    for ex, a in zip(examples, analyses):
        if ex.is_issue and a.is_issue:
            tp += 1
        elif a.is_issue:
            fp += 1
            m.errors.append(("is_issue", "none", a.category))
        elif ex.is_issue:
            fn += 1
            m.errors.append(("is_issue", ex.category, "none"))
        if ex.urgent and a.urgent:
            utp += 1
        elif a.urgent:
            ufp += 1
            m.errors.append(("urgent", "no", a.urgent_kind or ""))
        elif ex.urgent:
            ufn += 1
            m.errors.append(("urgent", "yes", "no"))
        if ex.is_issue:
            row = confusion.setdefault(ex.category, {})
            row[a.category] = row.get(a.category, 0) + 1
            if a.is_issue and a.category != ex.category:
                m.errors.append(("category", ex.category, a.category))
        if ex.location:
            loc_n += 1
            loc_ok += location_matches(ex.location, a)
    m.issue_precision, m.issue_recall, m.issue_f1 = _prf(tp, fp, fn)
    m.urgent_precision, m.urgent_recall, m.urgent_f1 = _prf(utp, ufp, ufn)
    m.urgent_support = utp + ufn
    # Category: over gold problems; a missed problem counts as a wrong category.
    f1s = []
    correct = total = 0
    for cat in gold_cats:
        ctp = confusion.get(cat, {}).get(cat, 0)
        cfn = sum(confusion.get(cat, {}).values()) - ctp
        cfp = sum(row.get(cat, 0) for g, row in confusion.items() if g != cat)
        p, r, f = _prf(ctp, cfp, cfn)
        m.per_category[cat] = (p, r, f, ctp + cfn)
        f1s.append(f)
        correct += ctp
        total += ctp + cfn
    m.category_macro_f1 = sum(f1s) / len(f1s) if f1s else 0.0
    m.category_accuracy = correct / total if total else 0.0
    m.confusion = confusion
    if loc_n:
        m.location_accuracy = loc_ok / loc_n
        m.location_support = loc_n
    return m


def render(m: Metrics, *, title: str = "评估结果 / evaluation") -> str:
    lines = [f"== {title} ({m.n} 条 messages) =="]
    lines.append(
        f"是否问题 is_issue:  precision {m.issue_precision:.3f}  recall {m.issue_recall:.3f}  F1 {m.issue_f1:.3f}"
        f"   (目标 target F1 >= {TARGETS['issue_f1']})"
    )
    lines.append(
        f"类别 category:      macro-F1 {m.category_macro_f1:.3f}  accuracy {m.category_accuracy:.3f}"
        f"   (目标 target macro-F1 >= {TARGETS['category_macro_f1']})"
    )
    lines.append(
        f"紧急 urgent:        precision {m.urgent_precision:.3f}  recall {m.urgent_recall:.3f}  (support {m.urgent_support})"
        f"   (目标 target recall >= {TARGETS['urgent_recall']}, precision >= {TARGETS['urgent_precision']})"
    )
    if m.location_accuracy is not None:
        lines.append(f"位置 location:      accuracy {m.location_accuracy:.3f}  (labelled {m.location_support})")
    if m.per_category:
        lines.append("")
        lines.append("per category        P      R      F1   support")
        for cat, (p, r, f, s) in m.per_category.items():
            lines.append(f"  {cat:<14} {p:6.3f} {r:6.3f} {f:6.3f} {s:6d}")
        cols = sorted({c for row in m.confusion.values() for c in row} | set(m.confusion))
        short = {c: c[:5] for c in cols}
        lines.append("")
        lines.append("confusion (rows = gold, columns = predicted):")
        lines.append(" " * 12 + "".join(f"{short[c]:>6}" for c in cols))
        for g in sorted(m.confusion):
            row = m.confusion[g]
            lines.append(f"  {g:<10}" + "".join(f"{row.get(c, 0):>6}" for c in cols))
    met = m.meets_targets()
    lines.append("")
    lines.append("targets: " + ", ".join(f"{k} {'OK' if v else 'MISS'}" for k, v in met.items()))
    return "\n".join(lines)
