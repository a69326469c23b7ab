"""Chatter must not open tickets: greetings, 接龙, thanks, notices, jokes."""
import pytest

import nlp


@pytest.mark.parametrize("text", ["早上好", "各位邻居早安☀️", "大家晚安[月亮]", "新年快乐！", "收到", "好的谢谢"])
def test_greetings_and_replies_are_chatter(text):
    a = nlp.analyze(text)
    assert not a.is_issue and a.category == "none" and not a.urgent


def test_jielong_group_buy_is_chatter():
    text = "#接龙 明天团购草莓\n1. 3-2-501 两盒\n2. 7号楼 王 一盒\n3. 12-1-302 三盒"
    a = nlp.analyze(text)
    assert not a.is_issue
    assert any("团购" in r for r in a.reasons)


def test_thanks_for_a_fixed_problem_is_chatter():
    assert not nlp.analyze("电梯修好了，谢谢物业").is_issue


def test_planned_outage_notice_is_chatter():
    assert not nlp.analyze("【停水通知】因管道检修，本周六上午8点至12点停水，请提前储水").is_issue


def test_gas_safety_notice_is_not_urgent():
    a = nlp.analyze("燃气安全提示：如闻到燃气味，请立即关闭阀门、开窗通风，不要开关电器")
    assert not a.urgent


def test_joke_about_fire_is_not_urgent():
    a = nlp.analyze("火锅着火了哈哈")
    assert not a.urgent and not a.is_issue


def test_resolved_entrapment_is_not_urgent():
    assert not nlp.analyze("昨天电梯困人的事已经处理好了").urgent


def test_policy_letter_is_not_an_issue():
    letter = "尊敬的领导：您好！我想咨询一下，新生儿医保应该在哪里办理，需要哪些材料？盼复，谢谢！"
    assert not nlp.analyze(letter).is_issue
