"""Are two reports the same problem? Fingerprints of normalised concept terms.

A fingerprint holds the concepts of a message (synonyms folded: 积水 / 水没排 /
排水 -> "积水", see [concepts] in rules.toml) plus the category's keywords that
belong to no concept. Two issues are duplicates when they have the same
category, compatible locations and overlapping fingerprints. The caller
restricts comparisons to one compound and a time window.
"""
from __future__ import annotations

from .types import Analysis, Location

_STOP = frozenset(
    "我们 你们 他们 大家 这个 那个 什么 怎么 现在 今天 昨天 已经 还是 就是 一下 一直 没有 不是 可以 能不能 "
    "是不是 有没有 物业 小区 楼下 楼上 门口 谢谢 麻烦 一个 这样 那边 这边 好几 好几天 几天 天天".split()
)


def fingerprint(evidence, tokens: list[str], category: str | None = None) -> frozenset[str]:
    terms = list(evidence.concepts)
    concept_words = set(evidence.concept_words)
    cats = [category] if category else list(evidence.keywords)
    for cat in cats:
        for word in evidence.keywords.get(cat, []):
            if word not in concept_words and len(word) >= 2:
                terms.append(word)
    if not terms:
        terms = [t for t in tokens if len(t) >= 2 and t not in _STOP and not t.isdigit()][:6]
    return frozenset(terms)


def similarity(a: Analysis, b: Analysis) -> float:
    """Jaccard overlap of the two fingerprints (0..1)."""
    fa, fb = a.fingerprint, b.fingerprint
    if not fa or not fb:
        return 0.0
    return len(fa & fb) / len(fa | fb)


def locations_compatible(a: Location, b: Location) -> bool:
    """False when the two name different places; an unnamed place fits anything."""
    if a.zone and b.zone and a.zone != b.zone:
        return False
    if a.building and b.building:
        if a.building != b.building:
            return False
        return not (a.unit and b.unit and a.unit != b.unit)
    if a.building or b.building:
        # one names a building, the other only a landmark (东门, 车棚 …): different places
        other = b if a.building else a
        return not other.landmarks
    if a.landmarks and b.landmarks:
        return bool(set(a.landmarks) & set(b.landmarks))
    return True


def is_duplicate(a: Analysis, b: Analysis, *, threshold: float = 0.34) -> bool:
    if not (a.is_issue and b.is_issue) or a.category != b.category:
        return False
    if not locations_compatible(a.location, b.location):
        return False
    shared = a.fingerprint & b.fingerprint
    if not shared:
        return False
    return len(shared) >= 2 or similarity(a, b) >= threshold
