"""The evaluation against the standard baseline: paired bootstrap of differences, and the
baseline itself (scikit-learn, a test extra: skipped where it is not installed)."""
import pytest

import nlp
from nlp.bootstrap import figures, paired_bootstrap, rows
from nlp.corpus import Example, read_dir
from nlp.metrics import score
from nlp.paths import HELDOUT_FORMAL_DIR


def test_bootstrap_figures_on_all_examples_equal_the_evaluation_scores():
    examples = read_dir(HELDOUT_FORMAL_DIR)
    analyses = [nlp.analyze(ex.text) for ex in examples]
    m = score(examples, analyses)
    f = figures(rows(examples), rows(analyses), range(len(examples)))
    assert f["issue_f1"] == pytest.approx(m.issue_f1)
    assert f["category_macro_f1"] == pytest.approx(m.category_macro_f1)
    assert f["urgent_precision"] == pytest.approx(m.urgent_precision)
    assert f["urgent_recall"] == pytest.approx(m.urgent_recall)


def _examples(n: int = 60) -> list[Example]:
    cats = ["roads", "pets", "noise"]
    return [Example(f"t{i}", i % 4 != 0, cats[i % 3] if i % 4 else "none", i % 10 == 1) for i in range(n)]


def test_the_interval_lies_above_zero_when_one_system_is_right_and_the_other_often_wrong():
    examples = _examples()
    right = rows(examples)
    wrong = [(i, "other" if k % 3 == 0 and i else c, u) for k, (i, c, u) in enumerate(right)]
    c = paired_bootstrap(examples, right, wrong, resamples=300)
    assert c.a["category_macro_f1"] == 1.0
    low, high = c.interval["category_macro_f1"]
    assert 0 < low <= high


def test_identical_systems_differ_by_exactly_zero_in_every_resample():
    examples = _examples()
    same = rows(examples)
    c = paired_bootstrap(examples, same, list(same), resamples=100)
    assert all(interval == (0.0, 0.0) for interval in c.interval.values())


def test_the_baseline_trains_on_corpus_lines_and_predicts_all_three_fields():
    pytest.importorskip("sklearn")
    from nlp.baseline import Baseline

    train = [
        Example("电梯坏了没人修", True, "elevator", False), Example("电梯又停了 困人了 快来", True, "elevator", True),
        Example("路灯不亮", True, "roads", False), Example("门口积水", True, "roads", False),
        Example("早上好", False, "none", False), Example("谢谢物业", False, "none", False),
    ]
    # Each text shares its words with one class only: any working baseline gets all three right
    # (the old check, "one of the three classes", held for any output).
    assert Baseline(train).predict(["电梯又坏了", "早上好呀", "路灯又不亮了"]) == [
        (True, "elevator", False), (False, "none", False), (True, "roads", False)]
