"""Sparse binary features of one message for the linear models.

Families (prefix: meaning):
  w:   jieba word                c2:  character bigram (digits folded to "0")
  c1:  character (category model only)
  kw:  category keyword family   cc:  duplicate concept        chat: chatter pattern kind
  urg… urgent pattern and its context (see urgent.py)
  loc: a building / landmark is named     shape: length bucket, question, exclamation, letter style
Keyword families make the model generalise to words it never saw in training
(a district can add words to a family without retraining).
The issue model reads only bigrams and rule features (it does as well without
words in 5-fold CV), which keeps jieba segmentation off the path of most chatter;
words are computed for likely problems and urgent candidates only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import add

from .types import Location, UrgentResult

_DIGIT_RUN = re.compile(r"\d+")
_HAS_DIGIT = re.compile(r"\d")
_LATIN_RUN = re.compile(r"[a-z]{2,}")
_PUNCT = set(" \t\n，。、！？!?,.;；:：~～…·\"'“”‘’()（）[]【】<>《》@#-_+=/\\|*&%$^")
_QUESTION_END = re.compile(r"(?:吗|呢|么|啥|没有|不)[?？]*$|[?？]\s*$")
_LETTER_START = re.compile(r"^(?:尊敬的|您好|你好[,，!！]|领导)")


# Feature strings are cached so that each distinct word / bigram is one string
# object whose hash is computed once (model lookups are most of the cost).
_CACHE_LIMIT = 300_000
_WORD_FEATS: dict[str, str] = {}
_BIGRAM_FEATS: dict[str, str] = {}
_UNIGRAM_FEATS: dict[str, str] = {}


def _word_feat(tok: str) -> str:
    feat = "w:<num>" if tok.isdigit() else "w:" + tok
    _WORD_FEATS[tok] = feat
    return feat


def _bigram_feat(gram: str) -> str:
    feat = _BIGRAM_FEATS[gram] = "c2:" + gram
    return feat


@dataclass
class Evidence:
    """Everything the rules found in a message, kept for reasons and fingerprints."""

    keywords: dict[str, list[str]]  # category -> words
    concepts: list[str]
    chatter: list[str]
    concept_words: list[str]  # surface words that belong to a concept
    first_category: str | None = None  # category of the earliest keyword (usually the subject)
    urgent_hits: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, word, position)
    required: set[str] = field(default_factory=set)  # guard idents of regexes worth running
    cues: int = 0  # words that say something is wrong ([issue_cues])


def collect(lex_hits) -> Evidence:
    """One pass over the lexicon hits: keywords, concepts, chatter words, urgent words, regex guards."""
    keywords: dict[str, list[str]] = {}
    concepts: list[str] = []
    concept_words: list[str] = []
    chatter: set[str] = set()
    urgent_hits: list[tuple[str, str, int]] = []
    required: set[str] = set()
    first: str | None = None
    cues = 0
    for pos, word, tags in lex_hits:
        for kind, value in tags:
            if kind == "kw":
                if first is None:
                    first = value
                words = keywords.get(value)
                if words is None:
                    keywords[value] = [word]
                elif word not in words:
                    words.append(word)
            elif kind == "cc":
                if value not in concepts:
                    concepts.append(value)
                if not concept_words or concept_words[-1] != word:
                    concept_words.append(word)
            elif kind == "req":
                required.add(value)
            elif kind == "chat":
                chatter.add(value)
            elif kind == "urg":
                urgent_hits.append((value, word, pos))
            elif kind == "cue":
                cues += 1
    return Evidence(keywords, concepts, list(chatter), concept_words, first, urgent_hits, required, cues)


def _bucket(n: int) -> str:
    if n <= 4:
        return "len:0"
    if n <= 10:
        return "len:1"
    if n <= 25:
        return "len:2"
    if n <= 60:
        return "len:3"
    if n <= 200:
        return "len:4"
    return "len:5"


def word_features(tokens: list[str]) -> list[str]:
    """"w:" features of jieba words (deduplicated, in order)."""
    if len(_WORD_FEATS) > _CACHE_LIMIT:
        _WORD_FEATS.clear()
    return list(dict.fromkeys([_WORD_FEATS.get(tok) or _word_feat(tok) for tok in tokens]))


def unigram_features(text: str) -> list[str]:
    """"c1:" features of the distinct characters of ``text`` (spaces and line breaks left out);
    only the category model reads them."""
    if len(_UNIGRAM_FEATS) > _CACHE_LIMIT:
        _UNIGRAM_FEATS.clear()
    get = _UNIGRAM_FEATS.get
    return [get(ch) or _unigram_feat(ch) for ch in dict.fromkeys(text) if not ch.isspace()]


def _unigram_feat(ch: str) -> str:
    feat = _UNIGRAM_FEATS[ch] = "c1:" + ch
    return feat


def shape_bigrams(text: str) -> list[str]:
    """Distinct character bigrams of ``text`` in first-seen order (digits folded to "0", Latin runs to "a").

    Returned bare ("ab", not "c2:ab"): the analyzer looks them up in a table keyed by
    the bare bigram, so no feature string is built for the thousands of bigrams the
    model has no weight for. ``bigram_features`` adds the prefix when the strings are needed.
    """
    shape = _DIGIT_RUN.sub("0", text) if _HAS_DIGIT.search(text) else text
    if _LATIN_RUN.search(shape):
        shape = _LATIN_RUN.sub("a", shape)
    # Character bigrams (trigrams add nothing in 5-fold CV and cost time); map(add) pairs
    # each character with the next one without a Python-level loop. Bigrams across a space or
    # a line break are kept here: no model has a weight for them (``bigram_features`` leaves
    # them out of training), and filtering them per message cost more than looking them up.
    return list(dict.fromkeys(map(add, shape, shape[1:])))


def bigram_features(grams: list[str]) -> list[str]:
    """"c2:" feature strings of bare bigrams (see ``shape_bigrams``), those across a space or
    line break left out."""
    if len(_BIGRAM_FEATS) > _CACHE_LIMIT:
        _BIGRAM_FEATS.clear()
    return [_BIGRAM_FEATS.get(g) or _bigram_feat(g) for g in grams if " " not in g and "\n" not in g]


def rule_features(text: str, evidence: Evidence, urgent: UrgentResult, location: Location) -> list[str]:
    """Features from the rules, urgency, location and shape of the message (distinct, in a fixed order)."""
    feats: list[str] = []
    add_feat = feats.append
    keywords = evidence.keywords
    for cat in keywords:
        add_feat("kw:" + cat)
    if keywords:
        add_feat("kwfirst:" + (evidence.first_category or ""))
        most = max(keywords, key=lambda c: len(keywords[c]))
        add_feat("kwmost:" + most)
    for concept in evidence.concepts:
        add_feat("cc:" + concept)
    for kind in evidence.chatter:
        add_feat("chat:" + kind)
    if not keywords:
        add_feat("kw:none")
    if evidence.cues:
        add_feat("cue:problem")
        if evidence.cues > 1:
            add_feat("cue:problem2")
    if urgent.hits:
        feats.extend(urgent.features())
    if location.building:
        add_feat("loc:building")
    if location.room:
        add_feat("loc:room")
    if location.landmarks:
        add_feat("loc:landmark")
    add_feat(_bucket(len(text)))
    if _QUESTION_END.search(text[-8:]):
        add_feat("shape:question")
    if "!" in text:
        add_feat("shape:excl")
    if "@" in text:
        add_feat("shape:at")
    if len(text) > 150 or _LETTER_START.match(text):
        add_feat("shape:letter")
    return list(dict.fromkeys(feats))

