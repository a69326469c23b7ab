"""The ``uncivil`` signal on its labelled lines, and no false alarm on ordinary reports."""
from __future__ import annotations

import glob
import json
from pathlib import Path

from nlp import civility

DATA = Path(civility.__file__).resolve().parent / "data"


def test_labelled_set_is_large_enough_and_balanced_enough():
    rows = civility.load_labelled()
    assert len(rows) >= 150
    assert 50 <= sum(gold for gold, _ in rows) <= len(rows) - 50


def test_precision_and_recall_on_the_labelled_lines():
    figures = civility.evaluate(civility.load_labelled())
    assert figures["precision"] >= 0.95 and figures["recall"] >= 0.9, figures


def test_precision_and_recall_on_the_second_set():
    figures = civility.evaluate(civility.load_labelled(civility.SETS["civility_heldout"]))
    assert figures["precision"] >= 0.95 and figures["recall"] >= 0.9, figures


def test_no_false_alarm_on_the_report_and_chatter_corpus():
    texts = []
    for path in sorted(glob.glob(str(DATA / "train" / "*.jsonl")) + glob.glob(str(DATA / "heldout*" / "*.jsonl"))):
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    assert len(texts) > 1000
    flagged = [t for t in texts if civility.uncivil(t)]
    assert flagged == []


def test_angry_complaint_about_a_problem_is_civil():
    assert not civility.uncivil("物业到底是干什么吃的，水管漏了三天没人来")


def test_insult_aimed_at_a_neighbour_is_uncivil():
    assert civility.uncivil("你是不是有病啊，天天在群里发这些")


def test_spacing_does_not_hide_an_insult():
    assert civility.uncivil("傻 逼 吧你")


def test_heated_words_without_insult_are_heated_but_civil():
    result = civility.assess("关你什么事？？你凭什么管我家")
    assert result.heated and not result.uncivil
