"""A chat wish split into its public and private parts (bot/services/wish_text.py), and the
public line that names its building."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.models.wishes import Wish
from bot.services.wish_queries import public_line
from bot.services.wish_text import parse_wish

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize("where, building", [
    ("住3号楼2单元501", "3"), ("住3#楼2单元501", "3"), ("住三号楼二单元501", "3"), ("住B座1201", "B"),
])
def test_the_building_of_a_wish_is_read_in_every_form(where, building):
    parsed = parse_wish(f"家里轮椅坏了想找人修，{where}，电话13800138000", NOW)
    assert parsed.draft.building == building
    assert parsed.had_private and "1380" not in parsed.draft.summary


def test_the_address_stays_out_of_the_public_summary():
    parsed = parse_wish("想找人帮忙修轮椅，住3#楼2单元501", NOW)
    assert "501" not in parsed.draft.summary and parsed.draft.address == "3#楼2单元501"


@pytest.mark.parametrize("building, label", [("3", "W12 修轮椅（3号楼）"), ("B", "W12 修轮椅（B座）")])
def test_the_public_line_names_a_lettered_building_as_zuo(building, label):
    wish = Wish(id=12, summary="修轮椅", building=building, max_claimers=1, claimer_count=0)
    assert public_line(wish, None) == label
