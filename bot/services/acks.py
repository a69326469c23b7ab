"""Is this chat line an acknowledgement (收到) of a notice?

Pure and rule-based: a line is an ack when it is made only of acknowledgement words, room
numbers (with at most a short name next to them), thanks, particles, emoji and WeChat's
bracket codes, with at least one real acknowledgement among them. Anything else left over
("快递", "没", "吗", a question mark) makes it chatter, so "收到快递了吗" and "没收到通知"
stay out. Measured against the labelled lines in bot/data/acks.tsv (tests/test_notices_acks.py).
"""
from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 40  # a longer line says more than "got it"

# What counts by itself. "1" is not here: residents use it for ratings and 接龙 too.
_CORE = (
    r"(?:已经?|都|我|我们|我家|本人|全家)?(?:收到|收悉)(?:通知|啦|了|咯|嘞|哈|哦|噢)*"
    r"|已阅|已读|阅|知道了?|知悉|明白了?|了解了?|懂了|get|roger|okay|okk+|ok"
)
# WeChat sends stickers typed from its panel as bracket codes; these mean "agreed / got it".
_ACK_CODES = r"\[(?:强|OK|ok|抱拳|握手|好的|胜利|耶|拳头|ThumbsUp|Thumbs Up|OK手势|收到)\]"
_ACK_EMOJI = "[\U0001F44D\U0001F44C\U0001F64F\U0001F91D\U0001FAE1\u2705\u2714\U0001F4AA\u270C]"  # 👍👌🙏🤝🫡✅✔💪✌
# Friendly extras that ride along with an ack but are not one alone.
_FILLER_CODES = r"\[(?:玫瑰|微笑|愉快|爱心|憨笑|呲牙|可爱|太阳|庆祝|鼓掌|咖啡|花|月亮|嘿哈|机智|害羞|偷笑)\]"
_FILLER_EMOJI = ("[\U0001F339\U0001F60A\U0001F604\u2764\U0001F338\U0001F490\u263A\U0001F642\U0001F601"
                 "\U0001F44F\U0001F603\U0001F917\U0001F496\U0001F495\U0001F31E\u2600\U0001F389\uFE0F\u200D"
                 "\U0001F3FB-\U0001F3FF]")  # (variation selectors and skin tones too)
_THANKS = (
    r"(?:谢谢|谢啦|谢了|多谢|感谢|thanks|thx)(?:支部|书记|社区|网格员?|物业|的?提醒|通知|您|你们?|大家|老师|领导)*"
    r"|(?:支部|书记|社区|网格员?|大家|您|你们?|领导)?辛苦(?:了|啦|支部|书记|社区|网格员?|大家|您|你们?)*"
)
_PARTICLES = r"好的|好嘞|好哒|好滴|好呀|好|嗯+|哦+|噢+|行|可以|没问题|了|啦|呀|啊|哈+|嘞|咯|哟|滴|的|呢|马上"
# A short name written next to a room number ("4-2-301张阿姨收到"), never an ack word itself.
_NAME = (r"(?!收到|已收|收悉|已阅|已读|知道|明白|了解|谢谢|感谢|多谢|好的|辛苦)"
         r"[\u4e00-\u9fff]{2,3}(?=\s|$|[,.!。]|收到|已收到|已阅|\[|[\U0001F300-\U0001FAFF])")
_ROOM = (
    r"\d{1,3}\s*(?:号楼|栋|幢|号|#|-|－|—|_)\s*\d{1,2}\s*(?:单元|-|－|—|_|#)\s*\d{3,4}\s*(?:室|号)?"
    r"|\d{1,3}\s*(?:号楼|栋|幢|#)\s*(?:\d{1,2}\s*单元)?\s*(?:\d{3,4}\s*(?:室|号)?)?"
    r"|\d{1,3}\s*(?:-|－|—)\s*\d{3,4}\s*(?:室|号)?"
    r"|\d{1,2}\s*单元\s*(?:\d{3,4}\s*(?:室|号)?)?"
    r"|\d{3,4}\s*(?:室|号)?"
)
_SEP = r"[\s,.!~、…;:。，！～；：\-]+"
_MENTION = r"@[^\s@]{1,20}(?:\s|\u2005|$)"

_NEGATORS = set("没未不无非")
_TOKEN = re.compile(
    rf"(?P<core>{_CORE}|{_ACK_CODES}|{_ACK_EMOJI}+)"
    rf"|(?P<room>(?:{_ROOM})(?:\s*(?P<name>{_NAME}))?)"
    rf"|(?P<filler>{_THANKS}|{_FILLER_CODES}|{_FILLER_EMOJI}+|{_PARTICLES})"
    rf"|(?P<sep>{_SEP})"
    rf"|(?P<mention>{_MENTION})",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Full-width forms folded (ＯＫ, ４-２-３０１, ！), outer space trimmed."""
    return unicodedata.normalize("NFKC", text or "").strip()


def is_ack(text: str) -> bool:
    """True when ``text`` only acknowledges (see the module docstring)."""
    line = normalise(text)
    if not line or len(line) > MAX_LENGTH:
        return False
    position, acked = 0, False
    while position < len(line):
        m = _TOKEN.match(line, position)
        if m is None or m.end() == position:
            return False
        if m.group("core"):
            # "不收到", "没收到": a negator right before the ack word is chatter.
            if position and line[position - 1] in _NEGATORS:
                return False
            acked = True
        elif m.group("name") and set(m.group("name")) & _NEGATORS:
            return False
        position = m.end()
    return acked
