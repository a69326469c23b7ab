"""Retraining from secretaries' corrections: the report says how many corrected cases the new
model gets right, and a regression on either held-out set blocks --accept-if-better."""
import json

from nlp.metrics import Metrics
from nlp.retrain import RetrainReport, retrain


def _rows():
    return [
        {"text": t, "is_issue": i, "category": c, "urgent": False}
        for t, i, c in [
            ("电梯坏了没人修", True, "elevator"), ("电梯又停了", True, "elevator"), ("路灯不亮", True, "roads"),
            ("门口积水", True, "roads"), ("早上好", False, "none"), ("谢谢物业", False, "none"),
        ]
    ]


def test_the_report_counts_corrected_cases_the_new_model_gets_right(tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    (train / "c.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in _rows()), encoding="utf-8")
    heldout = tmp_path / "heldout"
    heldout.mkdir()
    (heldout / "h.jsonl").write_text(json.dumps(_rows()[0], ensure_ascii=False), encoding="utf-8")
    corrections = [{"text": "建议广场多放几把长椅", "is_issue": False, "category": "none", "urgent": False}]
    report = retrain(corrections, tmp_path / "model.json", heldout_dir=heldout, train_dir=train)
    assert report.n_corrections == 1 and report.fixed_new == 1 and report.fixed_share == 1.0
    assert "纠正样本重新分析" in report.render()


def _metrics(category_f1: float) -> Metrics:
    return Metrics(n=100, issue_f1=0.95, category_macro_f1=category_f1, urgent_recall=1.0, urgent_precision=1.0)


def test_a_regression_on_the_second_heldout_set_blocks_accept_if_better(tmp_path):
    report = RetrainReport(
        model_out=tmp_path / "m.json", bundle=None, n_corpus=10, n_corrections=1, n_replaced=0, heldout_size=100,
        old=_metrics(0.90), new=_metrics(0.90), others={"heldout_formal": (_metrics(0.95), _metrics(0.80))},
    )
    assert not report.recommended
    assert report.regressions() == ["heldout_formal category_macro_f1: 0.950 -> 0.800"]
