"""Emergencies told in words no urgent pattern knows: the urgent_text model decides, with the same veto."""
import dataclasses
import json

import pytest

import nlp
from nlp.model import BinaryModel, ModelBundle
from nlp.paths import DEFAULT_MODEL_PATH

# A word no urgent pattern contains, made decisive by a hand-set model.
STRANGE = "怪事"


@pytest.fixture(scope="module")
def analyzer():
    shipped = nlp.default_analyzer()
    model = BinaryModel(bias=-6.0, weights={f"w:{STRANGE}": 12.0})
    bundle = dataclasses.replace(shipped.bundle, urgent_text=model)
    return nlp.Analyzer(shipped.rules, bundle, shipped.tokenizer)


def test_a_problem_whose_words_say_emergency_is_urgent_without_any_pattern(analyzer):
    a = analyzer.analyze(f"5号楼楼道出了{STRANGE} 单元门口堵死了 物业赶紧来处理")
    assert a.is_issue and a.urgent and a.urgent_kind == "unlisted"
    assert any("模型判断" in r for r in a.reasons)


def test_the_words_model_is_vetoed_when_the_message_says_it_is_over(analyzer):
    a = analyzer.analyze(f"昨天5号楼楼道出了{STRANGE} 单元门口堵死了 已经处理好了 物业赶紧来处理")
    assert a.is_issue
    assert not a.urgent


def test_chatter_is_never_urgent_from_the_words_model(analyzer):
    assert not analyzer.analyze(f"今天听说了个{STRANGE} 哈哈").urgent


def test_a_model_file_without_the_words_model_still_loads(tmp_path):
    data = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    data.pop("urgent_text")
    data["version"] = 1
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert ModelBundle.load(path).urgent_text is None
    analyzer = nlp.Analyzer.load(model_path=path)
    assert analyzer.analyze("3号楼电梯困人了 快来").urgent


def test_the_shipped_model_has_the_words_model():
    assert nlp.default_analyzer().bundle.urgent_text is not None
