"""From measures and entries to points, aspects, the property score, stars and class.

Pure functions: the same inputs always give the same result, and every number carries the
rule and the data it came from."""
from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.rating.metrics import Measure, empty_measure
from bot.services.rating.standard import Item, Standard


@dataclass
class EntryView:
    """What scoring needs of an entered item (a RatingEntry row)."""

    id: int
    kind: str           # positive / negative / veto
    item_key: str | None
    title: str


@dataclass
class Result:
    branch_score: float
    property_score: float | None
    total: float
    stars: int
    klass: str
    vetoes: list[dict]
    aspects: list[dict]
    items: list[dict]
    property_detail: dict = field(default_factory=dict)


def item_points(item: Item, value: float | None) -> float:
    """Points a computed item earns for ``value`` (linear up to the target)."""
    if value is None:
        return item.points if item.no_data == "full" else 0.0
    if item.better == "lower":
        assert item.zero_at is not None
        share = (item.zero_at - value) / (item.zero_at - item.target)
    else:
        share = value / item.target
    return round(item.points * max(0.0, min(1.0, share)), 2)


def _computed(item: Item, measure: Measure) -> dict:
    points = item_points(item, measure.value)
    advice = None
    if points < item.points and item.advice:
        try:
            advice = item.advice.format(value=measure.value if measure.value is not None else 0)
        except (ValueError, KeyError, IndexError):
            advice = item.advice
    return {"key": item.key, "name": item.name, "kind": "computed", "metric": item.metric,
            "value": measure.value, "shown": measure.shown, "points": points, "max": item.points,
            "rule": item.rule(), "data": measure.data, "advice": advice}


def _entered(item: Item, entries: list[EntryView]) -> dict:
    mine = [e for e in entries if e.kind == item.entry]
    raw = (item.per_entry or 0) * len(mine)
    points = max(-item.points, min(item.points, raw)) + 0.0  # no "-0"
    advice = f"负面清单 {len(mine)} 条 → 0 条" if item.entry == "negative" and mine else None
    return {"key": item.key, "name": item.name, "kind": "entered", "value": float(len(mine)),
            "shown": f"{len(mine)} 条", "points": round(points, 2), "max": item.points, "bonus": item.bonus,
            "rule": item.rule(), "data": {"entries": [e.id for e in mine]},
            "titles": [e.title for e in mine], "advice": advice}


def score_property(standard: Standard, measures: dict[str, Measure], form: dict | None) -> dict:
    """The property score (0–100): the branch's form and the objective data, by form_weight.
    Without a form this period the objective part alone counts (and the page says so)."""
    part = standard.property
    objective = [_computed(i, measures.get(i.metric or "") or empty_measure(i.metric or "")) for i in part.objective]
    objective_score = sum(i["points"] for i in objective)
    form_score = form["form_score"] if form else None
    if form_score is None:
        score = objective_score
    else:
        score = part.form_weight * form_score + (1 - part.form_weight) * objective_score
    return {"score": round(score, 2), "form_score": form_score, "objective_score": round(objective_score, 2),
            "form_weight": part.form_weight, "objective": objective, "form": form,
            "rule": (f"评议表 × {part.form_weight:.0%} + 客观数据 × {1 - part.form_weight:.0%}"
                     + ("" if form else "（本期未评议：仅计客观数据）"))}


def stars_for(standard: Standard, total: float, aspects: list[dict]) -> int:
    for row in standard.stars:
        if total + 1e-9 >= row.total and all(a["score"] + 1e-9 >= row.aspect_min * a["max"] for a in aspects):
            return row.stars
    return standard.stars[-1].stars


def class_for(standard: Standard, stars: int) -> str:
    for row in standard.classes:
        if stars >= row.min_stars:
            return row.name
    return standard.classes[-1].name


def score_compound(standard: Standard, measures: dict[str, Measure], entries: list[EntryView],
                   property_part: dict | None) -> Result:
    """One compound's result. ``measures``: metric → Measure for this compound."""
    aspects, items = [], []
    for aspect in standard.aspects:
        got = []
        for item in aspect.items:
            if item.kind == "fixed":
                row = {"key": item.key, "name": item.name, "kind": "fixed", "value": None, "shown": "",
                       "points": item.points, "max": item.points, "rule": item.rule(), "data": {}, "advice": None}
            elif item.kind == "entered":
                row = _entered(item, entries)
            else:
                metric = item.metric or ""
                row = _computed(item, measures.get(metric) or empty_measure(metric))
            row["aspect"] = aspect.key
            got.append(row)
        score = max(0.0, min(aspect.max, sum(r["points"] for r in got)))
        aspects.append({"key": aspect.key, "name": aspect.name, "score": round(score, 2), "max": aspect.max})
        items.extend(got)
    branch = sum(a["score"] for a in aspects) / standard.branch_max * 100
    if property_part is not None:
        w = standard.property_weight
        total = (1 - w) * branch + w * property_part["score"]
    else:
        total = branch
    stars = stars_for(standard, total, aspects)
    vetoes = []
    for entry in entries:
        veto = standard.veto(entry.item_key or "") if entry.kind == "veto" else None
        if veto is not None:
            vetoes.append({"key": veto.key, "name": veto.name, "max_stars": veto.max_stars, "entry": entry.id,
                           "title": entry.title})
            stars = min(stars, veto.max_stars)
    return Result(branch_score=round(branch, 2),
                  property_score=property_part["score"] if property_part is not None else None,
                  total=round(total, 2), stars=stars, klass=class_for(standard, stars), vetoes=vetoes,
                  aspects=aspects, items=items, property_detail=property_part or {})
