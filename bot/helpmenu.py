"""帮助 as a short menu: which commands a person sees, by topic, for their roles.

A phone screen holds about a dozen lines, so 帮助 shows a few everyday commands and the
topics (帮助 工单, 帮助 心愿 …); each topic lists only what the sender may use. Commands
without a role gate in the router (办结, 备注, 认领 …) still have an audience here, so that
residents are never shown staff commands.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from bot.models import RoleName
from bot.roles import HANDLING_ROLES, STAFF_ROLES, Roles
from bot.router import Command, CommandTable

MAX_MENU_LINES = 12

# Audiences for commands the router lets anyone type (the handler checks the rest).
HANDLERS = "handlers"      # staff who handle tickets, the property, and people with open assignments
MEMBERS = "members"        # party members and volunteers
NOTICE_STAFF = "notice_staff"
_AUDIENCE_ROLES: dict[str, frozenset[str]] = {
    HANDLERS: HANDLING_ROLES | {RoleName.PROPERTY_MANAGER},
    MEMBERS: frozenset({RoleName.PARTY_MEMBER, RoleName.VOLUNTEER}),
    NOTICE_STAFF: STAFF_ROLES,
}
AUDIENCE: dict[str, str] = {
    "工单": HANDLERS, "办结": HANDLERS, "备注": HANDLERS, "转办": HANDLERS,
    "认领": MEMBERS, "心愿进度": MEMBERS, "完成": MEMBERS, "放弃": MEMBERS,
    "认岗": MEMBERS, "退岗": MEMBERS, "到岗": MEMBERS, "我的服务": MEMBERS, "岗位": MEMBERS,
    "公开": MEMBERS, "不公开": MEMBERS,
    "通知": NOTICE_STAFF,
}

# Topic -> command words in the order people need them. The first word of a topic line in
# the menu is the topic's name as typed after 帮助.
TOPICS: dict[str, tuple[str, ...]] = {
    "工单": ("报事", "我的工单", "进度", "评价", "不是问题", "工单", "派单", "备注", "转办", "办结",
           "议事日", "议事", "议定", "合并", "拆分", "改类", "热线", "督办"),
    "心愿": ("微心愿", "我的心愿", "心愿补充", "取消心愿", "确认心愿", "没办好", "心愿", "认领", "心愿进度",
           "完成", "放弃", "代发心愿"),
    "通知": ("通知", "定时", "通知列表", "通知详情", "撤回通知", "统计"),
    "党员": ("亮身份", "岗位", "认岗", "退岗", "到岗", "我的服务", "公开", "不公开", "设岗", "撤岗",
           "身份申请", "同意", "拒绝", "添加", "移除", "党员名单", "表彰"),
    "走访": ("添加走访", "走访名单", "已走访", "删除走访"),
    "评星": ("评星", "物业评议"),
    "其他": ("我的身份", "隐私", "删除我的信息", "绑定"),
}
# Shown on the first screen, per audience, before the topics (at most a few each).
EVERYDAY: dict[str, tuple[str, ...]] = {
    "resident": ("我的工单", "微心愿", "隐私"),
    HANDLERS: ("工单", "备注", "办结"),
    MEMBERS: ("心愿", "认领"),
    NOTICE_STAFF: ("通知", "通知详情"),
}


@dataclass(frozen=True)
class Viewer:
    """Who asks: roles, where (group or private) and whether they hold open assignments."""

    roles: Roles
    compound_id: int | None
    in_group: bool
    assignee: bool = False


def _audience_ok(audience: str, viewer: Viewer) -> bool:
    if audience == HANDLERS and viewer.assignee:
        return True
    return viewer.roles.has_any(_AUDIENCE_ROLES[audience], viewer.compound_id)


def visible(command: Command, viewer: Viewer) -> bool:
    if command.where == "group" and not viewer.in_group or command.where == "private" and viewer.in_group:
        return False
    if command.roles is not None and not viewer.roles.has_any(command.roles, viewer.compound_id):
        return False
    audience = AUDIENCE.get(command.words[0])
    return audience is None or _audience_ok(audience, viewer)


def _by_word(table: CommandTable) -> dict[str, Command]:
    return {c.words[0]: c for c in table.commands}


def topic_commands(table: CommandTable, topic: str, viewer: Viewer) -> list[Command]:
    known = _by_word(table)
    return [known[w] for w in TOPICS.get(topic, ()) if w in known and visible(known[w], viewer)]


def topics_for(table: CommandTable, viewer: Viewer) -> list[str]:
    return [t for t in TOPICS if topic_commands(table, t, viewer)]


def everyday(table: CommandTable, viewer: Viewer) -> list[Command]:
    known = _by_word(table)
    audiences = ["resident"] + [a for a in (NOTICE_STAFF, HANDLERS, MEMBERS) if _audience_ok(a, viewer)]
    words: list[str] = []
    for audience in audiences:
        words += [w for w in EVERYDAY[audience] if w not in words]
    if len(audiences) > 2:
        words = [w for w in words if w not in EVERYDAY["resident"]]  # staff know how to report
    return [known[w] for w in words if w in known and visible(known[w], viewer)][:6]


def find_topic(word: str) -> str | None:
    """"工单" / "报事" / "办结" → the topic that covers it."""
    word = word.strip()
    if word in TOPICS:
        return word
    return next((t for t, words in TOPICS.items() if word in words), None)


def all_topic_words() -> Iterable[str]:
    return TOPICS
