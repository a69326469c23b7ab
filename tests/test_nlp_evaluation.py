"""Held-out evaluation (the one slow-ish test file): the issue #4 targets.

Targets: is_issue F1 >= 0.93, category macro-F1 >= 0.88, urgent recall >= 0.97 with
precision >= 0.85. Nothing is tuned on the held-out split; this test only reads scores.
"""
import pytest

import nlp
from nlp.corpus import read_dir
from nlp.evaluate import evaluate
from nlp.metrics import TARGETS
from nlp.paths import HELDOUT_DIR


@pytest.fixture(scope="module")
def heldout_metrics():
    examples = read_dir(HELDOUT_DIR)
    assert examples, "the held-out split nlp/data/heldout is missing"
    return evaluate(nlp.default_analyzer(), examples)


def test_evaluation_targets_are_met_on_heldout(heldout_metrics):
    m = heldout_metrics
    assert m.issue_f1 >= TARGETS["issue_f1"], m.summary()
    assert m.category_macro_f1 >= TARGETS["category_macro_f1"], m.summary()
    assert m.urgent_recall >= TARGETS["urgent_recall"], m.summary()
    assert m.urgent_precision >= TARGETS["urgent_precision"], m.summary()


def test_category_keeps_the_figures_the_character_view_reached(heldout_metrics):
    """Issue #19: the category's character view moved chat macro-F1 0.882 -> 0.894 (still 0.012
    below the TF-IDF baseline's 0.906, not the +0.04 wanted) and kept the formal set at 0.979.
    These floors guard what was reached; they are not the issue's targets."""
    from nlp.paths import HELDOUT_FORMAL_DIR

    assert heldout_metrics.category_macro_f1 >= 0.89, heldout_metrics.summary()
    formal = evaluate(nlp.default_analyzer(), read_dir(HELDOUT_FORMAL_DIR))
    assert formal.category_macro_f1 >= 0.975, formal.summary()


def test_formal_texts_raise_at_most_one_false_urgent_per_250():
    """The second held-out set (letters, hotline orders, staff reports, notices; issue #19)."""
    from nlp.paths import HELDOUT_FORMAL_DIR

    examples = read_dir(HELDOUT_FORMAL_DIR)
    analyses = [nlp.analyze(ex.text) for ex in examples]
    false_urgent = sum(1 for ex, a in zip(examples, analyses) if a.urgent and not ex.urgent)
    assert false_urgent <= len(examples) / 250


def test_formal_emergencies_are_found_at_least_nine_times_in_ten():
    """Not the 0.97 wanted: since the 113 longer formal texts were added (issue #19) one of the
    13 emergencies there is missed (recall 0.923). The floor guards against losing more."""
    from nlp.paths import HELDOUT_FORMAL_DIR

    examples = [ex for ex in read_dir(HELDOUT_FORMAL_DIR) if ex.urgent]
    found = sum(1 for ex in examples if nlp.analyze(ex.text).urgent)
    assert found >= 0.9 * len(examples)
