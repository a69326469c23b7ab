"""Real problems: is_issue, category, urgency."""
import pytest

import nlp


def test_standing_water_is_a_roads_issue():
    a = nlp.analyze("4号楼前路面积水好几天了没人管")
    assert a.is_issue and a.category == "roads" and not a.urgent
    assert a.category_label == nlp.CATEGORY_LABELS["roads"] == "道路/路灯/井盖/排水"
    assert any(r.startswith("关键词:") and "积水" in r for r in a.reasons)


@pytest.mark.parametrize(
    "text, category",
    [
        ("三号楼楼道灯坏了快一个月了，报修三次没人管", "property"),
        ("垃圾桶满了两天没人收，臭得不行", "sanitation"),
        ("谁的车堵在5号楼门口了，快来挪车", "parking"),
        ("停水一整天了也没个通知", "utilities"),
        ("电梯又坏了，18楼的老人只能爬楼", "elevator"),
        ("楼上天天半夜拖椅子，吵得睡不着", "noise"),
        ("楼道里有人飞线充电，太危险了", "safety"),
        ("遛狗不拴绳，狗屎到处都是", "pets"),
        ("楼前的大树太高了，挡得一楼一点阳光都没有", "greening"),
    ],
)
def test_common_complaints_get_their_category(text, category):
    a = nlp.analyze(text)
    assert a.is_issue and a.category == category


def test_gas_smell_is_urgent_safety():
    a = nlp.analyze("3号楼2单元楼道里好大一股煤气味")
    assert a.is_issue and a.urgent and a.category == "safety"
    assert any(r.startswith("紧急:") and "煤气" in r for r in a.reasons)


def test_lift_entrapment_is_urgent_elevator():
    a = nlp.analyze("7号楼电梯困人了，里面有个老人，快来人")
    assert a.urgent and a.category == "elevator"


def test_burst_pipe_is_urgent_utilities():
    a = nlp.analyze("楼上水管爆了，水从天花板往下灌，家里全淹了")
    assert a.urgent and a.category == "utilities"


def test_collapsed_person_is_urgent_assistance():
    a = nlp.analyze("6号楼门口有个大爷晕倒了，叫不醒，快打120")
    assert a.urgent and a.category == "assistance"


def test_missing_child_is_urgent_safety():
    a = nlp.analyze("我家孩子在广场玩，一转眼就不见了，五岁，穿红衣服，大家帮忙找找")
    assert a.urgent and a.category == "safety"


def test_hazard_that_hurt_no_one_is_not_urgent():
    a = nlp.analyze("楼道里的电线老化了，外皮都裂了，得找人换换")
    assert a.is_issue and not a.urgent


def test_letter_with_a_local_problem_is_an_issue():
    letter = (
        "尊敬的领导：您好！我是某小区12号楼的住户。自今年入冬以来，我家暖气温度一直达不到标准，"
        "室内温度仅有13度，家中老人孩子冻得生病。多次拨打热力公司电话无人上门，恳请督促解决。"
    )
    a = nlp.analyze(letter)
    assert a.is_issue and a.category == "utilities"


def test_confidence_is_a_probability():
    for text in ("早上好", "电梯坏了"):
        assert 0.0 <= nlp.analyze(text).confidence <= 1.0
