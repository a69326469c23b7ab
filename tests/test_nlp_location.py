"""Building / unit / room / landmark forms are normalised."""
import pytest

import nlp


@pytest.mark.parametrize(
    "text, label",
    [
        ("3号楼2单元501漏水", "3号楼2单元501"),
        ("3#楼下有人乱停车", "3号楼"),
        ("三号楼电梯坏了", "3号楼"),
        ("3栋门口积水", "3号楼"),
        ("12-2-301家里停电", "12号楼2单元301"),
        ("5号楼东单元的门禁坏了", "5号楼东单元"),
        ("十二号楼二单元楼道灯不亮", "12号楼2单元"),
        ("３号楼电梯又停了", "3号楼"),
        ("二期3号楼电梯坏了", "2期3号楼"),
        ("有人在撬11号楼2单元502户门", "11号楼2单元502"),
        ("9栋12层有一户冒烟", "9号楼"),
        ("8号楼 十二层 有人坐在窗台外面", "8号楼"),
    ],
)
def test_location_forms_are_normalised(text, label):
    assert nlp.analyze(text).location.label() == label


def test_landmarks_are_found():
    loc = nlp.analyze("东门口积水，地库也进水了").location
    assert loc.landmarks == ("东门", "地下车库") or set(loc.landmarks) == {"东门", "地下车库"}
    assert loc.building is None


def test_dates_and_floors_are_not_buildings():
    assert nlp.analyze("3号停水，3楼的水管漏水").location.building is None


def test_no_place_gives_empty_label():
    assert nlp.analyze("路灯坏了").location.label() == ""
