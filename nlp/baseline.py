"""The standard baseline a user would pick instead of this module (development only).

scikit-learn TF-IDF over character 1–2-grams + LinearSVC with default settings,
trained on the same nlp/data/train lines: one classifier for is_issue, one for the
category (over problems) and one for urgent. scikit-learn is a test/dev extra and is
imported here only; the analyzer never needs it.
"""
from __future__ import annotations

from typing import Sequence

from .corpus import Example


class Baseline:
    def __init__(self, train: Sequence[Example]):
        try:
            from sklearn.feature_extraction.text import TfidfVectorizer
            from sklearn.pipeline import make_pipeline
            from sklearn.svm import LinearSVC
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise SystemExit("基线需要 scikit-learn（pip install -e '.[test]'）") from exc

        def model():
            return make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 2)), LinearSVC())

        general = [e for e in train if not e.urgent_only]
        self.issue = model().fit([e.text for e in general], [int(e.is_issue) for e in general])
        problems = [e for e in general if e.is_issue]
        self.category = model().fit([e.text for e in problems], [e.category for e in problems])
        self.urgent = model().fit([e.text for e in train], [int(e.urgent) for e in train])

    def predict(self, texts: Sequence[str]) -> list[tuple[bool, str, bool]]:
        texts = list(texts)
        issue = self.issue.predict(texts)
        cats = self.category.predict(texts)
        urgent = self.urgent.predict(texts)
        out = []
        for i, c, u in zip(issue, cats, urgent):
            # Like the analyzer, an emergency is always a problem.
            is_issue = bool(i) or bool(u)
            out.append((is_issue, str(c) if is_issue else "none", bool(u)))
        return out
