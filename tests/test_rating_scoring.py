"""Scoring by the standard file: the 30% property weighting, star thresholds with per-aspect
minimums, classes, bonus caps, vetoes; and the file's validation."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.services.rating import standard as S
from bot.services.rating.metrics import Measure
from bot.services.rating.scoring import EntryView, item_points, score_compound, score_property

# Two aspects of 100 points; each has one computed item (a share, full at 1.0).
SMALL = """
name = "测试标准"
version = "t1"
property_weight = 0.3
[complaints]
categories = ["property"]
[[aspects]]
key = "a"
name = "甲"
max = 100
  [[aspects.items]]
  key = "a1"
  name = "甲一"
  metric = "satisfaction"
  points = 100
[[aspects]]
key = "b"
name = "乙"
max = 100
  [[aspects.items]]
  key = "b1"
  name = "乙一"
  metric = "wishes_fulfilled"
  points = 80
  [[aspects.items]]
  key = "good"
  name = "表彰"
  kind = "entered"
  entry = "positive"
  per_entry = 15
  points = 20
  bonus = true
[[vetoes]]
key = "accident"
name = "安全事故"
max_stars = 1
[property]
form_weight = 0.5
  [[property.form]]
  key = "f"
  name = "综合"
  points = 100
  [[property.objective]]
  key = "c"
  name = "投诉"
  metric = "property_complaints"
  better = "lower"
  points = 100
  target = 0
  zero_at = 10
[[stars]]
stars = 5
total = 90
aspect_min = 0.8
[[stars]]
stars = 4
total = 80
[[stars]]
stars = 3
total = 70
[[stars]]
stars = 1
total = 0
[[classes]]
name = "一类"
min_stars = 4
[[classes]]
name = "二类"
min_stars = 3
[[classes]]
name = "三类"
min_stars = 0
[lists]
red_min_score = 85
red_max_complaints = 2
black_max_score = 60
black_min_complaints = 10
"""


def std(text: str = SMALL) -> S.Standard:
    return S.parse(text)


def measures(a: float, b: float) -> dict[str, Measure]:
    return {"satisfaction": Measure(a, ""), "wishes_fulfilled": Measure(b, "")}


def test_the_property_score_counts_thirty_percent_of_the_total():
    s = std()
    prop = score_property(s, {"property_complaints": Measure(5, "5 件")}, {"form_score": 40.0})
    assert prop["score"] == pytest.approx(0.5 * 40 + 0.5 * 50)            # form 40, objective 50 → 45
    result = score_compound(s, measures(1.0, 1.0), [], prop)
    assert result.branch_score == pytest.approx(90.0)                     # 100 + 80 of 200
    assert result.total == pytest.approx(0.7 * 90 + 0.3 * 45)


def test_without_a_property_project_the_branch_score_is_the_total():
    result = score_compound(std(), measures(1.0, 1.0), [], None)
    assert result.total == result.branch_score and result.property_score is None


def test_a_form_not_filled_leaves_the_objective_data_alone_and_says_so():
    prop = score_property(std(), {"property_complaints": Measure(0, "0 件")}, None)
    assert prop["score"] == 100 and "未评议" in prop["rule"]


def test_stars_follow_the_total_thresholds():
    s = std()
    # total = branch only; branch = (a*100 + b*80 + bonus) / 200 * 100
    assert score_compound(s, measures(1.0, 0.75), [], None).stars == 4     # (100+60)/2 = 80
    assert score_compound(s, measures(1.0, 0.7), [], None).stars == 3      # (100+56)/2 = 78
    assert score_compound(s, measures(0.5, 0.5), [], None).stars == 1      # (50+40)/2 = 45


def test_five_stars_need_every_aspect_at_its_minimum_as_well_as_the_total():
    s = std()
    good = [EntryView(1, "positive", None, "表彰"), EntryView(2, "positive", None, "表彰")]
    high = score_compound(s, measures(1.0, 1.0), good, None)                # 100 + 100 → 100
    assert high.stars == 5
    lopsided = score_compound(s, {"satisfaction": Measure(1.0, ""), "wishes_fulfilled": Measure(0.95, "")},
                              [], None)                                      # 100 + 76: total 88
    assert lopsided.total < 90 and lopsided.stars == 4
    s2 = S.parse(SMALL.replace("total = 90\naspect_min = 0.8", "total = 85\naspect_min = 0.8"))
    # total 88 passes 85, but aspect 乙 has 76 < 80: not five stars
    assert score_compound(s2, {"satisfaction": Measure(1.0, ""), "wishes_fulfilled": Measure(0.95, "")},
                          [], None).stars == 4


def test_classes_follow_the_stars_at_their_boundaries():
    s = std()
    assert score_compound(s, measures(1.0, 0.75), [], None).klass == "一类"    # 4 stars
    assert score_compound(s, measures(1.0, 0.7), [], None).klass == "二类"     # 3 stars
    assert score_compound(s, measures(0.5, 0.5), [], None).klass == "三类"     # 1 star


def test_a_bonus_item_is_capped_at_its_points():
    s = std()
    three = [EntryView(i, "positive", None, "表彰") for i in range(3)]       # 45 raw, cap 20
    result = score_compound(s, measures(1.0, 0.0), three, None)
    bonus = next(i for i in result.items if i["key"] == "good")
    assert bonus["points"] == 20 and bonus["data"] == {"entries": [0, 1, 2]}


def test_a_veto_caps_the_stars_whatever_the_score():
    s = std()
    entries = [EntryView(7, "veto", "accident", "电梯事故"), EntryView(1, "positive", None, "表彰"),
               EntryView(2, "positive", None, "表彰")]
    result = score_compound(s, measures(1.0, 1.0), entries, None)
    assert result.total == 100 and result.stars == 1 and result.klass == "三类"
    assert result.vetoes[0]["entry"] == 7


def test_a_lower_is_better_item_scores_linearly_between_target_and_zero_at():
    item = S.Item(key="x", name="x", metric="hotline_change", better="lower", points=30, target=-0.1, zero_at=0.2)
    assert item_points(item, -0.5) == 30 and item_points(item, 0.05) == 15 and item_points(item, 0.4) == 0


def test_an_item_with_nothing_to_measure_gets_what_the_standard_says():
    full = S.Item(key="x", name="x", metric="satisfaction", points=20)
    zero = S.Item(key="y", name="y", metric="four_fixes", points=20, no_data="zero")
    assert item_points(full, None) == 20 and item_points(zero, None) == 0


def test_every_item_shows_its_value_rule_and_data():
    result = score_compound(std(), {"satisfaction": Measure(0.5, "1/2", {"tickets": [4, 9]})}, [], None)
    item = next(i for i in result.items if i["key"] == "a1")
    assert (item["shown"], item["points"], item["data"]) == ("1/2", 50.0, {"tickets": [4, 9]})
    assert "达到 1 得满分 100" in item["rule"]


def test_the_shipped_sample_standard_is_valid_and_marked_as_a_sample():
    s = S.load(S.SAMPLE_STANDARD)
    assert s.sample and s.property_weight == 0.3 and len(s.aspects) == 5


@pytest.mark.parametrize("broken, message", [
    (SMALL.replace('metric = "satisfaction"', 'metric = "nonsense"'), "unknown metric"),
    (SMALL.replace("points = 80", "points = 120"), "more than max"),
    (SMALL.replace("[[stars]]\nstars = 1\ntotal = 0\n", ""), "last row"),
    (SMALL.replace('  key = "f"\n  name = "综合"\n  points = 100', '  key = "f"\n  name = "综合"\n  points = 90'),
     "add up to 100"),
    (SMALL + "\nsurprise = 1\n", "Extra inputs"),
])
def test_a_broken_standard_file_is_refused_with_the_reason(broken, message):
    with pytest.raises(ValidationError, match=message):
        S.parse(broken)


def test_a_compound_with_no_12345_orders_at_all_gets_the_full_hotline_points():
    from bot.services.rating.metrics import empty_measure

    item = next(i for a in S.load(S.SAMPLE_STANDARD).aspects for i in a.items if i.metric == "hotline_change")
    assert item_points(item, empty_measure("hotline_change").value) == item.points
