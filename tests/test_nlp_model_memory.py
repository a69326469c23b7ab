"""Loading the model compactly (issue #16) changes no output: every held-out analysis is the same."""
import hashlib
import json

import nlp
from nlp.model import ModelBundle
from nlp.paths import DEFAULT_MODEL_PATH

DATA = DEFAULT_MODEL_PATH.parent.parent / "data"

# Digest of the analyses of all nlp/data/heldout and heldout_formal texts with the shipped model
# and rules. A deliberate change of the model, the rules or the held-out data changes it too:
# then check the evaluation figures and record the new value (print(heldout_digest())).
HELDOUT_DIGEST = "251bf2c775128a340aa816d7997c99c666d5bb4e372ae489950e4f136bb2c165"


def _texts() -> list[str]:
    texts = []
    for folder in ("heldout", "heldout_formal"):
        for path in sorted((DATA / folder).glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    texts.append(json.loads(line)["text"])
    return texts


def heldout_digest() -> str:
    analyzer = nlp.default_analyzer()
    h = hashlib.sha256()
    for text in _texts():
        a = analyzer.analyze(text)
        row = (
            a.is_issue, a.category, a.urgent, repr(a.confidence), a.reasons, repr(a.issue_probability),
            repr(a.category_confidence), a.urgent_kind, sorted(a.fingerprint), a.location.label(),
        )
        h.update(repr(row).encode("utf-8"))
    return h.hexdigest()


def test_heldout_analyses_are_unchanged():
    assert len(_texts()) > 500
    assert heldout_digest() == HELDOUT_DIGEST


def test_compact_loading_keeps_every_value():
    """The loaded models hold the values a plain json.load gives, equal and of the same type."""
    bundle = ModelBundle.load(DEFAULT_MODEL_PATH)
    with open(DEFAULT_MODEL_PATH, encoding="utf-8") as fh:
        plain = json.load(fh)
    ours = bundle.to_json()
    for name in ("issue", "category", "urgent", "urgent_text"):
        assert ours[name] == plain[name], name
    assert ours["meta"] == plain["meta"]
    weights = ours["issue"]["weights"]
    assert all(type(w) is type(plain["issue"]["weights"][f]) for f, w in weights.items())


def test_equal_weights_share_one_float():
    bundle = ModelBundle.load(DEFAULT_MODEL_PATH)
    values = [*bundle.issue.weights.values(), *(w for vec in bundle.category.weights.values() for w in vec)]
    # One object per distinct value (by repr: 0.0 and -0.0 are equal but stay two values).
    assert len({id(v) for v in values}) == len({repr(v) for v in values})


def test_characters_outside_the_bmp_load_as_written(tmp_path):
    """Emoji are escaped before decoding (a smaller string to parse): keys and texts come back intact."""
    from nlp.model import read_json

    data = {"weights": {"c2:下💐": -0.32332, "c2:乐🇨🇳": 0.5, "w:😂😂": 1e-05, "c2:ab": 0.5}, "meta": {"note": "𠀀x🎉"}}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert read_json(path) == data


def test_the_packed_category_model_gives_its_vectors_back():
    """Once packed, the category model reads its vectors from the integers (the lists are freed):
    the same values, scores and explanations as the lists a plain json.load gives."""
    from nlp.model import PackedVectors, SoftmaxModel

    analyzer = nlp.Analyzer.load()
    analyzer.analyze("4号楼前路面积水好几天了没人管")  # the first problem packs the category model
    model = analyzer.bundle.category
    assert isinstance(model.weights, PackedVectors)
    with open(DEFAULT_MODEL_PATH, encoding="utf-8") as fh:
        plain = SoftmaxModel.from_json(json.load(fh)["category"])
    assert len(model.weights) == len(plain.weights) and list(model.weights) == list(plain.weights)
    for f, vec in plain.weights.items():
        assert model.weights[f] == vec, f
    feats = [f for f in plain.weights if f.startswith("w:")][:300] + ["w:没有这个词"]
    for index in range(len(plain.classes)):
        assert model.contributions(feats, index) == plain.contributions(feats, index)
    assert model.scores(feats) == plain.scores(feats)
    assert model.to_json() == plain.to_json()


def test_a_second_analyzer_over_a_packed_model_reuses_its_integers():
    first = nlp.Analyzer.load()
    first.analyze("4号楼前路面积水好几天了没人管")
    second = nlp.Analyzer(first.rules, first.bundle, first.tokenizer)
    for text in ["5号楼楼顶漏水，家里天花板都湿了", "楼下狗天天叫 吵死了", "车棚充电桩坏了"]:
        assert second.analyze(text) == first.analyze(text)
    assert second.category_scorer._packed[0] is first.category_scorer._packed[0]
