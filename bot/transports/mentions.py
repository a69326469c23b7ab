"""The bot's @mention in a chat text: every transport notes and removes it the same way, so
handlers never see it (WeChat, the local web chat and the test kit's fake WeChat)."""
from __future__ import annotations

import re
from typing import Sequence

_MENTION_END = "(?:\u2005|\u0020|$)"  # WeChat ends a mention with U+2005; typed ones with a space


def strip_mention(text: str, names: Sequence[str]) -> tuple[str, bool]:
    """Remove "@<name>" (ended by the WeChat mention separator U+2005, a space or the end)
    for each name; return the new text and whether any was found."""
    found = False
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        pattern = re.compile("@" + re.escape(name) + _MENTION_END)
        text, count = pattern.subn("", text)
        found = found or count > 0
    return text.replace("\u2005", " ").strip(), found
