"""Phone and ID numbers are masked however they are written: separators, full-width digits
and invisible format characters between the digits do not hide a number from the mask."""
from __future__ import annotations

import pytest

from bot.privacy import mask_pii

_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def digits_and_stars(text: str) -> str:
    """What a reader can make of a number: its digits and the mask, nothing in between."""
    return "".join(ch for ch in text.translate(_FULL_WIDTH) if ch in "0123456789*X")


@pytest.mark.parametrize("written", [
    "138\u00ad1234\u00ad5678",      # soft hyphens (invisible in WeChat)
    "1381234\u200b5678",            # zero-width space
    "138\u20601234\u20605678",      # word joiner
    "\u202d13812345678\u202c",      # direction marks around the number
    "138.1234.5678",
    "138  1234  5678",
    "138\u30001234\u30005678",      # ideographic spaces
    "138－1234－5678",              # full-width hyphens
    "１３８．１２３４．５６７８",     # full-width digits and dots
    "1381 234 5678",                # another grouping
    "+86 138-1234-5678",
])
def test_mobile_numbers_are_masked_however_they_are_separated(written):
    assert digits_and_stars(mask_pii(f"有事打我电话{written}，谢谢")).endswith("138****5678")


@pytest.mark.parametrize("written", [
    "370102\u00ad19900101\u00ad1234",
    "3701 0219 9001 0112 34",
    "370102.19900101.123X",
    "３７０１０２１９９００１０１１２３４",
])
def test_id_numbers_are_masked_however_they_are_separated(written):
    assert digits_and_stars(mask_pii(f"身份证{written}")) in ("3701**********1234", "3701**********123X")


def test_a_masked_number_keeps_its_separators_and_what_surrounds_it():
    assert mask_pii("电话138.1234.5678找王师傅") == "电话138.****.5678找王师傅"


def test_dates_times_amounts_and_room_numbers_are_left_alone():
    text = "2024.05.01 12:30 在3号楼2单元1502交了 12345.67 元，单号 202412041234567890"
    assert mask_pii(text) == text
