"""Rules: keyword families, urgent patterns, chatter patterns, landmarks, concepts.

Defaults live in nlp/rules.toml; a district file is merged on top of them
(lists extend, scalars replace, a table with ``replace = true`` replaces).
Everything here is compiled once per Analyzer; matching is pure.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from re import _parser as sre_parse  # the regex parser: rule guards are read off its tree
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

import ahocorasick_rs

from .normalize import normalize, to_simplified
from .paths import DEFAULT_RULES_PATH

DEFAULT_SETTINGS: dict[str, Any] = {
    "issue_threshold": 0.5,
    "duplicate_threshold": 0.34,
}


@dataclass(frozen=True)
class UrgentKind:
    name: str
    label: str
    category: str | None
    patterns: tuple["GuardedPattern", ...]  # the non-literal patterns; literal ones live in the lexicon
    category_weight: float = 1.0


class Lexicon:
    """Exact substring lookup of many short words at once: one Aho–Corasick pass
    (``ahocorasick_rs``, in Rust) finds every occurrence of every word."""

    def __init__(self, entries: dict[str, tuple[tuple[str, str], ...]]):
        self.entries = entries
        self._words = [w for w in entries if w]
        self._tags = [entries[w] for w in self._words]
        self._find = ahocorasick_rs.AhoCorasick(self._words).find_matches_as_indexes if self._words else None
        # words tagged as landmarks, so the location parser can pick its hits with a set lookup
        self.landmark_words = frozenset(w for w, tags in entries.items() if any(t[0] == "lm" for t in tags))

    def scan(self, text: str) -> list[tuple[int, str, tuple[tuple[str, str], ...]]]:
        """All (start, word, tags) occurrences, by start, longest first at each start."""
        if self._find is None or not text:
            return []
        found = [(start, start - end, i) for i, start, end in self._find(text, overlapping=True)]
        if not found:
            return found
        found.sort()
        words, tags = self._words, self._tags
        return [(start, words[i], tags[i]) for start, _, i in found]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    for key, value in over.items():
        if isinstance(value, dict):
            if value.get("replace") is True:
                base[key] = {k: v for k, v in value.items() if k != "replace"}
            elif isinstance(base.get(key), dict):
                base[key] = _merge(base[key], value)
            else:
                base[key] = copy.deepcopy(value)
        elif isinstance(value, list) and isinstance(base.get(key), list):
            seen = set(map(repr, base[key]))
            base[key] = base[key] + [v for v in value if repr(v) not in seen]
        else:
            base[key] = value
    return base


def load_raw(rules_path: Path | str | None = None) -> dict[str, Any]:
    """Default rules merged with an optional district file (raw TOML data)."""
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    if rules_path is not None:
        with open(rules_path, "rb") as fh:
            district = tomllib.load(fh)
        data = _merge(data, district)
    return data


def _invalid(what: str, pattern: str, exc: Exception) -> ValueError:
    return ValueError(f"规则文件中的正则表达式无效（{what}）: {pattern!r}: {exc}")


def _compile_any(patterns: Iterable[str], what: str) -> re.Pattern[str] | None:
    # Messages are matched in their normalised form, so the patterns must be too.
    pats = [to_simplified(str(pat)) for pat in patterns]
    if not pats:
        return None
    try:
        # Compiled once (rule loading is most of the model's load time).
        return re.compile(pats[0] if len(pats) == 1 else "|".join(f"(?:{pat})" for pat in pats))
    except re.error as joined:
        for pat in pats:  # name the pattern at fault
            try:
                re.compile(pat)
            except re.error as exc:
                raise _invalid(what, pat, exc) from exc
        raise _invalid(what, "|".join(pats), joined) from joined


def _split_literals(patterns: Iterable[str]) -> tuple[list[str], list[str]]:
    """Plain words (no regex syntax) vs real regular expressions."""
    literals, regexes = [], []
    for pat in patterns:
        pat = str(pat)
        if pat and re.escape(pat) == pat:
            literals.append(_norm_word(pat))
        elif pat:
            regexes.append(pat)
    return literals, regexes


@lru_cache(maxsize=1)
def _char_frequency() -> dict[str, int]:
    """How often each character occurs in jieba's counted words (the words that contain it)."""
    from .tokenizer import _base_freq

    chars: dict[str, int] = {}
    for word, count in _base_freq()[0].items():
        if count:
            for ch in set(word):
                chars[ch] = chars.get(ch, 0) + count
    return chars


@lru_cache(maxsize=None)
def literal_frequency(literal: str) -> float:
    """How often ``literal`` turns up in ordinary text (jieba dictionary counts, estimated
    for strings that are not words), to guard a regex with its rarest literals."""
    from .tokenizer import _base_freq

    chars = _char_frequency()
    if len(literal) == 1:
        return float(chars.get(literal, 1))
    count = _base_freq()[0].get(literal)
    if count:
        return float(count)
    # Not a word: rarer than its rarest character, more so the longer it is.
    return min(chars.get(ch, 1) for ch in literal) / 10 ** (len(literal) - 1)


def required_strings(pattern: str | list, frequency: Callable[[str], float] | None = None) -> frozenset[str] | None:
    """Literal strings of which every match of ``pattern`` contains at least one.

    None when no such set is known (the pattern must always run). Used to run a
    regex only when the lexicon scan has seen one of its literals. Of several
    such sets the one least likely to appear in a message is chosen (by
    ``frequency`` of its literals; without it, the longest literals).
    """
    from re import _constants as c

    EXACT_LIMIT = 64

    def score(cands: set[str]) -> tuple[float, int, int]:
        rarity = -sum(map(frequency, cands)) if frequency else 0.0
        return (rarity, min(len(x) for x in cands), -len(cands))

    def usable(cands: set[str] | None) -> bool:
        # The lexicon scans normalised text word by word: no empty or spaced literals.
        return bool(cands) and all(x and not any(ch.isspace() for ch in x) for x in cands)

    def exact_seq(seq) -> set[str] | None:
        out = {""}
        for el in seq:
            opts = exact(el)
            if opts is None:
                return None
            out = {a + b for a in out for b in opts}
            if len(out) > EXACT_LIMIT:
                return None
        return out

    def exact(el) -> set[str] | None:
        """Every string ``el`` can match, when that is a small finite set ("" for zero-width)."""
        op, av = el
        if op is c.LITERAL:
            return {chr(av)}
        if op is c.IN:
            chars = [chr(iav) for iop, iav in av if iop is c.LITERAL]
            return set(chars) if chars and len(chars) == len(av) else None
        if op is c.SUBPATTERN:
            return exact_seq(av[-1]) if not av[1] and not av[2] else None
        if op is c.BRANCH:
            out: set[str] = set()
            for branch in av[1]:
                sub = exact_seq(branch)
                if sub is None:
                    return None
                out |= sub
            return out if len(out) <= EXACT_LIMIT else None
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[1] == 1:
            sub = exact_seq(av[2])
            return None if sub is None else (sub | {""} if av[0] == 0 else sub)
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return {""}
        return None

    def seq_req(seq) -> set[str] | None:
        """Best requirement among the elements of a sequence (all of which must match)."""
        seq = list(seq)
        best: set[str] | None = None
        best_rank: tuple[float, int, int] = (0.0, 0, 0)
        # Runs of adjacent elements with few possible strings ("电(?:了|着)一下" -> 电了一下 / 电着一下)
        # are rarer than any one element.
        for start in range(len(seq)):
            product: set[str] | None = {""}
            for el in seq[start:]:
                opts = exact(el)
                if opts is None:
                    break
                product = {a + b for a in product for b in opts}
                if len(product) > EXACT_LIMIT:
                    break
                if usable(product):
                    rank = score(product)
                    if best is None or rank > best_rank:
                        best, best_rank = set(product), rank
        # Elements that are not a small fixed set: every branch must give a requirement.
        for op, av in seq:
            cand: set[str] | None = None
            if op is c.BRANCH:
                parts = [seq_req(branch) for branch in av[1]]
                if all(parts):
                    cand = set().union(*parts)
            elif op is c.SUBPATTERN:
                cand = seq_req(av[-1])
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
                cand = seq_req(av[2])
            if usable(cand):
                rank = score(cand)
                if best is None or rank > best_rank:
                    best, best_rank = cand, rank
        return best

    try:
        found = seq_req(sre_parse.parse(pattern) if isinstance(pattern, str) else pattern)
    except Exception:
        return None
    if not found or any(not x for x in found):
        return None
    return frozenset(found)


@dataclass(frozen=True)
class GuardedPattern:
    """A regex with the literals that must appear for it to match (None: always run)."""

    pattern: LazyRegex
    needs: frozenset[str] | None
    ident: str


class LazyRegex:
    """A regular expression checked at load time and compiled on first use.

    Most guarded rules never run for a given process's messages (their literal never
    appears), and compiling a few hundred of them is much of the model's load time.
    """

    __slots__ = ("pattern", "_compiled")

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def _regex(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self._regex().search(text)

    def finditer(self, text: str):
        return self._regex().finditer(text)


def _guarded(patterns: Iterable[str], what: str) -> tuple[GuardedPattern, ...]:
    out = []
    for n, pat in enumerate(patterns):
        # Messages are matched in their normalised form, so the pattern must be too.
        pat = to_simplified(str(pat))
        try:
            tree = sre_parse.parse(pat)  # syntax errors surface here, at load time
        except re.error as exc:
            raise _invalid(what, pat, exc) from exc
        regex = LazyRegex(pat)
        if "(?<" in pat:
            try:  # a look-behind's width is only checked by the compiler
                regex.search("")
            except re.error as exc:
                raise _invalid(what, pat, exc) from exc
        out.append(GuardedPattern(regex, required_strings(tree, literal_frequency), f"{what}#{n}"))
    return tuple(out)


def _norm_word(word: str) -> str:
    return normalize(str(word)).replace(" ", "")


class Rules:
    """Compiled rule set (defaults + district overrides)."""

    def __init__(self, data: dict[str, Any]):
        self.raw = data
        self.settings = {**DEFAULT_SETTINGS, **data.get("settings", {})}
        self.digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]

        # Categories ---------------------------------------------------------
        self.labels: dict[str, str] = {}
        self.keywords: dict[str, tuple[str, ...]] = {}
        for code, spec in data.get("categories", {}).items():
            spec = spec if isinstance(spec, dict) else {}
            self.labels[code] = str(spec.get("label", code))
            words = [_norm_word(w) for w in spec.get("keywords", [])]
            self.keywords[code] = tuple(dict.fromkeys(w for w in words if w))

        # Dictionary -----------------------------------------------------------
        words: list[tuple[str, int | None]] = []
        for entry in data.get("dictionary", {}).get("words", []):
            parts = str(entry).split()
            if not parts:
                continue
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            words.append((_norm_word(parts[0]), freq))
        for kws in self.keywords.values():
            words.extend((w, None) for w in kws if len(w) > 1)
        self.dictionary_words = tuple(dict.fromkeys(words))

        # Urgent ---------------------------------------------------------------
        # Plain-word patterns go into the lexicon (one scan for all of them);
        # only real regular expressions are run as regexes.
        urgent = data.get("urgent", {})
        literal_tags: list[tuple[str, tuple[str, str]]] = []
        guards: list[GuardedPattern] = []
        kinds: list[UrgentKind] = []
        for name, spec in urgent.items():
            if not isinstance(spec, dict):
                continue
            literals, regexes = _split_literals(spec.get("patterns", []))
            literal_tags.extend((w, ("urg", name)) for w in literals)
            guarded = _guarded(regexes, f"urgent.{name}")
            if not guarded and not literals:
                continue
            category = spec.get("category")
            weight = float(spec.get("category_weight", 1.0))
            kinds.append(UrgentKind(name, str(spec.get("label", name)), category, guarded, weight))
            guards.extend(guarded)
        extra = [_norm_word(w) for w in urgent.get("extra_words", []) if _norm_word(w)]
        if extra:
            literal_tags.extend((w, ("urg", "extra")) for w in extra)
            kinds.append(UrgentKind("extra", "紧急关键词", None, (), 0.0))
        self.urgent_kinds = tuple(kinds)
        self.urgent_by_name = {k.name: k for k in kinds}
        self.urgent_regex_kinds = tuple(k for k in kinds if k.patterns)
        self.resolved_re = _compile_any(urgent.get("resolved", []), "urgent.resolved")
        self.not_real_re = _compile_any(urgent.get("not_real", []), "urgent.not_real")
        self.present_re = _compile_any(urgent.get("present", []), "urgent.present")
        self.chronic_re = _compile_any(urgent.get("chronic", []), "urgent.chronic")
        self.now_re = _compile_any(urgent.get("now", []), "urgent.now")
        negs = urgent.get("negations", [])
        self.negation_re = re.compile(to_simplified(f"(?:{'|'.join(negs)})$")) if negs else None

        # Chatter --------------------------------------------------------------
        self.chatter_kinds: tuple[str, ...] = ()
        self.chatter: dict[str, tuple[GuardedPattern, ...]] = {}
        kinds_seen: list[str] = []
        for kind, spec in data.get("chatter", {}).items():
            if not isinstance(spec, dict):
                continue
            literals, regexes = _split_literals(spec.get("patterns", []))
            literal_tags.extend((w, ("chat", kind)) for w in literals)
            guarded = _guarded(regexes, f"chatter.{kind}")
            if guarded:
                self.chatter[kind] = guarded
                guards.extend(guarded)
            kinds_seen.append(kind)
        self.chatter_kinds = tuple(kinds_seen)

        # Lexicon: category keywords, landmarks, concepts ---------------------
        entries: dict[str, list[tuple[str, str]]] = {}

        def add(word: str, tag: tuple[str, str]) -> None:
            if word:
                bucket = entries.setdefault(word, [])
                if tag not in bucket:
                    bucket.append(tag)

        for code, kws in self.keywords.items():
            for w in kws:
                add(w, ("kw", code))
        for name, forms in data.get("landmarks", {}).items():
            for w in [name, *forms]:
                add(_norm_word(w), ("lm", str(name)))
        for concept, forms in data.get("concepts", {}).items():
            for w in [concept, *forms]:
                add(_norm_word(w), ("cc", str(concept)))
        for w in data.get("issue_cues", {}).get("words", []):
            add(_norm_word(w), ("cue", "problem"))
        for w, tag in literal_tags:
            add(w, tag)
        # ident -> (domain, kind, pattern) for the regexes guarded by a literal
        self.guards: dict[str, tuple[str, str, GuardedPattern]] = {}
        for kind in self.urgent_kinds:
            for g in kind.patterns:
                self.guards[g.ident] = ("urg", kind.name, g)
        for kind, gs in self.chatter.items():
            for g in gs:
                self.guards[g.ident] = ("chat", kind, g)
        self.unguarded = tuple(v for v in self.guards.values() if v[2].needs is None)
        # for urgent.detect's early exit: the urgent regexes that can run at all
        self.urgent_unguarded = tuple(v for v in self.unguarded if v[0] == "urg")
        self.urgent_guard_idents = frozenset(i for i, v in self.guards.items() if v[0] == "urg")
        for g in guards:
            for w in g.needs or ():
                add(_norm_word(w) if w.strip() else w, ("req", g.ident))
        self.lexicon = Lexicon({w: tuple(tags) for w, tags in entries.items()})

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.labels)

    @classmethod
    def load(cls, rules_path: Path | str | None = None) -> "Rules":
        return cls(load_raw(rules_path))
