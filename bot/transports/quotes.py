"""WeChat's 引用 (quote) as Wechaty puppets deliver it: the quoted message and the reply in one
text, e.g.

    「张三：3号楼楼道灯坏了」
    - - - - - - - - - - - - - - -
    还没修好

(the quoted part first, a dashed rule, then the reply). Some puppets put the quote after the
reply; both forms are read. Pure: no SDK, so the fake transport and tests can use it too.
"""
from __future__ import annotations

import re

# The quoted block: 「name：text」 (or "name:" / no name) — the text may span lines.
_QUOTE = r"「(?:(?P<name>[^：:」\n]{1,40})[：:])?(?P<quoted>.*?)」"
_RULE = r"\s*\n\s*(?:-\s*){3,}\s*\n"
_QUOTE_FIRST = re.compile(r"^\s*" + _QUOTE + _RULE + r"(?P<reply>.*)$", re.S)
_REPLY_FIRST = re.compile(r"^(?P<reply>.*?)" + _RULE + r"\s*" + _QUOTE + r"\s*$", re.S)


def split_quote(text: str) -> tuple[str, str | None]:
    """(the reply, the quoted text) — or (text, None) when the message quotes nothing."""
    for pattern in (_QUOTE_FIRST, _REPLY_FIRST):
        m = pattern.match(text or "")
        if m is not None:
            return m.group("reply").strip(), m.group("quoted").strip()
    return text, None
