"""支部助手 NLP: is a group-chat message a real problem, what kind, how urgent, where.

Pure and deterministic; the default analyzer loads its model and rules once, lazily.

    import nlp
    a = nlp.analyze("4号楼前路面积水好几天了没人管")
    a.is_issue, a.category, a.urgent, a.location.label()
"""
from __future__ import annotations

import threading

from .analyzer import Analyzer
from .duplicates import is_duplicate as _is_duplicate, similarity as _similarity
from .pii import mask_pii
from .rules import load_raw as _load_raw_rules
from .types import Analysis, Location, PiiSpan

__all__ = [
    "Analysis", "Analyzer", "CATEGORY_LABELS", "Location", "PiiSpan",
    "analyze", "default_analyzer", "is_duplicate", "mask_pii", "similarity",
]

CATEGORY_LABELS: dict[str, str] = {
    code: str(spec.get("label", code)) for code, spec in _load_raw_rules().get("categories", {}).items()
}
"""Category code -> Chinese label (from the default rules.toml)."""

_default: Analyzer | None = None
_lock = threading.Lock()


def default_analyzer() -> Analyzer:
    """The shared analyzer with the shipped model and rules (loaded on first use)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Analyzer.load()
    return _default


def analyze(text: str) -> Analysis:
    return default_analyzer().analyze(text)


def is_duplicate(a: Analysis, b: Analysis) -> bool:
    """Same problem (same category, compatible location, overlapping concepts)."""
    return _is_duplicate(a, b, threshold=default_analyzer().duplicate_threshold if _default else 0.34)


def similarity(a: Analysis, b: Analysis) -> float:
    return _similarity(a, b)
