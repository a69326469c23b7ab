"""Learning from the district: retrain with the secretaries' corrections.

    report = retrain(corrections, model_out=Path("var/nlp/model.json"))
    print(report.render())
    if report.recommended:
        report.accept()          # atomic write of the new model to model_out

A correction is a dict like a corpus line: {"text", "is_issue", "category",
"urgent"}. A ticket marked "not a problem" is {"is_issue": false,
"category": "none"}; a category change carries the new category. Corrections
weigh CORRECTION_WEIGHT times a corpus line, and replace corpus lines with the
same text. The held-out split is only evaluated, never trained on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .analyzer import Analyzer
from .corpus import from_dicts, read_dir
from .metrics import Metrics, TARGETS
from .model import ModelBundle
from .paths import DEFAULT_MODEL_PATH, HELDOUT_DIR, HELDOUT_FORMAL_DIR, TRAIN_DIR
from .rules import Rules
from .train import CORRECTION_WEIGHT, TrainConfig, featurize, fit

# The new model is recommended unless it is worse than the old one by more than this.
TOLERANCE = {"issue_f1": 0.01, "category_macro_f1": 0.015, "urgent_recall": 0.0, "urgent_precision": 0.03}


@dataclass
class RetrainReport:
    model_out: Path
    bundle: ModelBundle
    n_corpus: int
    n_corrections: int
    n_replaced: int
    heldout_size: int
    old: Metrics | None
    new: Metrics | None
    problems: list[str] = field(default_factory=list)
    # Other held-out sets (name -> (old, new)); by default nlp/data/heldout_formal.
    others: dict[str, tuple[Metrics | None, Metrics | None]] = field(default_factory=dict)
    # Corrections the models label as corrected (is_issue and category) on re-analysis.
    fixed_new: int = 0
    fixed_old: int | None = None

    @property
    def fixed_share(self) -> float:
        """Share of the corrected cases the new model gets right on re-analysis."""
        return self.fixed_new / self.n_corrections if self.n_corrections else 1.0

    @property
    def recommended(self) -> bool:
        """True when the new model is not worse than the old one on held-out (or there is nothing to compare)."""
        if self.new is None or self.old is None:
            return self.new is not None or self.old is None
        return not self.regressions()

    def regressions(self) -> list[str]:
        if self.new is None or self.old is None:
            return []
        out = []
        for prefix, (old_m, new_m) in [("", (self.old, self.new)), *((f"{k} ", v) for k, v in self.others.items())]:
            if old_m is None or new_m is None:
                continue
            for name, tol in TOLERANCE.items():
                old, new = getattr(old_m, name), getattr(new_m, name)
                if new < old - tol:
                    out.append(f"{prefix}{name}: {old:.3f} -> {new:.3f}")
        return out

    def accept(self, path: Path | str | None = None) -> Path:
        """Write the new model atomically (to ``model_out`` unless ``path`` is given)."""
        return self.bundle.save(Path(path) if path is not None else self.model_out)

    def render(self) -> str:
        lines = [
            "== 模型重新训练报告 / NLP retrain report ==",
            f"训练样本 training lines: 语料 corpus {self.n_corpus} + 纠正 corrections {self.n_corrections}"
            f"（权重 x{CORRECTION_WEIGHT:g}，替换同文语料 {self.n_replaced} 条 replaced）",
        ]
        lines.extend(f"注意 note: {p}" for p in self.problems)
        if self.new is None:
            lines.append("没有留出集，无法比较 (no held-out split: nothing to compare)")
        else:
            lines.append(f"留出集 held-out: {self.heldout_size} 条 messages")
            lines.append(f"{'指标 metric':<24}{'旧 old':>8}{'新 new':>8}{'目标 target':>12}")
            for name, label in (
                ("issue_f1", "是否问题 F1"),
                ("category_macro_f1", "类别 macro-F1"),
                ("urgent_recall", "紧急 recall"),
                ("urgent_precision", "紧急 precision"),
                ("location_accuracy", "位置 accuracy"),
            ):
                old = getattr(self.old, name) if self.old else None
                new = getattr(self.new, name)
                target = TARGETS.get(name)
                fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
                lines.append(f"{label:<20}{fmt(old):>12}{fmt(new):>8}{fmt(target):>12}")
        for name, (old_m, new_m) in self.others.items():
            if new_m is None:
                continue
            lines.append(f"{name}: {new_m.n} 条 messages")
            for metric in ("issue_f1", "category_macro_f1", "urgent_recall", "urgent_precision"):
                old = getattr(old_m, metric) if old_m else None
                fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
                lines.append(f"  {metric:<22}{fmt(old):>12}{fmt(getattr(new_m, metric)):>8}")
        if self.n_corrections:
            before = "-" if self.fixed_old is None else f"{self.fixed_old}"
            lines.append(
                f"纠正样本重新分析 corrections re-analysed: 新模型判对 {self.fixed_new}/{self.n_corrections}"
                f" ({self.fixed_share:.0%})，旧模型 old model {before}/{self.n_corrections}"
            )
        regress = self.regressions()
        if self.recommended:
            lines.append("结论 verdict: 建议采用新模型 (recommended: accept)")
        else:
            lines.append("结论 verdict: 不建议采用，新模型变差 (not recommended, regressions: " + "; ".join(regress) + ")")
        return "\n".join(lines)


def _validate(rows: Sequence[dict[str, Any]], rules: Rules) -> tuple[list[dict[str, Any]], list[str]]:
    ok, problems = [], []
    known = set(rules.labels) | {"none"}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
            problems.append(f"第{n}条纠正缺少 text，已跳过 (correction {n} has no text, skipped)")
            continue
        category = str(row.get("category") or "none")
        if bool(row.get("is_issue")) and category not in known:
            problems.append(f"第{n}条纠正的类别未知: {category} (unknown category, kept as a new class)")
        ok.append(row)
    return ok, problems


RETRAIN_STAGES = 5  # read, featurize, fit, evaluate the new model, evaluate the old one


def retrain(
    extra_examples: list[dict],
    model_out: Path | str,
    *,
    heldout_dir: Path | str | None = None,
    rules_path: Path | str | None = None,
    old_model_path: Path | str | None = None,
    train_dir: Path | str | None = None,
    config: TrainConfig = TrainConfig(),
    progress: Any = None,
) -> RetrainReport:
    """Train on corpus + corrections, evaluate old and new model on held-out; write nothing.
    ``progress`` (anything with ``update(n)``) moves one step per stage: read, featurize, fit,
    evaluate new, evaluate old (RETRAIN_STAGES)."""
    step = progress.update if progress is not None else (lambda n=1: None)
    model_out = Path(model_out)
    rules = Rules.load(rules_path)
    rows, problems = _validate(extra_examples, rules)
    corrections = from_dicts(rows, weight=CORRECTION_WEIGHT, origin="correction")
    corrected = {ex.text.strip() for ex in corrections}
    corpus = read_dir(train_dir if train_dir is not None else TRAIN_DIR)
    kept = [ex for ex in corpus if ex.text.strip() not in corrected]
    examples = kept + corrections
    step(1)

    base = Analyzer(rules, None)
    featurized = featurize(base, examples)
    step(1)
    bundle = fit(examples, featurized, rules, config)
    step(1)

    heldout = read_dir(heldout_dir if heldout_dir is not None else HELDOUT_DIR)
    # The second held-out set (formal texts) is compared too when the default split is used.
    others = {HELDOUT_FORMAL_DIR.name: read_dir(HELDOUT_FORMAL_DIR)} if heldout_dir is None else {}
    new_analyzer = Analyzer(rules, bundle, base.tokenizer)
    old_analyzer = None
    old_path = Path(old_model_path) if old_model_path is not None else (
        model_out if model_out.exists() else DEFAULT_MODEL_PATH
    )
    if old_path.exists():
        try:
            old_analyzer = Analyzer(rules, ModelBundle.load(old_path), base.tokenizer)
        except (OSError, ValueError, KeyError) as exc:
            problems.append(f"旧模型无法读取 (old model unreadable): {exc}")
    new_metrics = old_metrics = None
    other_metrics: dict[str, tuple[Metrics | None, Metrics | None]] = {}
    if heldout:
        from .evaluate import evaluate

        new_metrics = evaluate(new_analyzer, heldout)
        step(1)
        if old_analyzer is not None:
            old_metrics = evaluate(old_analyzer, heldout)
        for name, examples in others.items():
            if examples:
                other_metrics[name] = (
                    evaluate(old_analyzer, examples) if old_analyzer is not None else None,
                    evaluate(new_analyzer, examples),
                )
    step(RETRAIN_STAGES - 4 if heldout else RETRAIN_STAGES - 3)

    def right(analyzer: Analyzer) -> int:
        n = 0
        for ex in corrections:
            a = analyzer.analyze(ex.text)
            n += a.is_issue == ex.is_issue and a.category == ex.category
        return n

    return RetrainReport(
        model_out=model_out,
        bundle=bundle,
        n_corpus=len(kept),
        n_corrections=len(corrections),
        n_replaced=len(corpus) - len(kept),
        heldout_size=len(heldout),
        old=old_metrics,
        new=new_metrics,
        problems=problems,
        others=other_metrics,
        fixed_new=right(new_analyzer),
        fixed_old=right(old_analyzer) if old_analyzer is not None else None,
    )
