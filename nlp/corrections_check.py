"""Do secretaries' corrections work? ``python -m nlp.corrections_check``

Retrains with 100 corrections of one district (nlp/data/corrections/secretaries_100.jsonl:
50 "改类" — this district's charging and bike sheds are the property company's job, the
model says parking/other — and 50 "不是问题" — suggestions the model files as problems),
exactly as ``zhibu nlp retrain --accept-if-better`` does (nlp.retrain.retrain), and prints:

- the share of the corrected cases the new model gets right on re-analysis (target >= 80 %),
- the same for 100 unseen messages of the same two kinds (unseen_100.jsonl: does it generalise?),
- both held-out sets, old model vs new, and the verdict ``--accept-if-better`` would act on.

Writes nothing (the new model is kept in memory).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from .analyzer import Analyzer
from .corpus import read_jsonl
from .paths import DATA_DIR
from .retrain import retrain

CORRECTIONS = DATA_DIR / "corrections" / "secretaries_100.jsonl"
UNSEEN = DATA_DIR / "corrections" / "unseen_100.jsonl"
TARGET_FIXED = 0.8


def _right(analyzer: Analyzer, path: Path) -> tuple[int, int]:
    examples = read_jsonl(path)
    ok = 0
    for ex in examples:
        a = analyzer.analyze(ex.text)
        ok += a.is_issue == ex.is_issue and a.category == ex.category
    return ok, len(examples)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.corrections_check", description="纠错重新训练的效果")
    parser.add_argument("--corrections", type=Path, default=CORRECTIONS)
    parser.add_argument("--unseen", type=Path, default=UNSEEN)
    args = parser.parse_args(argv)

    import json

    rows = [json.loads(line) for line in args.corrections.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        report = retrain(rows, Path(tmp) / "model.json")
    print(report.render())
    new = Analyzer(Analyzer.load().rules, report.bundle)
    old = Analyzer.load()
    unseen_old, n = _right(old, args.unseen)
    unseen_new, _ = _right(new, args.unseen)
    print(f"同类未见消息 unseen messages of the same kinds: 旧模型 old {unseen_old}/{n}, 新模型 new {unseen_new}/{n}")
    ok = report.fixed_share >= TARGET_FIXED and report.recommended
    print(
        f"结果 result: 纠正样本修正 {report.fixed_share:.0%}（目标 >= {TARGET_FIXED:.0%}），"
        f"留出集{'未变差' if report.recommended else '变差'} -> {'OK' if ok else 'MISS'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
