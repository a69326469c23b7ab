"""bot.heap: a serving process loads the analyzer before the first message and leaves its
long-lived objects out of the garbage collector's full collections."""
from __future__ import annotations

import gc

import nlp
from bot import heap


def _fresh_analyzer() -> nlp.Analyzer:
    """The shipped model and rules under a new Analyzer: its category scorer is not packed yet."""
    shipped = nlp.default_analyzer()
    return nlp.Analyzer(shipped.rules, shipped.bundle, shipped.tokenizer)


def test_warming_packs_the_category_model_before_the_first_message() -> None:
    analyzer = _fresh_analyzer()
    assert analyzer.category_scorer._packed is None

    heap.warm(analyzer)

    assert analyzer.category_scorer._packed is not None


def test_freezing_leaves_what_is_alive_out_of_later_collections() -> None:
    long_lived = [{"compound": "阳光花园"}]
    try:
        frozen = heap.freeze()
        assert frozen == gc.get_freeze_count() > 0
        # Frozen objects are in no generation a collection walks.
        assert all(long_lived is not o for generation in range(3) for o in gc.get_objects(generation))
    finally:
        gc.unfreeze()  # the test process is no server: give its heap back to the collector
    assert any(long_lived is o for o in gc.get_objects())
