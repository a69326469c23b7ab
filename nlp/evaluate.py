"""Evaluate the shipped model on the held-out splits: ``python -m nlp.evaluate``.

Prints precision/recall/F1 for is_issue, macro-F1 and a confusion table for
category, urgent precision/recall and location accuracy. It prints scores
only, never the held-out texts (nothing may be tuned on them).

    python -m nlp.evaluate [--model PATH] [--rules PATH] [--dir DIR] [--json]
    python -m nlp.evaluate --baseline [--dir DIR ...]   # against TF-IDF char 1-2 + LinearSVC (dev only)

``--baseline`` trains the standard baseline (nlp/baseline.py, scikit-learn) on the
same training lines and prints both systems side by side on both held-out sets
(nlp/data/heldout and nlp/data/heldout_formal unless --dir is given), with a
paired-bootstrap 95 % interval of each difference.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from .analyzer import Analyzer
from .corpus import Example, read_dir
from .metrics import Metrics, TARGETS, render, score
from .paths import HELDOUT_DIR, HELDOUT_FORMAL_DIR


def evaluate(analyzer: Analyzer, examples: Sequence[Example]) -> Metrics:
    return score(examples, [analyzer.analyze(ex.text) for ex in examples])


def evaluate_dir(analyzer: Analyzer, directory: Path | str = HELDOUT_DIR) -> Metrics:
    return evaluate(analyzer, read_dir(directory))


def render_comparison(name: str, examples: Sequence[Example], comparison) -> str:
    from .bootstrap import FIGURES

    false_urgent = comparison.false_urgent
    lines = [
        f"== {name}: {len(examples)} 条 messages, paired bootstrap x{comparison.resamples} ==",
        f"{'figure':<20}{'project':>9}{'baseline':>10}{'diff':>8}   95% interval",
    ]
    for k in FIGURES:
        lo, hi = comparison.interval[k]
        a, b = comparison.a[k], comparison.b[k]
        lines.append(f"{k:<20}{a:>9.3f}{b:>10.3f}{a - b:>+8.3f}   [{lo:+.3f}, {hi:+.3f}]")
    lines.append(
        f"{'false urgents':<20}{false_urgent[0]:>9d}{false_urgent[1]:>10d}"
        f"   (per 250 texts: {250 * false_urgent[0] / len(examples):.2f} / {250 * false_urgent[1] / len(examples):.2f})"
    )
    return "\n".join(lines)


def compare_with_baseline(analyzer: Analyzer, directories: Sequence[Path], *, resamples: int = 1000) -> str:
    from .baseline import Baseline
    from .bootstrap import paired_bootstrap, rows
    from .paths import TRAIN_DIR

    baseline = Baseline(read_dir(TRAIN_DIR))
    out = []
    for directory in directories:
        examples = read_dir(directory)
        if not examples:
            continue
        ours = rows([analyzer.analyze(ex.text) for ex in examples])
        theirs = baseline.predict([ex.text for ex in examples])
        comparison = paired_bootstrap(examples, ours, theirs, resamples=resamples)
        out.append(render_comparison(directory.name, examples, comparison))
    return "\n\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.evaluate", description="在留出集上评估 (evaluate on held-out)")
    parser.add_argument("--model", type=Path, default=None, help="模型文件 (default: nlp/model/model.json)")
    parser.add_argument("--rules", type=Path, default=None, help="区县规则文件 (district rules TOML)")
    parser.add_argument("--dir", type=Path, action="append", default=None,
                        help="JSONL 目录 (default: nlp/data/heldout; with --baseline both held-out sets)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--baseline", action="store_true",
                        help="与标准基线比较 (TF-IDF char 1-2 + LinearSVC, needs scikit-learn)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (with --baseline)")
    args = parser.parse_args(argv)

    analyzer = Analyzer.load(args.model, args.rules)
    if args.baseline:
        print(compare_with_baseline(analyzer, args.dir or [HELDOUT_DIR, HELDOUT_FORMAL_DIR], resamples=args.resamples))
        return 0
    directory = (args.dir or [HELDOUT_DIR])[0]
    examples = read_dir(directory)
    if not examples:
        print(f"没有评估数据 (no data): {directory}", file=sys.stderr)
        return 2
    metrics = evaluate(analyzer, examples)
    if args.json:
        print(json.dumps({**metrics.summary(), "n": metrics.n, "targets": TARGETS, "met": metrics.meets_targets()}))
    else:
        print(render(metrics, title=f"留出集评估 / held-out evaluation: {directory}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
