"""Traditional -> simplified by OpenCC in nlp.normalize (the shipped single-character table is gone)."""
import pytest

import nlp
from nlp.normalize import normalize


@pytest.mark.parametrize(
    "traditional, simplified",
    [
        ("樓道積水好幾天了", "楼道积水好几天了"),
        ("電梯壞了沒人管", "电梯坏了没人管"),
        ("為什麼沒人處理", "为什么没人处理"),
        ("乾淨", "干净"),
    ],
)
def test_traditional_phrases_become_simplified(traditional, simplified):
    assert normalize(traditional) == simplified


@pytest.mark.parametrize(
    "traditional, simplified",
    [
        # The old table read these characters as other ones.
        ("峽谷", "峡谷"),  # 峽 -> 崃
        ("過濾網堵了", "过滤网堵了"),  # 濾 -> 泸
        ("想諮詢一下", "想咨询一下"),  # 諮 -> 谘
        ("錫紙", "锡纸"),  # 錫 -> 钖
        ("鹼性", "碱性"),  # 鹼 -> 硷
        ("起鬨", "起哄"),  # 鬨 -> 闹
        ("小徑逕直走", "小径径直走"),  # 逕 -> 迳
    ],
)
def test_characters_the_old_table_got_wrong_are_converted_correctly(traditional, simplified):
    assert normalize(traditional) == simplified


def test_words_are_converted_in_context():
    assert normalize("乾隆年間的牌坊") == "乾隆年间的牌坊"
    assert normalize("總找藉口") == "总找借口"
    assert normalize("狼藉一片") == "狼藉一片"
    assert normalize("著名的小區") == "著名的小区"


def test_taiwan_style_zhe_is_read_as_simplified_zhe():
    assert normalize("樓道著火了，快來人") == "楼道着火了,快来人"


def test_a_fire_written_in_taiwan_style_is_urgent():
    a = nlp.analyze("樓道著火了，快來人")
    assert a.urgent and a.urgent_kind == "fire"


def test_simplified_text_is_left_as_it_is():
    # OpenCC alone would read 坏 in 打坏 as the traditional variant of 坯, and 著 as 着.
    text = "门被打坏了 效果显著 什么时候修 有拼车的么"
    assert normalize(text) == text


def test_cantonese_mou_is_read_as_mei():
    assert normalize("冇人管") == "没人管"
