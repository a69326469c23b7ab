"""帮助 fits on a phone: a short menu for the sender's roles, with topics."""
from __future__ import annotations

from bot.helpmenu import MAX_MENU_LINES
from bot.texts import core as T

STAFF_COMMANDS = ("办结", "备注", "转办", "派单", "通知", "合并", "督办", "工单 ")


def commands_in(text: str) -> list[str]:
    return [line[2:] for line in text.splitlines() if line.startswith("· ")]


def topic_header(topic: str) -> str:
    return T.HELP_TOPIC_HEADER.format(topic=topic)


async def test_resident_help_fits_on_a_phone(h):
    await h.dm("张三", "帮助")
    menu = h.texts_to("张三")[-1]
    assert menu.startswith(T.HELP_HEADER) and len(menu.splitlines()) <= MAX_MENU_LINES


async def test_secretary_help_fits_on_a_phone(h):
    await h.dm("李书记", "帮助")
    menu = h.texts_to("李书记")[-1]
    assert menu.startswith(T.HELP_HEADER) and len(menu.splitlines()) <= MAX_MENU_LINES
    assert "帮助 通知" in menu and "帮助 工单" in menu


async def test_resident_help_shows_no_staff_commands(h):
    await h.say("阳光花园业主1群", "张三", "帮助")
    await h.say("阳光花园业主1群", "张三", "帮助 工单")
    for text in h.texts_to("阳光花园业主1群"):
        assert not [c for c in commands_in(text) if c.startswith(STAFF_COMMANDS)], text


async def test_help_topic_lists_its_commands(h):
    await h.dm("张三", "帮助 心愿")
    topic = h.texts_to("张三")[-1]
    assert topic.startswith(topic_header("心愿")) and "微心愿" in topic and "我的心愿" in topic


async def test_help_topic_found_by_a_command_word(h):
    await h.dm("李书记", "帮助 统计")
    assert h.texts_to("李书记")[-1].startswith(topic_header("通知"))


async def test_resident_is_not_offered_a_staff_topic(h):
    await h.dm("张三", "帮助 通知")
    reply = h.texts_to("张三")[-1]
    assert reply.startswith(T.HELP_UNKNOWN_TOPIC.split("“")[0]) and "帮助 工单" in reply
    assert "定时" not in reply


async def test_assignee_sees_note_and_transfer(h):
    await h.say("阳光花园业主1群", "张三", "4号楼门口积水了，好几天了")
    await h.dm("李书记", "派单 1 张党员")
    await h.dm("张党员", "帮助 工单")
    topic = h.texts_to("张党员")[-1]
    assert {"备注", "转办"} <= {c.split()[0] for c in commands_in(topic)}


async def test_party_member_without_assignments_does_not_see_note(h):
    await h.dm("张党员", "帮助 工单")
    assert "备注" not in {c.split()[0] for c in commands_in(h.texts_to("张党员")[-1])}
