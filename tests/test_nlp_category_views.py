"""The category's two views (issue #19): the softmax over words, bigrams and rule features mixed
with a TF-IDF SVM over characters and character bigrams (ModelBundle.category_char)."""
import pytest

import nlp
from nlp.model import BinaryModel, ModelBundle, SoftmaxModel
from nlp.paths import DEFAULT_MODEL_PATH
from nlp.train import TrainConfig, char_view

TEXTS = ["5号楼楼顶漏水，家里天花板都湿了", "车棚充电桩坏了", "楼下狗天天叫 吵死了", "有人在小区门口发小广告 还贴得到处都是", "早上好"]


@pytest.fixture(scope="module")
def small():
    """A model trained on a slice of the corpus (quick), with its base analyzer."""
    from nlp.corpus import read_dir
    from nlp.paths import TRAIN_DIR
    from nlp.rules import Rules
    from nlp.train import featurize, fit

    examples = [ex for ex in read_dir(TRAIN_DIR) if not ex.urgent_only][::6]
    rules = Rules.load(None)
    base = nlp.Analyzer(rules, None)
    return examples, featurize(base, examples), rules, base


@pytest.fixture(scope="module")
def trained(small):
    """The small model with its default views (trained once for the tests that read it)."""
    from nlp.train import fit

    examples, feats, rules, _ = small
    return fit(examples, feats, rules)


def _separately(analyzer: nlp.Analyzer, text: str) -> list[float]:
    """The mixed scores from each view's own ``scores`` over its own feature list."""
    bundle, p = analyzer.bundle, analyzer.prepare(text)
    mix = bundle.category_char_weight
    a = bundle.category.scores(analyzer.full_features(p))
    b = bundle.category_char.scores(char_view(analyzer.category_features(p)))
    return [(1 - mix) * x + mix * y for x, y in zip(a, b)]


def _packed(analyzer: nlp.Analyzer, text: str) -> list[float]:
    p = analyzer.prepare(text)
    return analyzer.category_scorer.scores(p.grams, analyzer.words(p), p.rule_features, chars=set(p.window))


def test_training_adds_the_character_view_unless_turned_off(small, trained):
    from nlp.train import fit

    examples, feats, rules, _ = small
    bundle = trained
    char = bundle.category_char
    assert char is not None and char.l2 and char.classes == bundle.category.classes
    assert bundle.category_char_weight == TrainConfig.category_char_weight > 0
    assert {f[:3] for f in char.weights} <= {"c1:", "c2:"} and any(f.startswith("c1:") for f in char.weights)
    # Whether a view is trained does not depend on how much there is to train on: a third will do.
    fewer, fewer_feats = examples[::3], feats[::3]
    assert fit(fewer, fewer_feats, rules, TrainConfig(category_char_weight=0)).category_char is None
    # The SVM category model reads characters itself: no second view.
    assert fit(fewer, fewer_feats, rules, TrainConfig(category_svm=True)).category_char is None


def test_the_packed_scorer_mixes_both_views_as_trained(small, trained, tmp_path):
    _examples, _feats, rules, base = small
    path = trained.save(tmp_path / "m.json")
    analyzer = nlp.Analyzer(rules, ModelBundle.load(path), base.tokenizer)
    assert analyzer.category_scorer.reads_chars
    for text in TEXTS:
        assert _packed(analyzer, text) == pytest.approx(_separately(analyzer, text), abs=1e-9)
    # The loaded view and weight are the trained ones.
    again = ModelBundle.load(path)
    assert again.category_char.to_json() == analyzer.bundle.category_char.to_json()
    assert again.category_char_weight == analyzer.bundle.category_char_weight


def test_the_shipped_model_mixes_the_views():
    """The shipped category model is the softmax plus the character view (nlp/README.md)."""
    bundle = ModelBundle.load(DEFAULT_MODEL_PATH)
    assert bundle.category.l2 is None and bundle.category_char is not None
    analyzer = nlp.Analyzer(nlp.default_analyzer().rules, bundle, nlp.default_analyzer().tokenizer)
    for text in TEXTS:
        assert _packed(analyzer, text) == pytest.approx(_separately(analyzer, text), abs=1e-9)


def test_views_must_agree_on_their_classes():
    data = ModelBundle(
        BinaryModel(),
        SoftmaxModel(["a", "b"], [0.0, 0.0], {}),
        BinaryModel(),
        category_char=SoftmaxModel(["b", "a"], [0.0, 0.0], {}, {}),
        category_char_weight=0.5,
    ).to_json()
    with pytest.raises(ValueError):
        ModelBundle.from_json(data)


def test_retraining_keeps_the_character_view():
    """`zhibu nlp retrain` trains with the default config: the view ships with every retrained model."""
    import inspect

    from nlp.retrain import retrain

    config = inspect.signature(retrain).parameters["config"].default
    assert config.category_char_weight > 0 and not config.category_svm
