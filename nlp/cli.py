"""``zhibu nlp …`` subcommands (picked up by bot/cli.py through ``register_cli``).

    zhibu nlp analyze "4号楼门口积水好几天了"       # one message, as the bot sees it
    zhibu nlp evaluate [--baseline]                   # held-out scores of the configured model (vs the baseline)
    zhibu nlp retrain corrections.jsonl [--accept]    # corpus + corrections, report, swap if accepted

No database is needed; the model and rules files come from the settings
(``nlp_model_file`` / ``nlp_rules_file``) or the shipped defaults.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_DISTRICT_MODEL = Path("var/nlp/model.json")


def _paths(args: Any, settings: Any) -> tuple[Path | None, Path | None]:
    model = getattr(args, "model", None) or getattr(settings, "nlp_model_file", None)
    rules = getattr(args, "rules", None) or getattr(settings, "nlp_rules_file", None)
    return (Path(model) if model else None), (Path(rules) if rules else None)


async def cmd_analyze(args: Any, settings: Any) -> int:
    from .analyzer import Analyzer

    model, rules = _paths(args, settings)
    analyzer = Analyzer.load(model, rules)
    a = analyzer.analyze(args.text)
    print(f"问题: {'是' if a.is_issue else '否'}  置信度 {a.confidence:.2f}")
    print(f"类别: {a.category} {a.category_label}")
    print(f"紧急: {'是' if a.urgent else '否'}")
    print(f"位置: {a.location.label() or '—'}")
    print("依据: " + "；".join(a.reasons))
    return 0


async def cmd_evaluate(args: Any, settings: Any) -> int:
    from .analyzer import Analyzer
    from .corpus import read_dir
    from .evaluate import evaluate
    from .metrics import render
    from .paths import HELDOUT_DIR

    model, rules = _paths(args, settings)
    if getattr(args, "baseline", False):
        from .evaluate import compare_with_baseline
        from .paths import HELDOUT_FORMAL_DIR

        dirs = [Path(args.dir)] if args.dir else [HELDOUT_DIR, HELDOUT_FORMAL_DIR]
        print(compare_with_baseline(Analyzer.load(model, rules), dirs))
        return 0
    examples = read_dir(args.dir or HELDOUT_DIR)
    if not examples:
        print("没有留出集数据", file=sys.stderr)
        return 2
    print(render(evaluate(Analyzer.load(model, rules), examples)))
    return 0


async def cmd_retrain(args: Any, settings: Any) -> int:
    from .retrain import retrain

    model, rules = _paths(args, settings)
    out = Path(args.out) if args.out else (model or DEFAULT_DISTRICT_MODEL)
    rows = []
    with open(args.corrections, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
    from bot.progress import progress

    from .retrain import RETRAIN_STAGES

    with progress(RETRAIN_STAGES, "正在重新训练", unit="步") as bar:
        report = retrain(rows, out, rules_path=rules, old_model_path=model if model and model.exists() else None,
                         progress=bar)
    print(report.render())
    if args.accept or (args.accept_if_better and report.recommended):
        path = report.accept()
        print(f"新模型已写入 {path}")
        if model is None or Path(model) != path:
            print(f"提示：在配置中设置 nlp_model_file = \"{path}\" 后重启生效")
    else:
        print("未写入模型（加 --accept 或 --accept-if-better 写入）")
    return 0


def register_cli(sub: Any) -> None:
    nlp = sub.add_parser("nlp", help="文本识别模型：分析、评估、用纠错重新训练").add_subparsers(
        dest="nlp_command", required=True
    )
    analyze = nlp.add_parser("analyze", help="分析一条消息")
    analyze.add_argument("text")
    analyze.set_defaults(settings_func=cmd_analyze)

    evaluate = nlp.add_parser("evaluate", help="在留出集上评估当前模型")
    evaluate.add_argument("--dir", type=Path, default=None)
    evaluate.add_argument("--baseline", action="store_true", help="与标准基线比较（需要 scikit-learn，开发用）")
    evaluate.set_defaults(settings_func=cmd_evaluate)

    retrain = nlp.add_parser("retrain", help="用支部的纠错样本重新训练并报告新旧模型指标")
    retrain.add_argument("corrections", help="纠错样本 JSONL（zhibu tickets export-corrections 导出）")
    retrain.add_argument("--out", help="新模型路径（默认为配置的 nlp_model_file 或 var/nlp/model.json）")
    retrain.add_argument("--accept", action="store_true", help="无论结果如何都写入新模型")
    retrain.add_argument("--accept-if-better", action="store_true", help="新模型不比旧模型差时写入")
    retrain.set_defaults(settings_func=cmd_retrain)

    for p in (analyze, evaluate, retrain):
        p.add_argument("--model", type=Path, default=None, help="模型文件")
        p.add_argument("--rules", type=Path, default=None, help="区县规则文件")
