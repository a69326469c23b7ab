"""Linear models in plain Python: logistic regression (binary and softmax).

Trained with AdaGrad SGD and L2, deterministic for a given seed and data order.
Saved as one JSON file (nlp/model/model.json) holding four models:
``issue`` (is it a problem?), ``category`` (which kind, trained on problems only),
``urgent`` (does it need action now?, over the messages where an urgent pattern
fired) and ``urgent_text`` (the same question from the words alone, over all
problems: it catches emergencies told in words no pattern knows).
"""
from __future__ import annotations

import json
import math
import os
import random
import re
import sys
import tempfile
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import repeat
from operator import add
from pathlib import Path
from typing import Any, Sequence

FORMAT = "zhibu-nlp-linear"
FORMAT_VERSION = 4  # 3: the category model may carry an "l2" normalisation table; 4: a "category_char" view


def _is_number(value: object) -> bool:
    return type(value) is float or type(value) is int


class _FloatPool(dict):
    """Number text -> one shared float: weights rounded to five decimals repeat a lot (~430k
    values, ~50k distinct), and one object per value was a quarter of the loaded model.
    ``json.loads(parse_float=pool.__getitem__)`` calls Python only for a value not seen yet."""

    def __missing__(self, text: str) -> float:
        value = self[text] = float(text)
        return value


# A character outside the Basic Multilingual Plane (an emoji in a bigram) makes Python store
# the whole decoded file at four bytes per character; written as a JSON escape it stays two.
_ASTRAL_UTF8 = re.compile(rb"[\xf0-\xf4][\x80-\xbf]{3}")


def _escape_astral(match: re.Match[bytes]) -> bytes:
    code = ord(match.group().decode("utf-8")) - 0x10000
    return b"\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def read_json(path: Path | str) -> Any:
    """The model file parsed with the least memory (same values as ``json.load``)."""
    with open(path, "rb") as fh:
        data = fh.read()
    text = _ASTRAL_UTF8.sub(_escape_astral, data).decode("utf-8")
    del data
    return json.loads(text, parse_float=_FloatPool().__getitem__)


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-min(z, 60.0)))
    e = math.exp(max(z, -60.0))
    return e / (1.0 + e)


@dataclass
class BinaryModel:
    bias: float = 0.0
    weights: dict[str, float] = field(default_factory=dict)

    def score(self, feats: Sequence[str]) -> float:
        return self.bias + sum(map(self.weights.get, feats, repeat(0.0, len(feats))))

    def proba(self, feats: Sequence[str]) -> float:
        return sigmoid(self.score(feats))

    def contributions(self, feats: Sequence[str]) -> list[tuple[float, str]]:
        get = self.weights.get
        return [(get(f, 0.0), f) for f in feats if f in self.weights]

    @classmethod
    def train(
        cls,
        X: Sequence[Sequence[str]],
        y: Sequence[int],
        sample_weight: Sequence[float] | None = None,
        *,
        epochs: int = 12,
        lr: float = 0.3,
        l2: float = 1e-4,
        seed: int = 13,
    ) -> "BinaryModel":
        w: dict[str, float] = {}
        g2: dict[str, float] = {}
        b, gb = 0.0, 1e-8
        sw = sample_weight or [1.0] * len(X)
        order = list(range(len(X)))
        rng = random.Random(seed)
        for _ in range(epochs):
            rng.shuffle(order)
            for i in order:
                feats = X[i]
                z = b + sum(w.get(f, 0.0) for f in feats)
                g = (sigmoid(z) - y[i]) * sw[i]
                if g == 0.0:
                    continue
                gb += g * g
                b -= lr * g / math.sqrt(gb)
                for f in feats:
                    wf = w.get(f, 0.0)
                    grad = g + l2 * wf
                    acc = g2.get(f, 1e-8) + grad * grad
                    g2[f] = acc
                    w[f] = wf - lr * grad / math.sqrt(acc)
        return cls(round(b, 5), {f: round(v, 5) for f, v in sorted(w.items()) if abs(v) >= 1e-4})

    def to_json(self) -> dict[str, Any]:
        return {"bias": self.bias, "weights": self.weights}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "BinaryModel":
        weights = data["weights"]
        # JSON already gives str keys and numbers; converting 40k values again costs load time.
        if not isinstance(weights, dict) or not all(map(_is_number, weights.values())):
            raise ValueError("模型文件中的权重格式错误 (bad weights)")
        return cls(float(data["bias"]), weights)


class PackedVectors(Mapping):
    """Per-class weight vectors read from integers that pack one vector each (a 64-bit field per
    class: the weight in units of 1 / ``scale`` plus ``offset``; see nlp/analyzer.py,
    BareSoftmaxScorer). Once the scorer has packed the category model, the ~27k lists of floats
    are only read to explain a decision: they are decoded on demand instead of kept. Only used
    when every weight decodes to the value it was packed from."""

    __slots__ = ("packed", "k", "fields", "scale", "offset", "extra")

    def __init__(
        self, packed: dict[str, int], k: int, scale: int, offset: int, fields: int | None = None,
        extra: dict[str, int] | None = None,
    ):
        self.packed = packed
        self.k = k
        # More fields than k: the integers also carry the category's character view (nlp/analyzer.py,
        # BareSoftmaxScorer), and ``extra`` holds the integers of the features only that view has.
        self.fields = fields or k
        self.extra = extra or {}
        self.scale = scale
        self.offset = offset

    def __getitem__(self, feature: str) -> list[float]:
        fields = array("Q")
        fields.frombytes(self.packed[feature].to_bytes(8 * self.fields, sys.byteorder))
        offset, scale = self.offset, self.scale
        return [(n - offset) / scale for n in fields[: self.k]]

    def __contains__(self, feature: object) -> bool:
        return feature in self.packed

    def __iter__(self):
        return iter(self.packed)

    def __len__(self) -> int:
        return len(self.packed)


@dataclass
class SoftmaxModel:
    classes: list[str] = field(default_factory=list)
    bias: list[float] = field(default_factory=list)
    weights: dict[str, list[float]] | PackedVectors = field(default_factory=dict)
    # Squared value of each feature before normalisation (nlp/svm.py): when set, the
    # weight sum is divided by the message's L2 norm, sqrt(sum of l2 over its features).
    l2: dict[str, float] | None = None

    def norm(self, feats: Sequence[str]) -> float:
        if self.l2 is None:
            return 1.0
        return math.sqrt(sum(filter(None, map(self.l2.get, dict.fromkeys(feats))))) or 1.0

    def scores(self, feats: Sequence[str]) -> list[float]:
        feats = list(dict.fromkeys(feats))
        vecs = [v for v in map(self.weights.get, feats) if v is not None]
        if not vecs:
            return list(self.bias)
        norm = self.norm(feats)
        return [b + sum(col) / norm for b, col in zip(self.bias, zip(*vecs))]

    def proba(self, feats: Sequence[str]) -> list[float]:
        return softmax(self.scores(feats))

    def contributions(self, feats: Sequence[str], index: int) -> list[tuple[float, str]]:
        get = self.weights.get
        return [(get(f)[index], f) for f in feats if f in self.weights]

    @classmethod
    def train(
        cls,
        X: Sequence[Sequence[str]],
        y: Sequence[str],
        classes: Sequence[str],
        sample_weight: Sequence[float] | None = None,
        *,
        epochs: int = 12,
        lr: float = 0.3,
        l2: float = 1e-4,
        seed: int = 17,
    ) -> "SoftmaxModel":
        classes = list(classes)
        k = len(classes)
        index = {c: i for i, c in enumerate(classes)}
        w: dict[str, list[float]] = {}
        g2: dict[str, list[float]] = {}
        b = [0.0] * k
        gb = [1e-8] * k
        sw = sample_weight or [1.0] * len(X)
        order = list(range(len(X)))
        rng = random.Random(seed)
        zero = [0.0] * k
        for _ in range(epochs):
            rng.shuffle(order)
            for i in order:
                feats = X[i]
                scores = list(b)
                for f in feats:
                    vec = w.get(f)
                    if vec is not None:
                        scores = list(map(add, scores, vec))
                probs = softmax(scores)
                target = index[y[i]]
                probs[target] -= 1.0
                g = [p * sw[i] for p in probs]
                for j in range(k):
                    gb[j] += g[j] * g[j]
                    b[j] -= lr * g[j] / math.sqrt(gb[j])
                for f in feats:
                    vec = w.get(f)
                    if vec is None:
                        vec = w[f] = list(zero)
                        acc = g2[f] = [1e-8] * k
                    else:
                        acc = g2[f]
                    for j in range(k):
                        grad = g[j] + l2 * vec[j]
                        acc[j] += grad * grad
                        vec[j] -= lr * grad / math.sqrt(acc[j])
        weights = {
            f: [round(v, 5) for v in vec] for f, vec in sorted(w.items()) if max(abs(v) for v in vec) >= 1e-4
        }
        return cls(classes, [round(v, 5) for v in b], weights)

    def to_json(self) -> dict[str, Any]:
        weights = self.weights if isinstance(self.weights, dict) else dict(self.weights.items())
        out: dict[str, Any] = {"classes": self.classes, "bias": self.bias, "weights": weights}
        if self.l2 is not None:
            out["l2"] = self.l2
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SoftmaxModel":
        classes = list(data["classes"])
        weights = data["weights"]
        k = len(classes)
        if not isinstance(weights, dict) or any(len(v) != k for v in weights.values()):
            raise ValueError("模型文件中的权重格式错误 (bad weights)")
        l2 = data.get("l2")
        if l2 is not None and (not isinstance(l2, dict) or not all(map(_is_number, l2.values()))):
            raise ValueError("模型文件中的权重格式错误 (bad l2 table)")
        return cls(classes, [float(v) for v in data["bias"]], weights, l2)


def softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


@dataclass
class ModelBundle:
    """The models plus training metadata (``urgent_text`` is absent in version-1 files).

    ``category_char`` (version 4, optional) is a second view of the category: a TF-IDF
    SVM over characters and character bigrams alone (nlp/svm.py). The category scores are
    then ``(1 - category_char_weight) * category + category_char_weight * category_char``,
    a weighted product of the two views' probabilities (nlp/analyzer.py)."""

    issue: BinaryModel
    category: SoftmaxModel
    urgent: BinaryModel
    meta: dict[str, Any] = field(default_factory=dict)
    urgent_text: BinaryModel | None = None
    category_char: SoftmaxModel | None = None
    category_char_weight: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "meta": self.meta,
            "issue": self.issue.to_json(),
            "category": self.category.to_json(),
            "urgent": self.urgent.to_json(),
            **({"urgent_text": self.urgent_text.to_json()} if self.urgent_text else {}),
            **(
                {"category_char": self.category_char.to_json(), "category_char_weight": self.category_char_weight}
                if self.category_char else {}
            ),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModelBundle":
        if data.get("format") != FORMAT:
            raise ValueError("不是支部助手的模型文件 (unknown model format)")
        if int(data.get("version", 0)) > FORMAT_VERSION:
            raise ValueError(f"模型文件版本过新: {data.get('version')}")
        category = SoftmaxModel.from_json(data["category"])
        char = SoftmaxModel.from_json(data["category_char"]) if "category_char" in data else None
        if char is not None and char.classes != category.classes:
            raise ValueError("模型文件中的类别不一致 (category views disagree on classes)")
        return cls(
            BinaryModel.from_json(data["issue"]),
            category,
            BinaryModel.from_json(data["urgent"]),
            dict(data.get("meta", {})),
            BinaryModel.from_json(data["urgent_text"]) if "urgent_text" in data else None,
            char,
            float(data.get("category_char_weight", 0.0)) if char else 0.0,
        )

    @classmethod
    def load(cls, path: Path | str) -> "ModelBundle":
        return cls.from_json(read_json(path))

    def save(self, path: Path | str) -> Path:
        """Write atomically (temp file in the same directory, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".model-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_json(), fh, ensure_ascii=False, separators=(",", ":"))
                fh.write("\n")
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path
