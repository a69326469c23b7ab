"""The one building / unit / room grammar (nlp/buildings.py), table-driven."""
import pytest

from nlp.buildings import Home, building_label, building_of, cn_to_int, find_home, numerals_to_digits, unit_of


@pytest.mark.parametrize("token, building", [
    ("3号楼", "3"), ("3栋", "3"), ("3幢", "3"), ("3座", "3"), ("3#", "3"), ("3#楼", "3"), ("3号", "3"),
    ("三号楼", "3"), ("十二栋", "12"), ("二十三幢", "23"), ("两栋", "2"), ("B座", "B"), ("b座", "B"),
    ("３＃楼", "3"), (" 3号楼 ", "3"), ("3号院楼", "3"),
    ("3楼", None), ("3单元", None), ("3号楼2单元", None), ("楼", None), ("", None), ("abc", None),
])
def test_building_of_a_token(token, building):
    assert building_of(token) == building


@pytest.mark.parametrize("token, unit", [
    ("2单元", "2"), ("二单元", "2"), ("东单元", "东"), ("１单元", "1"), ("2门", None), ("3号楼", None),
])
def test_unit_of_a_token(token, unit):
    assert unit_of(token) == unit


@pytest.mark.parametrize("text, home, rest", [
    ("3号楼2单元501 张三", Home("3", "2", "501", "3号楼2单元501"), "张三"),
    ("3#楼 王五", Home("3", None, None, "3#楼"), "王五"),
    ("三号楼二单元501室 李四", Home("3", "2", "501", "3号楼2单元501室"), "李四"),
    ("十二栋 赵六", Home("12", None, None, "12栋"), "赵六"),
    ("B座1201", Home("B", None, "1201", "B座1201"), ""),
    ("3-2-501 钱七", Home("3", "2", "501", "3-2-501"), "钱七"),
    ("3号2单元", Home("3", "2", None, "3号2单元"), ""),
    ("5号楼东单元", Home("5", "东", None, "5号楼东单元"), ""),
    ("3号楼2门501", Home("3", "2", "501", "3号楼2门501"), ""),
    ("住在 7幢 302号", Home("7", None, "302", "7幢 302号"), "住在"),
])
def test_find_home_in_text(text, home, rest):
    assert find_home(text) == (home, rest)


@pytest.mark.parametrize("text", ["住3楼", "十二号下午", "2单元", "3号停水", "价格50元"])
def test_floors_dates_and_bare_units_are_no_home(text):
    assert find_home(text)[0] is None


@pytest.mark.parametrize("text, room", [
    ("3号楼 13800138000", None), ("3号楼50元", None), ("3号楼120平", None), ("3号楼 501", "501"),
    ("9栋12层", None), ("8号楼 十二层", None), ("3号楼2单元17楼", None), ("7号楼2单元501 楼上", "501"),
])
def test_a_number_after_a_building_is_a_room_only_when_it_looks_like_one(text, room):
    home, _ = find_home(text)
    assert home is not None and home.room == room


@pytest.mark.parametrize("text, value", [
    ("三", 3), ("十", 10), ("十二", 12), ("二十三", 23), ("一百零五", 105), ("两", 2), ("五零一", 501),
    ("12", 12), ("一百", 100), ("", None), ("abc", None), ("楼", None), ("三号", None),
])
def test_cn_to_int(text, value):
    assert cn_to_int(text) == value


def test_numerals_become_digits_only_before_markers():
    assert numerals_to_digits("三号楼二单元五零一室，十二点见") == "3号楼2单元501室，十二点见"


def test_building_label_names_letters_as_zuo():
    assert (building_label("3"), building_label("B")) == ("3号楼", "B座")
