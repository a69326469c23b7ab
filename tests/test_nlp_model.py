"""The shipped model: loads fast, is deterministic, can be retrained from corrections."""
import json
import re
import subprocess
import sys
from pathlib import Path

import nlp
from nlp.model import ModelBundle
from nlp.paths import DEFAULT_MODEL_PATH
from nlp.retrain import retrain

ROOT = Path(__file__).resolve().parent.parent


def test_model_file_ships_and_loads():
    bundle = ModelBundle.load(DEFAULT_MODEL_PATH)
    assert bundle.issue.weights and bundle.category.weights and bundle.urgent.weights
    assert set(bundle.category.classes) <= set(nlp.CATEGORY_LABELS)


def test_loads_quietly_in_a_fresh_interpreter():
    """Load time itself is measured by bench/nlp.py (a timed test would flake on a busy CI)."""
    code = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); t = time.perf_counter(); import nlp; "
        "nlp.default_analyzer(); nlp.analyze('早上好'); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert float(out.stdout.strip().splitlines()[-1]) > 0
    assert out.stderr.strip() == ""  # jieba stays quiet


def test_analysis_is_deterministic():
    a = nlp.analyze("4号楼前路面积水好几天了没人管")
    b = nlp.default_analyzer().analyze("4号楼前路面积水好几天了没人管")
    assert a == b


def test_fast_segmentation_equals_jieba():
    tk = nlp.default_analyzer().tokenizer
    for text in ("4号楼前路面积水好几天了没人管", "楼道里有人飞线充电太危险了", "谁家的狗天天晚上叫吵死了"):
        for run in re.findall(r"[\u4e00-\u9fd5]+", text):
            assert list(tk._segment_run(run)) == tk.reference_tokens(run)


def test_retrain_reports_and_accepts_atomically(tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    rows = [
        {"text": t, "is_issue": i, "category": c, "urgent": False}
        for t, i, c in [
            ("电梯坏了没人修", True, "elevator"), ("电梯又停了", True, "elevator"), ("路灯不亮", True, "roads"),
            ("门口积水", True, "roads"), ("早上好", False, "none"), ("谢谢物业", False, "none"),
        ]
    ]
    (train / "issues.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    heldout = tmp_path / "heldout"
    heldout.mkdir()
    (heldout / "h.jsonl").write_text(json.dumps(rows[0], ensure_ascii=False), encoding="utf-8")
    corrections = [{"text": "2号楼楼下有人半夜唱歌", "is_issue": False, "category": "none", "urgent": False}]
    out = tmp_path / "district" / "model.json"
    report = retrain(corrections, out, heldout_dir=heldout, train_dir=train)
    text = report.render()
    assert "旧 old" in text and "新 new" in text and report.n_corrections == 1
    assert not out.exists()  # nothing is written until accepted
    assert report.accept() == out
    assert ModelBundle.load(out).meta["examples"] == 7
    assert not list(out.parent.glob(".model-*"))  # no temp file left behind
    assert nlp.Analyzer.load(model_path=out).analyze("电梯坏了").is_issue in (True, False)


def test_bare_scorers_give_the_probabilities_of_the_trained_feature_lists():
    analyzer = nlp.default_analyzer()
    bundle = analyzer.bundle
    texts = ["4号楼门口积水好几天了没人管", "3号楼电梯困人了 快来", "楼道里一股煤气味", "早上好", "谁家孩子在哭 好几个小时了"]
    for text in texts:
        p = analyzer.prepare(text)
        words = analyzer.words(p)
        assert abs(analyzer.issue_scorer.proba(p.grams, p.rule_features) - bundle.issue.proba(p.features)) < 1e-9
        urgent = bundle.urgent.proba(analyzer.full_features(p))
        assert abs(analyzer.urgent_scorer.proba(p.grams, words, p.rule_features) - urgent) < 1e-9
        if not p.urgent.hits:
            text_model = bundle.urgent_text.proba(analyzer.urgent_text_features(p))
            assert abs(analyzer.urgent_text_scorer.proba(p.grams, words, p.rule_features) - text_model) < 1e-9


def _category_scores(analyzer, p) -> list[float]:
    """The category scores from the models' own feature lists: the softmax's, mixed with its
    character view's when the model has one (tests/test_nlp_category_views.py)."""
    from nlp.train import char_view

    bundle = analyzer.bundle
    scores = bundle.category.scores(analyzer.category_features(p))
    if bundle.category_char is None:
        return scores
    mix = bundle.category_char_weight
    view = bundle.category_char.scores(char_view(analyzer.category_features(p)))
    return [(1 - mix) * a + mix * b for a, b in zip(scores, view)]


def test_the_bare_category_scorer_gives_the_scores_of_the_trained_feature_list():
    analyzer = nlp.default_analyzer()
    for text in ["4号楼门口积水好几天了没人管", "楼下狗天天叫 吵死了", "3号楼电梯困人了 快来"]:
        p = analyzer.prepare(text)
        expected = _category_scores(analyzer, p)
        got = analyzer.category_scorer.scores(p.grams, analyzer.words(p), p.rule_features, chars=set(p.window))
        assert all(abs(a - b) < 1e-9 for a, b in zip(got, expected))


def test_packed_category_scores_equal_the_softmax_model_scores():
    """The category scorer sums integer-packed weight vectors (one field per class): it must give
    the model's own scores, for short messages and for a window full of distinct features."""
    analyzer = nlp.default_analyzer()
    long_text = "".join(chr(0x4E00 + (i * 37) % 20000) for i in range(1200))  # ~1,200 distinct bigrams
    for text in ["5号楼楼顶漏水，家里天花板都湿了", "车棚充电桩坏了", "早上好", long_text]:
        p = analyzer.prepare(text)
        ours = analyzer.category_scorer.scores(p.grams, analyzer.words(p), p.rule_features, chars=set(p.window))
        theirs = _category_scores(analyzer, p)
        assert max(abs(x - y) for x, y in zip(ours, theirs)) < 1e-9
