"""District rules file: new categories, urgent words, chatter patterns, dictionary words."""
from pathlib import Path

import pytest

import nlp
from nlp.rules import Rules

DISTRICT = """
[settings]
issue_threshold = 0.5

[dictionary]
words = ["电瓶柜"]

[categories.heating_station]
label = "换热站"
keywords = ["换热站", "热交换站"]

[categories.pets]
keywords = ["羊驼"]

[urgent]
extra_words = ["漏氨"]

[chatter.sports]
patterns = ['广场篮球赛']
"""


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    path = tmp_path_factory.mktemp("district") / "district.toml"
    path.write_text(DISTRICT, encoding="utf-8")
    return nlp.Analyzer.load(rules_path=path)


def test_district_category_is_added_with_its_label(district):
    a = district.analyze("换热站的声音太大了，吵得一晚上没睡")
    assert a.is_issue and a.category == "heating_station" and a.category_label == "换热站"


def test_district_keywords_extend_a_default_category(district):
    assert "羊驼" in district.rules.keywords["pets"] and "狗" in district.rules.keywords["pets"]


def test_district_urgent_word_is_urgent(district):
    a = district.analyze("冷库那边漏氨了")
    assert a.urgent and a.is_issue


def test_district_chatter_kind_is_recognised(district):
    a = district.analyze("周六广场篮球赛，欢迎报名")
    assert not a.is_issue and any("sports" in r for r in a.reasons)


def test_district_dictionary_word_reaches_the_tokenizer(district):
    assert "电瓶柜" in district.tokenizer.tokens("电瓶柜坏了")


def test_defaults_are_unchanged_without_a_district_file():
    assert "heating_station" not in Rules.load().labels
    assert set(nlp.CATEGORY_LABELS) >= {"property", "roads", "assistance", "other"}


@pytest.mark.parametrize(
    "rule",
    ["[chatter.x]\npatterns = ['(unclosed']\n", "[urgent.x]\npatterns = ['(?<!很|非常)着火']\n"],
    ids=["unclosed-group", "variable-width-look-behind"],
)
def test_invalid_regex_gives_a_clear_error_at_load_time(tmp_path, rule):
    bad = tmp_path / "bad.toml"
    bad.write_text(rule, encoding="utf-8")
    with pytest.raises(ValueError, match="正则表达式无效"):
        Rules.load(bad)


def test_readme_documents_the_rules_format():
    text = (Path(nlp.__file__).parent / "README.md").read_text(encoding="utf-8")
    for word in ("[categories.", "extra_words", "[chatter.", "[dictionary]", "replace = true"):
        assert word in text


def test_a_regex_is_guarded_by_its_rarest_literals_not_a_common_particle():
    from nlp.rules import literal_frequency, required_strings

    needs = required_strings("(?:腿|胳膊|头)(?:断|折)了", literal_frequency)
    assert needs is not None and "了" not in needs


def test_lexicon_scan_finds_every_word_longest_first_at_each_start():
    from nlp.rules import Lexicon

    lexicon = Lexicon({"电梯": (("kw", "elevator"),), "电梯井": (("lm", "井"),), "火": (("urg", "fire"),)})
    hits = [(i, w) for i, w, _ in lexicon.scan("电梯井里着火，电梯")]
    assert hits == [(0, "电梯井"), (0, "电梯"), (5, "火"), (7, "电梯")]


def test_adjacent_fixed_alternatives_make_one_rarer_guard():
    from nlp.rules import literal_frequency, required_strings

    assert required_strings("电(?:了|着)一下", literal_frequency) == {"电了一下", "电着一下"}


def test_a_guard_never_contains_a_space():
    from nlp.rules import literal_frequency, required_strings

    needs = required_strings("passed out", literal_frequency)
    assert needs and not any(" " in x for x in needs)


def test_rule_regexes_without_a_look_behind_are_compiled_on_first_use_not_at_load():
    rules = Rules.load()
    lazy = [g for _, _, g in rules.guards.values() if "(?<" not in g.pattern.pattern]
    assert lazy and all(g.pattern._compiled is None for g in lazy)
    lazy[0].pattern.search("")
    assert lazy[0].pattern._compiled is not None
