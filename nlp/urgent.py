"""Emergencies: fire, gas, lift entrapment, burst pipes, live wires, injuries …

A hit of an urgent pattern counts unless it is negated right before
("没有闻到煤气味"), the message says it is over ("已经处理好了"), the
message is hypothetical / a notice / a joke ("如果闻到煤气味…", "火锅着火了哈哈")
without a sign that it is happening now ("快来人", "现在"), or it is a chronic
complaint — a recurring condition, a long-standing problem, a complaint about
response times, rhetorical exaggeration ("每次下雨都淹", "报修三个月了",
"半小时才来人", "老人都快冻死了") — without a strong sign of now ("救命",
"快来", "打了119", "正在"). Letters and hotline orders about slow problems are
full of weak "now" words ("至今", "请立即"), which is why chronic needs the strong ones.
"""
from __future__ import annotations

from .features import collect
from .rules import Rules
from .types import NOT_URGENT, UrgentResult

NEGATION_WINDOW = 4
_A_NOT_A = ("有没", "是不", "会不", "能不", "要不", "可不")
"""Question forms ("有没有人看到…", "是不是着火了") are not negations."""
LONG_TEXT = 4000
"""Texts longer than this are scanned in overlapping windows so every regex stays linear."""


def situation(text: str, rules: Rules) -> tuple[str, ...]:
    """Which context cues the text has: "resolved", "not_real" (hypothetical, notice, joke), "present"."""
    context = []
    if rules.resolved_re is not None and rules.resolved_re.search(text):
        context.append("resolved")
    if rules.not_real_re is not None and rules.not_real_re.search(text):
        context.append("not_real")
    if rules.present_re is not None and rules.present_re.search(text):
        context.append("present")
    if rules.chronic_re is not None and rules.chronic_re.search(text):
        context.append("chronic")
        if rules.now_re is not None and rules.now_re.search(text):
            context.append("now")
    return tuple(context)


def happening_now(context: tuple[str, ...]) -> bool:
    """Over is over; a hypothetical counts only with a sign that it is happening now, and a
    chronic complaint only with a strong one."""
    if "resolved" in context or ("chronic" in context and "now" not in context):
        return False
    return "not_real" not in context or "present" in context


def _windows(text: str):
    if len(text) <= LONG_TEXT:
        yield 0, text
        return
    step = LONG_TEXT - 40
    for start in range(0, len(text), step):
        yield start, text[start : start + LONG_TEXT]


def detect(text: str, rules: Rules, evidence=None, hits_upto: int = 0) -> UrgentResult:
    """Urgency of the normalised ``text`` (any length).

    ``evidence`` is the features.Evidence of ``text[:hits_upto]`` (its urgent
    words and regex guards); the rest of the text is scanned here, in windows,
    so very long texts stay linear.
    """
    if not text:
        return NOT_URGENT
    if (
        evidence is not None
        and not evidence.urgent_hits
        and hits_upto >= len(text)
        and not rules.urgent_unguarded
        and evidence.required.isdisjoint(rules.urgent_guard_idents)
    ):
        # Most messages: no urgent word, no urgent regex whose literal was seen, nothing
        # beyond the scanned window -> nothing below could find a hit.
        return NOT_URGENT

    found: list[tuple[str, str, int]] = []
    neg = rules.negation_re

    def keep(kind: str, word: str, pos: int) -> None:
        before = text[max(0, pos - NEGATION_WINDOW) : pos]
        if neg is not None and before and neg.search(before) and not before.endswith(_A_NOT_A):
            return
        found.append((kind, word, pos))

    if evidence is None:
        evidence, hits_upto = collect(rules.lexicon.scan(text[:LONG_TEXT])), min(len(text), LONG_TEXT)
    for kind, word, pos in evidence.urgent_hits:
        keep(kind, word, pos)
    windows = [(0, text if hits_upto >= len(text) else text[:hits_upto], evidence.required)]
    if hits_upto < len(text):
        for offset, chunk in _windows(text[hits_upto:]):
            more = collect(rules.lexicon.scan(chunk))
            for kind, word, pos in more.urgent_hits:
                keep(kind, word, hits_upto + offset + pos)
            windows.append((hits_upto + offset, chunk, more.required))
            if len(found) > 50:
                break
    seen = {(k, p) for k, _, p in found}
    guards, urgent_idents = rules.guards, rules.urgent_guard_idents
    unguarded = {g.ident for _, _, g in rules.urgent_unguarded}
    for offset, chunk, required in windows:
        # The urgent regexes whose literal was seen (and those without one), in ident order.
        for ident in sorted(required & urgent_idents | unguarded if unguarded else required & urgent_idents):
            _, kind, g = guards[ident]
            for m in g.pattern.finditer(chunk):
                pos = offset + m.start()
                if (kind, pos) not in seen:
                    seen.add((kind, pos))
                    keep(kind, m.group(0), pos)
    if not found:
        return NOT_URGENT

    context = situation(text[:LONG_TEXT], rules)
    urgent = happening_now(context)
    found.sort(key=lambda h: (h[2], h[0]))
    first_kind, first_word, _ = found[0]
    kind = rules.urgent_by_name[first_kind]
    return UrgentResult(
        urgent=urgent,
        kind=kind.name,
        label=kind.label,
        category=kind.category,
        word=first_word,
        hits=tuple((k, w) for k, w, _ in found),
        context=context,
    )
