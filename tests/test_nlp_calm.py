"""Urgent precision (issue #19): chronic complaints stay calm, emergencies told plainly stay urgent.

A recurring condition, a long-standing problem, a complaint about response times and
rhetorical exaggeration are problems, not emergencies; a leaking roof is a repair for the
property company, not a quarrel between neighbours.
"""
import nlp


def test_rhetorical_exaggeration_about_a_broken_lift_is_not_urgent():
    a = nlp.analyze("电梯坏了一个月，老人都快被困死在家里了")
    assert a.is_issue and a.category == "elevator"
    assert not a.urgent
    assert any("长期/反复/夸张" in r for r in a.reasons)


def test_a_recurring_flooded_garage_is_a_problem_but_not_urgent():
    a = nlp.analyze("一下雨地下车库就淹，年年这样，物业就会拿沙袋堵")
    assert a.is_issue and not a.urgent


def test_a_complaint_about_how_long_help_takes_is_not_urgent():
    a = nlp.analyze("每次电梯困人都要等一个小时才来人，物业反映了好几次了")
    assert a.is_issue and not a.urgent


def test_an_emergency_told_plainly_among_chronic_words_is_still_urgent():
    a = nlp.analyze("电梯天天坏，今天又把人困里面了，快来人")
    assert a.urgent and a.category == "elevator"


def test_a_leaking_roof_with_a_wet_ceiling_is_a_property_repair():
    a = nlp.analyze("5号楼楼顶漏水，家里天花板都湿了")
    assert a.is_issue and not a.urgent
    assert a.category == "property"
