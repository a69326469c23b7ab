"""Paired bootstrap of the difference between two systems' figures on the same examples.

Each resample draws the examples with replacement and scores both systems on that
same draw, so the interval is about the difference, not about either figure alone.
Pure Python, deterministic for a seed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from .corpus import Example

FIGURES = ("issue_f1", "category_macro_f1", "urgent_precision", "urgent_recall", "other_recall")

Row = tuple[bool, str, bool]  # (is_issue, category or "none", urgent)


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def figures(gold: Sequence[Row], pred: Sequence[Row], idx: Sequence[int]) -> dict[str, float]:
    """The same figures as metrics.score (macro-F1 over the gold categories present, a missed
    problem counted as a wrong category) over the examples ``idx`` (repeats allowed)."""
    tp = fp = fn = utp = ufp = ufn = 0
    ctp: dict[str, int] = {}
    cfp: dict[str, int] = {}
    cfn: dict[str, int] = {}
    for i in idx:
        gi, gc, gu = gold[i]
        pi, pc, pu = pred[i]
        if gi and pi:
            tp += 1
        elif pi:
            fp += 1
        elif gi:
            fn += 1
        if gu and pu:
            utp += 1
        elif pu:
            ufp += 1
        elif gu:
            ufn += 1
        if gi:
            if pc == gc:
                ctp[gc] = ctp.get(gc, 0) + 1
            else:
                cfn[gc] = cfn.get(gc, 0) + 1
                cfp[pc] = cfp.get(pc, 0) + 1
    cats = set(ctp) | set(cfn)
    macro = sum(_f1(ctp.get(c, 0), cfp.get(c, 0), cfn.get(c, 0)) for c in cats) / len(cats) if cats else 0.0
    other_n = ctp.get("other", 0) + cfn.get("other", 0)
    return {
        "issue_f1": _f1(tp, fp, fn),
        "category_macro_f1": macro,
        "urgent_precision": utp / (utp + ufp) if utp + ufp else 0.0,
        "urgent_recall": utp / (utp + ufn) if utp + ufn else 0.0,
        "other_recall": ctp.get("other", 0) / other_n if other_n else 0.0,
    }


@dataclass(frozen=True)
class Comparison:
    a: dict[str, float]
    b: dict[str, float]
    interval: dict[str, tuple[float, float]]  # 95 % interval of a - b
    resamples: int
    false_urgent: tuple[int, int] = (0, 0)  # urgent predictions on non-urgent examples, a and b


def rows(items) -> list[Row]:
    return [(bool(x.is_issue), x.category if x.is_issue else "none", bool(x.urgent)) for x in items]


def paired_bootstrap(
    examples: Sequence[Example], pred_a: Sequence[Row], pred_b: Sequence[Row], *, resamples: int = 1000, seed: int = 19
) -> Comparison:
    gold = rows(examples)
    n = len(gold)
    everything = range(n)
    a, b = figures(gold, pred_a, everything), figures(gold, pred_b, everything)
    rng = random.Random(seed)
    diffs: dict[str, list[float]] = {k: [] for k in FIGURES}
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in everything]
        fa, fb = figures(gold, pred_a, idx), figures(gold, pred_b, idx)
        for k in FIGURES:
            diffs[k].append(fa[k] - fb[k])
    interval = {}
    for k, values in diffs.items():
        values.sort()
        interval[k] = (values[int(0.025 * resamples)], values[min(resamples - 1, int(0.975 * resamples))])
    false_urgent = tuple(sum(1 for g, p in zip(gold, pred) if p[2] and not g[2]) for pred in (pred_a, pred_b))
    return Comparison(a, b, interval, resamples, false_urgent)
