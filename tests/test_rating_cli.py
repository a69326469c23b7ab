"""``zhibu rating check`` tells a district what is wrong with its standard file."""
from __future__ import annotations

from bot.cli import main
from bot.services.rating.standard import SAMPLE_STANDARD


def test_rating_check_names_the_broken_item_of_a_standard_file(tmp_path, capsys):
    broken = tmp_path / "standard.toml"
    broken.write_text(SAMPLE_STANDARD.read_text(encoding="utf-8").replace(
        'metric = "discussion_days"', 'metric = "meetings_held"'), encoding="utf-8")
    assert main(["rating", "check", str(broken)]) == 1
    assert "unknown metric 'meetings_held'" in capsys.readouterr().out


def test_rating_check_accepts_the_sample_and_says_it_is_one(capsys):
    assert main(["rating", "check", str(SAMPLE_STANDARD)]) == 0
    assert "这是示例标准" in capsys.readouterr().out
