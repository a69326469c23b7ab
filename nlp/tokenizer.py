"""A quiet, fast jieba tokenizer with the 小区治理 domain dictionary.

jieba's stock dictionary (350k words) takes ~1.4 s to load even from its
cache, so we ship a trimmed copy (words with frequency >= 30, ~67k words,
nlp/resources/jieba_base.txt) plus nlp/resources/domain_dict.txt and the
rules' [dictionary] words.

Segmentation is jieba's accurate mode without HMM (``cut(HMM=False)``): a DAG
of dictionary words and the maximum-probability route. ``tokens`` runs it in
jieba-rs (the ``rjieba`` binding) over that same dictionary: the same words as
``jieba.Tokenizer.cut`` (tests check both agree), ten times faster than doing
it in Python, which matters on unseen text. Recent chunks are cached.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Iterable

import rjieba

from .paths import resource_text

DOMAIN_FREQ = 200_000
"""Frequency given to domain words without an explicit one: high enough to keep them whole."""

_CHUNK_RE = re.compile(r"([\u4e00-\u9fd5]+)|[a-z0-9]+")


@lru_cache(maxsize=1)
def _base_freq() -> tuple[dict[str, int], int]:
    """Word -> count of the trimmed jieba dictionary, and the sum of the counts."""
    freq: dict[str, int] = {}
    for line in resource_text("jieba_base.txt").splitlines():
        if line and line[0] != "#":
            word, _, count = line.partition(" ")
            freq[word] = int(count)
    return freq, sum(freq.values())


def _domain_words() -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    for line in resource_text("domain_dict.txt").splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        out.append((parts[0], freq))
    return out


class Tokenizer:
    """Word segmentation (jieba dictionary and algorithm, no HMM: fast and deterministic)."""

    def __init__(self, extra_words: Iterable[tuple[str, int | None]] = ()):
        base, total = _base_freq()
        freq = dict(base)
        for word, count in [*_domain_words(), *extra_words]:
            if not word:
                continue
            count = DOMAIN_FREQ if count is None else count
            old = freq.get(word, 0)
            if count > old:
                total += count - old
                freq[word] = count
        self._freq, self._total = freq, total
        self._reference = None
        fast = rjieba.Jieba.empty()
        for word, count in freq.items():
            if count:
                fast.add_word(word, count, None)
        self._cut = fast.cut
        self._segment = lru_cache(maxsize=50_000)(self._segment_run)

    def reference_tokens(self, text: str) -> list[str]:
        """jieba's own ``cut(HMM=False)`` over the same dictionary (slow; for tests)."""
        if self._reference is None:
            # Imported here: importing jieba costs ~0.1 s (its HMM tables), and only tests need it.
            import jieba

            jieba.setLogLevel(logging.WARNING)
            prefixed = dict(self._freq)
            for word in self._freq:  # jieba's prefix dictionary: every prefix, 0 when not a word
                for i in range(1, len(word)):
                    prefixed.setdefault(word[:i], 0)
            tk = jieba.Tokenizer()
            tk.FREQ, tk.total, tk.initialized = prefixed, self._total, True
            self._reference = tk
        return [t for t in self._reference.cut(text, HMM=False) if t.strip()]

    def tokens(self, text: str) -> list[str]:
        """Words of ``text``: Han runs segmented, Latin/digit runs kept whole, the rest dropped."""
        out: list[str] = []
        for m in _CHUNK_RE.finditer(text):
            chunk = m.group(0)
            if m.lastindex == 1:
                out.extend(self._segment(chunk))
            else:
                out.append(chunk)
        return out

    def _segment_run(self, s: str) -> tuple[str, ...]:
        """Words of one run of Han characters (jieba's DAG and route, HMM off)."""
        return tuple(self._cut(s, False))
