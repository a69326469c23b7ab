"""The ``uncivil`` signal: is a group message abusive or threatening toward a person?

Pure and rule-based (no model): the bot only ever *privately* asks a group's party members
to calm things down (劝导), so a miss costs little and a false alarm costs a party member's
attention — the rules favour precision. Angry complaints about a problem or about the
property company ("物业到底是干什么吃的", "吵死了") are civil; insults, slurs and threats
aimed at people are not. ``heated`` marks the tone of a quarrel (for escalation counting).

Labelled lines: nlp/data/civility/ (README there says how they were made and what the
figures mean); figures: ``python -m nlp.civility``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "civility" / "civility.tsv"

# Insults and slurs: abusive whatever the sentence around them.
_INSULTS = (
    r"傻[逼比缺bBxX×]|(?<![a-z])sb(?![a-z])|脑残|变态|小人|哪根葱|没脸|丢人现眼|脑子有问题|"
    r"(?:没素质|垃圾|老|狗|坏|贱)的?东西|贱[不吗啊]|(?:什么|的)玩意|神经病|畜生|王八蛋|狗东西|不要脸|混蛋|贱人|贱骨头|人渣|废物|"
    r"垃圾人|蠢货|白痴|弱智|土鳖|泼妇|老不死|[死老臭]三八|死胖子|龟孙|(?<![a-z])(?:cnm|nmsl|tmd)(?![a-z])|"
    r"他妈的|你妈|老子|恶心的东西|没教养|疯子|你(?:这?个|是)?骗子|狗眼|吃屎|低素质|什么东西|算老几|你是猪|是猪吗|"
    r"有病[吧啊呀吗]|你.{0,4}有病|是不是有病|脑子进水|要点脸|给脸不要脸"
)
# Threats and curses.
_THREATS = (
    r"弄死|打死你|砍死|揍你|欠揍|收拾你|整你|撕烂你|撕烂.{0,2}嘴|我弄你|等着瞧|走着瞧|你等着|给老子等着|单挑|有种你|"
    r"有本事你下|不想活了是吧|活腻|找死|毒死|去死|不得好死|砸了你|待不下去|[会你].{0,6}被车撞|让我碰上"
)
# Telling someone to get lost / shut up.
_DISMISSIVE = r"(?:给我|你)滚|滚(?:出|回|蛋|开|吧|[！!，,。]|$)|闭嘴|放屁|去你的"
_ABUSE = re.compile(f"(?:{_INSULTS})|(?:{_THREATS})|(?:{_DISMISSIVE})", re.IGNORECASE)
# The tone of a quarrel: not abusive by itself, but several of these between neighbours in a
# few minutes is an argument escalating.
_HEAT = re.compile(
    r"[!！]{2,}|[?？]{2,}|你算|关你什么事|关你屁事|少管闲事|有本事|凭什么|你再说|讲不讲理|你什么意思|"
    r"怎么说话的|你懂什么|你讲理|别血口喷人|你家才|你才是",
)


@dataclass(frozen=True)
class Civility:
    uncivil: bool
    heated: bool
    reasons: tuple[str, ...] = ()


def _normalise(text: str) -> str:
    # Full-width letters and punctuation to their usual forms; spacing tricks ("傻 逼") undone.
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", text).lower()


def assess(text: str) -> Civility:
    """The civility of one message."""
    norm = _normalise(text)
    abuse = [m.group(0) for m in _ABUSE.finditer(norm)]
    heat = [m.group(0) for m in _HEAT.finditer(norm)]
    return Civility(uncivil=bool(abuse), heated=bool(abuse or heat), reasons=tuple(dict.fromkeys(abuse + heat)))


def uncivil(text: str) -> bool:
    return assess(text).uncivil


def load_labelled(path: Path = DATA) -> list[tuple[bool, str]]:
    rows: list[tuple[bool, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, text = line.split("\t", 1)
        rows.append((label.strip() == "1", text))
    return rows


def evaluate(rows: list[tuple[bool, str]]) -> dict[str, float]:
    tp = sum(1 for gold, text in rows if gold and uncivil(text))
    fp = sum(1 for gold, text in rows if not gold and uncivil(text))
    fn = sum(1 for gold, text in rows if gold and not uncivil(text))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"lines": len(rows), "precision": precision, "recall": recall, "tp": tp, "fp": fp, "fn": fn}


SETS = {"civility": DATA, "civility_heldout": DATA.with_name("civility_heldout.tsv")}

if __name__ == "__main__":  # pragma: no cover - prints the figures
    for name, path in SETS.items():
        rows = load_labelled(path)
        figures = evaluate(rows)
        print(f"{name}: " + "lines {lines}  precision {precision:.3f}  recall {recall:.3f}  "
              "(tp {tp}, fp {fp}, fn {fn})".format(**figures))
        for gold, text in rows:
            if gold != uncivil(text):
                print(("  MISSED " if gold else "  FALSE  ") + text)
