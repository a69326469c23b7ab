"""The Analyzer: rules + tokenizer + linear models -> Analysis. Pure and deterministic."""
from __future__ import annotations

import logging
import math
import re
import sys
from array import array
from itertools import repeat
from operator import sub, truediv
from pathlib import Path
from sys import intern

from . import duplicates
from .features import Evidence, bigram_features, collect, rule_features, shape_bigrams, unigram_features, word_features
from .location import extract as extract_location
from .model import BinaryModel, ModelBundle, PackedVectors, SoftmaxModel, sigmoid, softmax
from .normalize import MAX_MODEL_CHARS, normalize, to_text
from .paths import DEFAULT_MODEL_PATH
from .pii import find_pii
from .rules import Rules
from .tokenizer import Tokenizer
from .types import NOT_URGENT, Analysis, Location, PiiSpan, UrgentResult
from .urgent import detect, happening_now, situation

CHATTER_NAMES = {
    "greeting": "问候",
    "groupbuy": "团购接龙",
    "thanks": "感谢",
    "resolved": "已解决",
    "notice": "通知公告",
    "trade": "买卖广告",
    "social": "闲聊",
    "question": "咨询",
    "lost_found": "失物招领",
}
_HAS_CONTENT = re.compile(r"[\u3400-\u9fffa-z0-9]")
_READABLE_PREFIXES = ("w:", "c3:", "c2:")
_UNREADABLE = re.compile(r"[0<>\s!?,.:;~#@()\[\]，。！？：、]")


def _chatter_kinds(window: str, evidence: Evidence, rules: Rules) -> list[str]:
    """Chatter kinds: literal words already found plus regexes whose guard literal was seen."""
    found = set(evidence.chatter)
    candidates = [rules.guards[i] for i in evidence.required if i in rules.guards]
    candidates.extend(rules.unguarded)
    for domain, kind, g in candidates:
        if domain == "chat" and kind not in found and g.pattern.search(window):
            found.add(kind)
    return [k for k in rules.chatter_kinds if k in found]


class Prepared:
    """Intermediate results for one text (shared by analysis and training).

    The bigrams are kept bare (``grams``) and the full feature list (``features``:
    "c2:" bigram features + rule features) is only built for training: at analysis
    time the binary models read the bigrams through a bare-bigram table (BareScorer).
    """

    __slots__ = ("raw", "norm", "window", "truncated", "evidence", "urgent", "location",
                 "grams", "rule_features", "_features", "_tokens", "_words")

    def __init__(self, raw: str, norm: str, window: str, truncated: bool, evidence: Evidence,
                 urgent: UrgentResult, location: Location, grams: list[str], rule_features: list[str]):
        self.raw = raw
        self.norm = norm
        self.window = window
        self.truncated = truncated
        self.evidence = evidence
        self.urgent = urgent
        self.location = location
        self.grams = grams  # distinct bare bigrams of the window ("ab")
        self.rule_features = rule_features
        self._features: list[str] | None = None
        self._tokens: list[str] | None = None
        self._words: list[str] | None = None

    @property
    def features(self) -> list[str]:
        """Base features: "c2:" bigrams + rule features (what the models are trained on)."""
        if self._features is None:
            self._features = bigram_features(self.grams) + self.rule_features
        return self._features


def _bare_bigrams(weights: dict) -> dict:
    """The "c2:ab" entries of a weight table keyed by the bare bigram "ab" (one shared string per
    bigram for all the scorers: interned, as the four models know mostly the same bigrams)."""
    return {intern(f[3:]): w for f, w in weights.items() if f[:3] == "c2:"}


class BareScorer:
    """A binary model read through bare bigrams: the same sum as ``BinaryModel.proba`` over
    "c2:" bigram features plus other features, without building a "c2:" string per bigram."""

    def __init__(self, model: BinaryModel):
        self.bias = model.bias
        self.weights = model.weights
        self.bigrams = _bare_bigrams(model.weights)

    def proba(self, grams: list[str], *features: list[str]) -> float:
        # Absent features (None) are left out, as they add 0.0 in BinaryModel.score; filter() is
        # much cheaper than a default value per lookup (map with two iterables).
        total = sum(filter(None, map(self.bigrams.get, grams)))
        for feats in features:
            total = sum(filter(None, map(self.weights.get, feats)), total)
        return sigmoid(self.bias + total)


class BareSoftmaxScorer:
    """The category model read through bare bigrams (see BareScorer): scores of all classes.

    Adding a dozen class weights per feature in Python was a third of the time spent on a
    problem report. Instead each feature's weight vector is packed into one integer, a
    64-bit field per class holding the weight in units of 1e-5 (the model file stores five
    decimals, so this is exact) plus an offset that keeps every field non-negative: summing
    the features' integers sums all classes at once, in C, without carries between fields
    (a field holds at most ~2,400 features x 2**40 < 2**64).
    """

    SCALE = 100_000
    OFFSET = 1 << 40

    def __init__(self, model: SoftmaxModel, char: SoftmaxModel | None = None, mix: float = 0.0):
        if char is not None and (model.l2 is not None or char.l2 is None or char.classes != model.classes):
            raise ValueError("字符视图只能与 softmax 类别模型混合 (char view needs a softmax category model)")
        self.model = model
        self.weights = model.weights
        # L2 normalisation (nlp/svm.py): each feature's squared value rides in one more field.
        self.l2 = model.l2 if char is None else char.l2
        # The character view (ModelBundle.category_char): its k fields follow the model's in the
        # same integer, so a bigram is looked up once for both views; the message's scores are
        # (1 - mix) * model + mix * view, the view's sum divided by the message's L2 norm.
        self.char = char
        self.mix = mix if char is not None else 0.0
        self.bias = model.bias if char is None else [(1.0 - mix) * a + mix * b for a, b in zip(model.bias, char.bias)]
        self.reads_chars = self.l2 is not None  # only the SVMs (nlp/svm.py) have "c1:" features
        self._packed: tuple[dict[str, int], dict[str, int], dict[str, int]] | None = None

    def _pack(self) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        # Built on first use, not at load: it is only needed once a problem arrives.
        k = len(self.bias)
        zeros = [0.0] * k
        weights, l2, char = self.weights, self.l2, self.char
        scale, offset = self.SCALE, self.OFFSET
        fields = k if l2 is None else k + 1 if char is None else 2 * k + 1
        if (
            isinstance(weights, PackedVectors) and (l2 is None or char is not None)
            and (weights.scale, weights.offset, weights.fields) == (scale, offset, fields)
        ):
            return self._index(weights.packed, weights.extra)  # packed already (another analyzer over this model)
        keys = list(weights) if l2 is None else list(dict.fromkeys([*weights, *(char.weights if char else ()), *l2]))
        size = 8 * fields
        order = sys.byteorder
        packed: dict[str, int] = {}
        exact = l2 is None or char is not None
        # A slice of the features at a time: the flat values of all of them (~350k) were a
        # transient peak of several MB on the first problem.
        step = 4096
        for start in range(0, len(keys), step):
            part = keys[start : start + step]
            if l2 is None:
                values = [w for f in part for w in weights[f]]
            elif char is None:
                values = [w for f in part for w in (*weights.get(f, zeros), l2.get(f, 0.0))]
            else:
                cw = char.weights
                values = [w for f in part for w in (*weights.get(f, zeros), *cw.get(f, zeros), l2.get(f, 0.0))]
            flat = [round(w * scale) + offset for w in values]
            # Equal (0.0 == -0.0, which no score or explanation tells apart) for weights of at
            # most five decimals, as the model files store them.
            exact = exact and list(map(truediv, map(sub, flat, repeat(offset)), repeat(scale))) == values
            raw = array("Q", flat).tobytes()
            packed.update((f, int.from_bytes(raw[i * size : (i + 1) * size], order)) for i, f in enumerate(part))
        # Features only the character view has (its characters, rarer bigrams) are kept apart, so
        # that the model's own feature set stays its own.
        extra = {f: packed.pop(f) for f in keys[len(weights):]} if char is not None else {}
        if exact and isinstance(weights, dict):
            # The model's own lists are no longer needed: it reads its vectors from the integers.
            self.weights = self.model.weights = PackedVectors(packed, k, scale, offset, fields, extra)
        return self._index(packed, extra)

    def _index(self, packed: dict[str, int], extra: dict[str, int]) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        both = {**packed, **extra}
        bigrams = {intern(f[3:]): v for f, v in both.items() if f[:3] == "c2:"}
        chars = {f[3:]: v for f, v in both.items() if f[:3] == "c1:"}
        self._packed = packed, bigrams, chars
        return self._packed

    def scores(self, grams: list[str], *features: list[str], chars: set[str] | str = "") -> list[float]:
        """Class scores of a message: its bare bigrams, feature lists (distinct, no feature in two
        lists) and its distinct characters (``chars``, for the "c1:" features)."""
        packed, bigrams, unigrams = self._packed or self._pack()
        # filter(None): absent features are None, and no packed vector is 0 (every field holds OFFSET).
        vals = list(filter(None, map(bigrams.get, grams)))
        for feats in features:
            vals.extend(filter(None, map(packed.get, feats)))
        if chars:
            vals.extend(filter(None, map(unigrams.get, chars)))
        if not vals:
            return list(self.bias)
        k = len(self.bias)
        char = self.char is not None
        fields = array("Q")
        fields.frombytes(sum(vals).to_bytes(8 * (k * (1 + char) + (self.l2 is not None)), sys.byteorder))
        base, scale = len(vals) * self.OFFSET, self.SCALE
        if self.l2 is not None:
            # The last field sums the squared feature values: the message's L2 norm.
            norm = math.sqrt((fields[-1] - base) / self.SCALE) or 1.0
            if char:
                # sum(model) * (1 - mix) + sum(view) * mix / norm, both in units of 1 / SCALE.
                a, b = (1.0 - self.mix) / scale, self.mix / (scale * norm)
                return [c + (f - base) * a + (g - base) * b for c, f, g in zip(self.bias, fields, fields[k:])]
            scale *= norm
        return [b + (f - base) / scale for b, f in zip(self.bias, fields)]


class Analyzer:
    """Load once (``Analyzer.load()``), then call ``analyze(text)`` as often as needed."""

    def __init__(self, rules: Rules, bundle: ModelBundle | None, tokenizer: Tokenizer | None = None):
        self.rules = rules
        self.bundle = bundle
        self.tokenizer = tokenizer or Tokenizer(rules.dictionary_words)
        self.issue_threshold = float(rules.settings.get("issue_threshold", 0.5))
        self.urgent_threshold = float(rules.settings.get("urgent_threshold", 0.5))
        self.urgent_text_threshold = float(rules.settings.get("urgent_text_threshold", 1.01))
        self.urgent_text_issue_gate = float(rules.settings.get("urgent_text_issue_gate", 0.9))
        self.duplicate_threshold = float(rules.settings.get("duplicate_threshold", 0.34))
        self.labels = dict(rules.labels)
        model_classes = set(bundle.category.classes) if bundle else set()
        self.rule_only_categories = tuple(c for c in rules.labels if c not in model_classes and rules.keywords.get(c))
        self.issue_scorer = BareScorer(bundle.issue) if bundle else None
        self.urgent_scorer = BareScorer(bundle.urgent) if bundle else None
        self.category_scorer = (
            BareSoftmaxScorer(bundle.category, bundle.category_char, bundle.category_char_weight) if bundle else None
        )
        self.urgent_text_scorer = BareScorer(bundle.urgent_text) if bundle and bundle.urgent_text else None

    @classmethod
    def load(cls, model_path: Path | str | None = None, rules_path: Path | str | None = None) -> "Analyzer":
        """Default model and rules, or a district's own (rules_path extends the defaults)."""
        rules = Rules.load(rules_path)
        path = Path(model_path) if model_path is not None else DEFAULT_MODEL_PATH
        if not path.exists() and model_path is not None:
            # A district model that has not been trained yet: use the shipped one.
            logging.getLogger("nlp").warning("模型文件不存在，使用内置模型: %s", path)
            path = DEFAULT_MODEL_PATH
        bundle = ModelBundle.load(path) if path.exists() else None
        return cls(rules, bundle)

    # -- pipeline -------------------------------------------------------------
    def prepare(self, text: object) -> Prepared:
        raw = to_text(text)
        norm = normalize(raw)
        window = norm[:MAX_MODEL_CHARS]
        lex_hits = self.rules.lexicon.scan(window)
        evidence = collect(lex_hits)
        evidence.chatter = _chatter_kinds(window, evidence, self.rules)
        urgent = detect(norm, self.rules, evidence, len(window)) if norm else NOT_URGENT
        location = extract_location(window, self.rules.lexicon, lex_hits)
        grams = shape_bigrams(window)
        rules_feats = rule_features(window, evidence, urgent, location)
        return Prepared(raw, norm, window, len(norm) > MAX_MODEL_CHARS, evidence, urgent, location, grams, rules_feats)

    def tokens(self, p: Prepared) -> list[str]:
        """jieba words of the analysed window (computed on first use)."""
        if p._tokens is None:
            p._tokens = self.tokenizer.tokens(p.window) if p.window else []
        return p._tokens

    def words(self, p: Prepared) -> list[str]:
        """"w:" features of the jieba words (computed on first use)."""
        if p._words is None:
            p._words = word_features(self.tokens(p))
        return p._words

    def full_features(self, p: Prepared) -> list[str]:
        """Words, character bigrams and rule features: what the category and urgent models learn from."""
        return self.words(p) + p.features

    def category_features(self, p: Prepared) -> list[str]:
        """Full features plus characters: what the category model learns from."""
        return self.full_features(p) + unigram_features(p.window)

    def urgent_text_features(self, p: Prepared) -> list[str]:
        """Full features without the urgent-pattern ones: what the text says, not the rules."""
        return [f for f in self.full_features(p) if f[:3] != "urg"]

    def _urgent_in_other_words(self, p: Prepared) -> float:
        """Probability that a problem no urgent pattern matched is an emergency anyway (0.0 when it
        says the trouble is over or only hypothetical: the same veto as for the patterns)."""
        if self.urgent_text_scorer is None:
            return 0.0
        # No pattern fired, so the rule features hold no urgent-pattern feature: this is
        # the model over ``urgent_text_features(p)``.
        prob = self.urgent_text_scorer.proba(p.grams, self.words(p), p.rule_features)
        if prob < self.urgent_text_threshold:
            return prob
        return prob if happening_now(situation(p.window, self.rules)) else 0.0

    def analyze(self, text: object) -> Analysis:
        try:
            return self._analyze(text)
        except Exception as exc:  # never let a message crash the bot
            raw = to_text(text) if not isinstance(text, str) else text
            return Analysis(
                text=raw if isinstance(raw, str) else "",
                is_issue=False,
                confidence=0.0,
                category="none",
                urgent=False,
                reasons=(f"分析出错:{type(exc).__name__}",),
                category_label="非问题",
            )

    def _analyze(self, text: object) -> Analysis:
        p = self.prepare(text)
        pii: tuple[PiiSpan, ...] = find_pii(p.raw)
        if not p.norm or not _HAS_CONTENT.search(p.window):
            return Analysis(
                text=p.raw, is_issue=False, confidence=1.0, category="none", urgent=False,
                reasons=("无文字内容",), pii=pii, category_label="非问题",
            )
        reasons: list[str] = []
        bundle = self.bundle

        # Is it a problem? -----------------------------------------------------
        p_issue = self.issue_scorer.proba(p.grams, p.rule_features) if bundle else (0.9 if p.evidence.keywords else 0.1)
        is_issue = p_issue >= self.issue_threshold

        # Urgent? --------------------------------------------------------------
        u = p.urgent
        p_urgent = 0.0
        if u.hits:
            p_urgent = (
                self.urgent_scorer.proba(p.grams, self.words(p), p.rule_features) if bundle else (1.0 if u.urgent else 0.0)
            )
        # The context rules are a veto: the model may not overrule a message that says it is
        # over ("已经处理好了") or only hypothetical ("要是困人了咋办") with nothing happening now.
        urgent = u.urgent and p_urgent >= self.urgent_threshold
        if u.urgent and p.truncated and not urgent:
            # The model only saw the first MAX_MODEL_CHARS characters: the rules decide.
            urgent = True
        if urgent:
            reasons.append(f"紧急:{u.word}（{u.label}）")
            if not is_issue:
                reasons.append("紧急情况按问题处理")
            is_issue = True
        elif u.hits:
            why = (
                "已处理" if "resolved" in u.context
                else "长期/反复/夸张" if "chronic" in u.context and "now" not in u.context
                else "假设/提醒/玩笑" if "not_real" in u.context
                else "概率低"
            )
            reasons.append(f"非紧急:{u.word}（{why}）")
        elif p_issue >= self.urgent_text_issue_gate:
            p_text = self._urgent_in_other_words(p)
            if p_text >= self.urgent_text_threshold:
                urgent, p_urgent = True, p_text
                reasons.append(f"紧急:模型判断（概率{p_text:.2f}，未命中紧急词）")

        # Which kind? ----------------------------------------------------------
        category = "none"
        cat_conf = 0.0
        if is_issue:
            category, cat_conf, cat_reason = self._category(p, u if urgent and u.hits else None)
            reasons.extend(cat_reason)
            confidence = max(p_issue, p_urgent if urgent else 0.0)
            reasons.append(f"模型:问题概率{p_issue:.2f}")
        else:
            confidence = 1.0 - p_issue
            kinds = [CHATTER_NAMES.get(k, k) for k in p.evidence.chatter]
            if kinds:
                reasons.append("闲聊:" + "、".join(dict.fromkeys(kinds)))
            reasons.append(f"模型:问题概率{p_issue:.2f}")
        if bundle and is_issue and category in bundle.category.classes and not p.evidence.keywords.get(category):
            # No keyword of the chosen category: name the words the model relied on instead.
            top = self._top_words(bundle.category, p._words or [], bundle.category.classes.index(category))
            if top:
                reasons.append("特征:" + "、".join(top))
        label = p.location.label()
        if label:
            reasons.append(f"位置:{label}")
        if p.truncated:
            reasons.append(f"截断:仅分析前{MAX_MODEL_CHARS}字（紧急词与个人信息已全文检查）")

        fingerprint = duplicates.fingerprint(p.evidence, self.tokens(p), category) if is_issue else frozenset()
        return Analysis(
            text=p.raw,
            is_issue=is_issue,
            confidence=round(min(1.0, max(0.0, confidence)), 4),
            category=category,
            urgent=urgent,
            location=p.location,
            reasons=tuple(reasons),
            fingerprint=fingerprint,
            pii=pii,
            category_label=self.labels.get(category, "非问题" if category == "none" else category),
            issue_probability=round(p_issue, 4),
            urgent_kind=(u.kind or "unlisted") if urgent else None,
            truncated=p.truncated,
            category_confidence=round(cat_conf, 4),
        )

    def _category(self, p: Prepared, urgent: UrgentResult | None) -> tuple[str, float, list[str]]:
        reasons: list[str] = []
        kw = p.evidence.keywords
        # District categories the model does not know: keywords decide.
        rule_hits = [(len(kw[c]), c) for c in self.rule_only_categories if c in kw]
        if rule_hits:
            rule_hits.sort(key=lambda h: (-h[0], self.rule_only_categories.index(h[1])))
            cat = rule_hits[0][1]
            reasons.append("关键词:" + "、".join(kw[cat][:3]))
            return cat, 0.9, reasons
        if self.bundle is None:
            cats = sorted(kw, key=lambda c: -len(kw[c]))
            cat = cats[0] if cats else (urgent.category if urgent and urgent.category else "other")
            return cat, 0.5, reasons
        model = self.bundle.category
        scores = self.category_scorer.scores(p.grams, self.words(p), p.rule_features, chars=set(p.window) if self.category_scorer.reads_chars else "")
        if urgent is not None and urgent.category in model.classes:
            # Labelling conventions: gas leak -> safety, lift entrapment -> elevator, ...
            kind = self.rules.urgent_by_name.get(urgent.kind or "")
            scores[model.classes.index(urgent.category)] += kind.category_weight if kind else 1.0
        probs = softmax(scores)
        best = max(range(len(probs)), key=probs.__getitem__)
        cat, conf = model.classes[best], probs[best]
        if urgent is not None and cat == urgent.category:
            reasons.append(f"类别:{urgent.label}")
        words = kw.get(cat, [])
        if words:
            reasons.append("关键词:" + "、".join(words[:3]))
        return cat, conf, reasons

    @staticmethod
    def _top_words(model: SoftmaxModel, words: list[str], index: int, n: int = 3) -> list[str]:
        """The words (two characters or more) that pointed most to the chosen category."""
        contrib = [(w, f) for w, f in model.contributions([f for f in words if len(f) > 3], index) if w > 0]
        contrib.sort(key=lambda x: (-x[0], x[1]))
        out: list[str] = []
        for _, f in contrib:
            word = f[2:]
            if _UNREADABLE.search(word) or any(word in o or o in word for o in out):
                continue
            out.append(word)
            if len(out) == n:
                break
        return out

    # -- duplicates -----------------------------------------------------------
    def similarity(self, a: Analysis, b: Analysis) -> float:
        return duplicates.similarity(a, b)

    def is_duplicate(self, a: Analysis, b: Analysis) -> bool:
        return duplicates.is_duplicate(a, b, threshold=self.duplicate_threshold)
