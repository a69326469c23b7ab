"""The rules' dictionary scan (Aho–Corasick) finds every occurrence, by start, longest first."""
from nlp.rules import Lexicon


def test_scan_finds_overlapping_words_at_character_offsets_longest_first():
    lexicon = Lexicon({"电梯": (("kw", "elevator"),), "电梯井": (("lm", "井"),), "梯井": (("cc", "x"),),
                       "火": (("urg", "fire"),), "🔥": (("urg", "fire"),)})
    hits = [(i, w) for i, w, _ in lexicon.scan("😀电梯井里着火🔥，电梯")]
    assert hits == [(1, "电梯井"), (1, "电梯"), (2, "梯井"), (6, "火"), (7, "🔥"), (9, "电梯")]


def test_scan_of_an_empty_lexicon_finds_nothing():
    assert Lexicon({}).scan("电梯") == []
