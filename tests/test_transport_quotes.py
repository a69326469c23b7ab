"""WeChat quotes (引用) as Wechaty puppets deliver them: quoted block, dashed rule, reply."""
from __future__ import annotations

from bot.transports.quotes import split_quote

RULE = "- - - - - - - - - - - - - - -"


def test_quote_first_form_gives_reply_and_quoted_text():
    text = f"「支部助手：收到，已转支部处理：工单 #0001（物业服务）。」\n{RULE}\n还没修好"
    assert split_quote(text) == ("还没修好", "收到，已转支部处理：工单 #0001（物业服务）。")


def test_reply_first_form_is_read_too():
    assert split_quote(f"还没修好\n{RULE}\n「支部助手：工单 #0002」") == ("还没修好", "工单 #0002")


def test_quoted_text_over_several_lines():
    reply, quoted = split_quote(f"「张三：第一行\n第二行」\n{RULE}\n同意")
    assert (reply, quoted) == ("同意", "第一行\n第二行")


def test_plain_text_with_corner_brackets_is_not_a_quote():
    assert split_quote("通知「停水」明天上午") == ("通知「停水」明天上午", None)
