"""Evaluate the shipped model on the held-out split: ``python -m nlp.evaluate``.

Prints precision/recall/F1 for is_issue, macro-F1 and a confusion table for
category, urgent precision/recall and location accuracy. It prints scores
only, never the held-out texts (nothing may be tuned on them).

    python -m nlp.evaluate [--model PATH] [--rules PATH] [--dir DIR] [--json]
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
from .paths import HELDOUT_DIR


def evaluate(analyzer: Analyzer, examples: Sequence[Example]) -> Metrics:
    return score(examples, [analyzer.analyze(ex.text) for ex in examples])


def evaluate_dir(analyzer: Analyzer, directory: Path | str = HELDOUT_DIR) -> Metrics:
    return evaluate(analyzer, read_dir(directory))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.evaluate", description="在留出集上评估 (evaluate on held-out)")
    parser.add_argument("--model", type=Path, default=None, help="模型文件 (default: nlp/model/model.json)")
    parser.add_argument("--rules", type=Path, default=None, help="区县规则文件 (district rules TOML)")
    parser.add_argument("--dir", type=Path, default=HELDOUT_DIR, help="JSONL 目录 (default: nlp/data/heldout)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)

    examples = read_dir(args.dir)
    if not examples:
        print(f"没有评估数据 (no data): {args.dir}", file=sys.stderr)
        return 2
    analyzer = Analyzer.load(args.model, args.rules)
    metrics = evaluate(analyzer, examples)
    if args.json:
        print(json.dumps({**metrics.summary(), "n": metrics.n, "targets": TARGETS, "met": metrics.meets_targets()}))
    else:
        print(render(metrics, title=f"留出集评估 / held-out evaluation: {args.dir}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
