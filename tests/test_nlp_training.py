"""Training details: which lines teach which model."""
from nlp.analyzer import Analyzer
from nlp.corpus import Example
from nlp.rules import Rules
from nlp.train import featurize, fit


def _corpus() -> list[Example]:
    lines = [
        Example("4号楼门口积水好几天了没人管", True, "roads", False),
        Example("路灯坏了一个礼拜了", True, "roads", False),
        Example("楼下狗天天叫 吵死了", True, "pets", False),
        Example("谁家的狗又在草坪上拉屎", True, "pets", False),
        Example("早上好", False, "none", False),
        Example("收到 谢谢", False, "none", False),
        Example("楼顶那个人腿耷拉在外面哭 快去", True, "other", True, urgent_only=True),
    ]
    return lines


def test_urgent_only_lines_teach_the_urgent_models_but_not_the_category_model():
    rules = Rules.load()
    analyzer = Analyzer(rules, None)
    examples = _corpus()
    bundle = fit(examples, featurize(analyzer, examples), rules)
    assert "w:耷拉" not in bundle.category.weights
    assert "w:耷拉" not in bundle.issue.weights and "c2:耷拉" not in bundle.issue.weights
    assert bundle.urgent_text is not None and "w:耷拉" in bundle.urgent_text.weights


def test_a_corpus_line_can_be_marked_urgent_only():
    row = {"text": "x", "is_issue": True, "category": "other", "urgent": True, "urgent_only": True}
    assert Example.from_dict(row).urgent_only
    assert not Example.from_dict({**row, "urgent_only": False}).urgent_only
