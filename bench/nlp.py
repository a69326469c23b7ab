"""Benchmark of the NLP analyzer: messages per second on one core, and model load time.

    python bench/nlp.py [--passes 5] [--json]

Two mixes of the chat messages of nlp/data/train (deterministically shuffled):
- the group-chat mix, the target figure: every chatter line plus a quarter as many
  problem reports (80 % chatter / 20 % problems). A resident group is mostly
  greetings, 接龙, thanks and questions; the few reports among them are what the
  bot is for. 20 % is a generous share of reports.
- the corpus mix, a worst case: the corpus itself, balanced for training (about
  two thirds problems, which cost two to three times a chatter line: they are
  segmented with jieba and run through the category model).
The formal letters and one 100,000-character message are measured apart.

Absolute figures swing with the machine (this VM varies by +-40 % between runs),
so the group-chat mix is also timed against jieba.lcut itself, interleaved in
small chunks: the issue states jieba alone does ~15,000 chat messages/s on its
reference machine, which turns the ratio into a machine-independent figure.
The headline is cache-cold: no message repeats within a pass (the mixes are
deduplicated) and every cache that remembers text (the segmentation cache and the
feature-string caches) is emptied before each pass, so it is the speed on unseen
text. A first pass compiles the lazily built regular expressions (a one-time cost
per process) and is not counted. The best pass counts for the absolute figures
(CPU time of this process); the median pass for the ratio. Load time is measured in a fresh interpreter.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOAD_SNIPPET = (
    "import sys, time; sys.path.insert(0, %r); t = time.perf_counter(); import nlp; "
    "nlp.default_analyzer(); print(time.perf_counter() - t)"
)


def load_time() -> float:
    out = subprocess.run(
        [sys.executable, "-c", LOAD_SNIPPET % str(ROOT)], capture_output=True, text=True, check=True, cwd=str(ROOT)
    )
    return float(out.stdout.strip().splitlines()[-1])


def corpus() -> tuple[list[str], list[str], list[str], float]:
    """(chat mix as in the corpus, group-chat mix 80/20, letters, problem share of the corpus mix)."""
    from nlp.corpus import read_dir
    from nlp.paths import TRAIN_DIR

    examples = read_dir(TRAIN_DIR)
    # Deduplicated: a repeated message would be served from the caches (see cold()).
    chat = list(dict.fromkeys(e.text for e in examples if e.source == "chat"))
    letters = list(dict.fromkeys(e.text for e in examples if e.source == "letter"))
    rng = random.Random(2024)
    rng.shuffle(chat)
    chatter = list(dict.fromkeys(e.text for e in examples if e.source == "chat" and not e.is_issue))
    issues = list(dict.fromkeys(e.text for e in examples if e.source == "chat" and e.is_issue and e.text not in chatter))
    heavy = chatter + rng.sample(issues, min(len(issues), len(chatter) // 4))
    rng.shuffle(heavy)
    return chat, heavy, letters, len(issues) / max(1, len(chat))


def cold(analyzer) -> None:
    """Forget every text seen so far: the segmentation cache and the feature-string caches."""
    from nlp import features

    analyzer.tokenizer._segment.cache_clear()
    features._WORD_FEATS.clear()
    features._BIGRAM_FEATS.clear()
    features._UNIGRAM_FEATS.clear()


def throughput(analyzer, texts: list[str], passes: int) -> tuple[float, float]:
    """(messages per CPU second, messages per wall-clock second), best of ``passes``.

    CPU time of this process is the "one core" figure: it is not skewed by
    other processes on a shared machine; wall-clock is printed next to it.
    """
    cpu_rates, wall_rates = [], []
    for _ in range(passes):
        cold(analyzer)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for text in texts:
            analyzer.analyze(text)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        cpu_rates.append(len(texts) / max(cpu, 1e-9))
        wall_rates.append(len(texts) / max(wall, 1e-9))
    return max(cpu_rates), max(wall_rates)


JIEBA_REFERENCE = 15_000
"""The issue's yardstick: jieba alone segments ~15,000 chat messages/s on the reference machine."""


def relative_to_jieba(analyzer, texts: list[str], passes: int, chunk: int = 20) -> float:
    """Analyzer speed as a fraction of ``jieba.lcut`` speed on the same texts (median of passes).

    The two run in alternating chunks of ``chunk`` messages in this process, so a
    slower or busier machine slows both alike: the ratio holds where the absolute
    figure swings (this VM varies by +-40 % from one run to the next).
    """
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.lcut("预热")  # loads jieba's own dictionary
    clock = time.process_time
    ratios = []
    for n in range(passes + 1):
        cold(analyzer)
        ours = theirs = 0.0
        for i in range(0, len(texts), chunk):
            part = texts[i : i + chunk]
            t0 = clock()
            for text in part:
                analyzer.analyze(text)
            t1 = clock()
            for text in part:
                jieba.lcut(text)
            t2 = clock()
            ours, theirs = ours + t1 - t0, theirs + t2 - t1
        if n:  # the first pass compiles lazy regexes and loads jieba's own dictionary
            ratios.append(theirs / max(ours, 1e-9))
    ratios.sort()
    return ratios[len(ratios) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="支部助手 NLP benchmark")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    loads = sorted(load_time() for _ in range(3))
    import nlp

    analyzer = nlp.default_analyzer()
    chat, heavy, letters, problem_share = corpus()
    heavy_rate, heavy_wall = throughput(analyzer, heavy, args.passes)
    chat_rate, _ = throughput(analyzer, chat, args.passes)
    heavy_ratio = relative_to_jieba(analyzer, heavy, args.passes)
    letter_rate, _ = throughput(analyzer, letters, args.passes) if letters else (0.0, 0.0)
    big = ("楼道里有人飞线充电，" * 10_000)[:100_000]
    start = time.perf_counter()
    analyzer.analyze(big)
    big_ms = (time.perf_counter() - start) * 1000
    result = {
        "group_chat_messages": len(heavy),
        "group_chat_avg_chars": round(sum(map(len, heavy)) / max(1, len(heavy)), 1),
        "group_chat_messages_per_s": round(heavy_rate),
        "group_chat_messages_per_s_wall": round(heavy_wall),
        "group_chat_speed_vs_jieba": round(heavy_ratio, 3),
        "group_chat_messages_per_s_at_reference": round(heavy_ratio * JIEBA_REFERENCE),
        "corpus_messages": len(chat),
        "corpus_problem_share": round(problem_share, 2),
        "corpus_messages_per_s": round(chat_rate),
        "letters": len(letters),
        "letters_per_s": round(letter_rate),
        "message_100k_chars_ms": round(big_ms, 1),
        "load_s_median": round(loads[1], 3),
        "load_s_max": round(loads[-1], 3),
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print("支部助手 NLP benchmark (one core)")
        print(
            f"  group-chat mix: {result['group_chat_messages']} messages, 80% chatter / 20% problems,"
            f" avg {result['group_chat_avg_chars']} chars"
        )
        print(
            f"    vs jieba    : {result['group_chat_speed_vs_jieba']:.2f} x jieba.lcut on the same unseen messages"
            f" (cache-cold, interleaved; target >= 0.8)"
            f" -> {result['group_chat_messages_per_s_at_reference']:,} messages/s where jieba does 15,000/s"
        )
        print(
            f"    throughput  : {result['group_chat_messages_per_s']:,} messages/s per CPU second, cache-cold"
            f"; wall clock {result['group_chat_messages_per_s_wall']:,}/s"
        )
        print(
            f"  corpus mix    : {result['corpus_messages_per_s']:,} messages/s"
            f" ({result['corpus_messages']} messages, {result['corpus_problem_share']:.0%} problems: worst case)"
        )
        print(f"  letters       : {result['letters']} -> {result['letters_per_s']:,} letters/s")
        print(f"  100k-char msg : {result['message_100k_chars_ms']} ms")
        print(f"  model load    : {result['load_s_median']} s median, {result['load_s_max']} s max   (target < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
