"""The rating standard: a TOML file the district owns (the shipped one is a sample).

Validated with pydantic so a district's typo is a clear error at start, not a wrong rating."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SAMPLE_STANDARD = Path(__file__).resolve().parents[2] / "sample" / "rating_standard.toml"

# Metric names the computed items may use (bot.services.rating.metrics provides each).
BRANCH_METRICS = frozenset({
    "staff_linked", "party_shown", "posts_staffed", "discussion_days", "four_fixes", "agenda_resolved",
    "first_response_on_time", "resolved_on_time", "satisfaction", "wishes_fulfilled", "visits_done",
    "notice_acks", "overdue_closed", "audit_on_time", "hotline_change",
})
PROPERTY_METRICS = frozenset({"property_complaints", "property_overdue", "property_satisfaction"})
ENTRY_KINDS = ("positive", "negative")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(_Strict):
    key: str
    name: str
    kind: Literal["computed", "entered", "fixed"] = "computed"
    points: float = Field(gt=0)             # full points (for a bonus/penalty: its cap)
    metric: str | None = None
    better: Literal["higher", "lower"] = "higher"
    target: float = 1.0                     # the value that earns full points
    zero_at: float | None = None            # "lower" items: the value that earns none
    no_data: Literal["full", "zero"] = "full"  # nothing to measure (no tickets …)
    entry: Literal["positive", "negative"] | None = None
    per_entry: float | None = None
    bonus: bool = False                     # added on top of the aspect (positive list)
    advice: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        if self.kind == "computed":
            if not self.metric:
                raise ValueError(f"item {self.key}: a computed item needs a metric")
            if self.better == "lower" and (self.zero_at is None or self.zero_at <= self.target):
                raise ValueError(f"item {self.key}: a 'lower' item needs zero_at above target")
            if self.better == "higher" and self.target <= 0:
                raise ValueError(f"item {self.key}: target must be positive")
        if self.kind == "entered" and (self.entry is None or self.per_entry is None):
            raise ValueError(f"item {self.key}: an entered item needs entry and per_entry")
        return self

    def rule(self) -> str:
        """The rule in words, shown beside the item's value."""
        if self.kind == "fixed":
            return f"基础分 {self.points:g} 分"
        if self.kind == "entered":
            sign = "加" if (self.per_entry or 0) > 0 else "扣"
            cap = "加分" if self.bonus else "扣分"
            return f"每条{sign} {abs(self.per_entry or 0):g} 分，{cap}最多 {self.points:g} 分"
        if self.better == "lower":
            return (f"≤ {self.target:g} 得满分 {self.points:g}，≥ {self.zero_at:g} 不得分，其间按比例")
        return f"达到 {self.target:g} 得满分 {self.points:g}，不足按比例" + \
            ("；无数据不得分" if self.no_data == "zero" else "；无数据得满分")


class Aspect(_Strict):
    key: str
    name: str
    max: float = Field(gt=0)
    items: list[Item]

    @model_validator(mode="after")
    def _points_fit(self) -> Aspect:
        base = sum(i.points for i in self.items if not i.bonus and (i.kind != "entered" or (i.per_entry or 0) > 0))
        if base > self.max + 1e-9:
            raise ValueError(f"aspect {self.key}: items give {base:g} points, more than max {self.max:g}")
        for item in self.items:
            if item.metric and item.metric not in BRANCH_METRICS:
                raise ValueError(f"item {item.key}: unknown metric {item.metric!r}")
        return self


class Veto(_Strict):
    key: str
    name: str
    max_stars: int = Field(ge=0, le=5)


class FormItem(_Strict):
    key: str
    name: str
    points: float = Field(gt=0)


class PropertyPart(_Strict):
    form_weight: float = Field(ge=0, le=1)
    form: list[FormItem]
    objective: list[Item]

    @model_validator(mode="after")
    def _check(self) -> PropertyPart:
        if abs(sum(i.points for i in self.form) - 100) > 1e-6:
            raise ValueError("property.form points must add up to 100")
        if abs(sum(i.points for i in self.objective) - 100) > 1e-6:
            raise ValueError("property.objective points must add up to 100")
        for item in self.objective:
            if item.kind != "computed" or item.metric not in PROPERTY_METRICS:
                raise ValueError(f"property item {item.key}: needs one of {sorted(PROPERTY_METRICS)}")
        return self


class StarRow(_Strict):
    stars: int = Field(ge=0, le=5)
    total: float
    aspect_min: float = 0.0  # share of each aspect's max


class ClassRow(_Strict):
    name: str
    min_stars: int
    focus: str = ""


class ComplaintRule(_Strict):
    categories: list[str]
    assigned_to_property: bool = True

    def describe(self, labels: dict[str, str]) -> str:
        names = "、".join(labels.get(c, c) for c in self.categories)
        extra = "，以及派给物业的工单" if self.assigned_to_property else ""
        return f"类别为 {names} 的工单{extra}（不含已合并、不是问题的）"


class ListRules(_Strict):
    red_min_score: float
    red_max_complaints: int
    black_max_score: float
    black_min_complaints: int
    black_ranking_months: int = 2
    red_needs_form: bool = True  # the red list praises the branch's own review, not just quiet data
    notify_groups: bool = False


class Standard(_Strict):
    name: str
    version: str
    sample: bool = False
    period: Literal["month", "quarter", "half", "year"] = "quarter"
    property_weight: float = Field(ge=0, le=1)
    complaints: ComplaintRule
    aspects: list[Aspect]
    vetoes: list[Veto] = []
    property: PropertyPart
    stars: list[StarRow]
    classes: list[ClassRow]
    lists: ListRules

    @model_validator(mode="after")
    def _check(self) -> Standard:
        keys = [a.key for a in self.aspects]
        if len(set(keys)) != len(keys):
            raise ValueError("aspect keys must be unique")
        item_keys = [i.key for a in self.aspects for i in a.items]
        if len(set(item_keys)) != len(item_keys):
            raise ValueError("item keys must be unique")
        if [s.stars for s in self.stars] != sorted((s.stars for s in self.stars), reverse=True):
            raise ValueError("stars: list the rows from most stars to fewest")
        if not self.stars or self.stars[-1].total > 0:
            raise ValueError("stars: the last row must accept any total (total = 0)")
        if not self.classes or self.classes[-1].min_stars != 0:
            raise ValueError("classes: the last class must take min_stars = 0")
        return self

    @property
    def branch_max(self) -> float:
        return sum(a.max for a in self.aspects)

    def veto(self, key: str) -> Veto | None:
        return next((v for v in self.vetoes if v.key == key), None)


def parse(text: str) -> Standard:
    return Standard.model_validate(tomllib.loads(text))


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Standard:  # noqa: ARG001  (mtime: reread after an edit)
    return parse(Path(path).read_text(encoding="utf-8"))


def for_settings(settings) -> Standard:  # noqa: ANN001
    return load(getattr(settings, "rating_standard_file", None))


def load(path: str | Path | None = None) -> Standard:
    """The district's standard (``path``: settings.rating_standard_file), else the shipped sample."""
    chosen = Path(path or SAMPLE_STANDARD)
    return _load(str(chosen), chosen.stat().st_mtime)
