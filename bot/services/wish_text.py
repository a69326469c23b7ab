"""A micro-wish as people type it in chat ("微心愿 家里轮椅坏了想找人修，住3号楼2单元501，电话138…"),
split into a public summary and private details (address, phone, circumstances), a category,
a deadline and a team size: ``parse_wish`` → ``WishDraft``. Pure text work, no database."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.privacy import mask_pii
from bot.services import ServiceError
from bot.services.timeparse import TimeParseError, parse_when
from bot.services.wishes import MAX_TEAM, SUMMARY_MAX, WishDraft
from bot.texts import wishes as T
from nlp.buildings import ascii_digits, cn_to_int, find_home

_LABELS = {
    "details": ("详情", "情况", "说明", "具体情况"),
    "address": ("地址", "住址", "家庭住址"),
    "phone": ("电话", "手机", "联系电话", "联系方式"),
    "category": ("类别", "分类", "类型"),
    "deadline": ("截止时间", "截止日期", "截止", "期限"),
    "team": ("需要人数", "人数"),
}
_LABEL_RE = re.compile(
    r"(?:^|(?<=[\s,，;；。]))(" + "|".join(sorted((w for ws in _LABELS.values() for w in ws), key=len, reverse=True))
    + r")\s*[:：]\s*")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}-?\d{7,8})(?!\d)")
_WISH_WORDS = re.compile(r"想|希望|需要|求|帮|请|能否|麻烦|盼")
# Words that describe a person's situation: never in the public summary.
_CIRCUMSTANCES = re.compile(r"我|独居|老人|腿|病|残|困难|低保|孤寡|瘫|失明|行动不便|身体|住院|去世|离异|单亲")
_CATEGORIES = (
    ("数码", ("手机", "微信", "电视", "网络", "宽带", "电脑", "医保卡", "扫码", "健康码")),
    ("就医", ("医院", "看病", "复诊", "体检", "买药", "取药", "住院")),
    ("助残", ("轮椅", "残疾", "拐杖", "助听器", "盲人")),
    ("维修", ("修", "坏了", "漏水", "灯泡", "水管", "马桶", "门锁")),
    ("助学", ("辅导", "作业", "学习", "孩子上学")),
    ("助老", ("老人", "奶奶", "爷爷", "独居", "老伴", "高龄")),
    ("生活", ("买菜", "送", "搬", "打扫", "理发", "做饭")),
)


@dataclass
class ParsedWish:
    draft: WishDraft
    had_private: bool  # the text carried an address or phone (worth a privacy tip in a group)


def _ascii(text: str) -> str:
    return ascii_digits(text)


def _fields(text: str) -> tuple[str, dict[str, str]]:
    """The unlabelled body and the labelled fields ("地址：…", "电话：…")."""
    marks = list(_LABEL_RE.finditer(text))
    if not marks:
        return text.strip(), {}
    body = text[:marks[0].start()].strip()
    found: dict[str, str] = {}
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        key = next(k for k, words in _LABELS.items() if mark.group(1) in words)
        value = text[mark.end():end].strip(" \t\n,，;；。")
        found[key] = f"{found[key]} {value}".strip() if key in found else value
    return body, found


def _summary(body: str) -> tuple[str, str | None]:
    """(public summary, private details) from the free text."""
    body = body.strip(" \t\n,，;；。")
    head = re.match(r"^([^:：|｜\n]{1,20}?)(?<!\d)[:：|｜]\s*(.+)$", body, flags=re.S)
    if head:
        return head.group(1).strip(), head.group(2).strip() or None
    clauses = [c.strip() for c in re.split(r"[，,。；;！!？?\n]", body) if c.strip()]
    if len(clauses) <= 1 and len(body) <= SUMMARY_MAX:
        return body, None
    # Several clauses: the wish clause is public, the rest (often circumstances) stays private.
    pick = next((i for i, c in enumerate(clauses) if _WISH_WORDS.search(c)), 0)
    summary = clauses[pick] if clauses else body
    if pick > 0 and len(summary) < 12:
        before = clauses[pick - 1]
        if not _CIRCUMSTANCES.search(before) and len(before) + len(summary) < 26:
            summary = before + "，" + summary
    if len(summary) > SUMMARY_MAX:
        summary = summary[:SUMMARY_MAX - 1] + "…"
    return summary, (body if body != summary else None)


def _category(text: str) -> str | None:
    for name, words in _CATEGORIES:
        if any(w in text for w in words):
            return name
    return None


def _deadline(value: str, now_local: datetime) -> datetime | None:
    value = value.strip()
    words = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
    if value in words:
        day = now_local.date() + timedelta(days=words[value])
        return datetime.combine(day, time(21, 0), tzinfo=now_local.tzinfo)
    try:
        found, _ = parse_when(value, now_local, date_only_time=time(21, 0))
    except TimeParseError:
        found = None
    if found is None:
        raise ServiceError(T.BAD_DEADLINE)
    return found


def extract_private(text: str) -> tuple[str, dict[str, str], str | None, str | None, str | None]:
    """(remaining body, labelled fields, phone, address, building) of a chat text."""
    text = _ascii(text)
    body, found = _fields(text)
    phone = re.sub(r"(?<=\d)[\s-](?=\d)", "", found["phone"]) if found.get("phone") else None
    m = _PHONE.search(body)
    if m:
        phone = phone or re.sub(r"[\s-]", "", m.group(1))
        body = (body[:m.start()] + body[m.end():]).strip()
    home, body = find_home(body) if "address" not in found else (None, body)
    address = found.get("address") or (home.text if home else None)
    building = home.building if home else None
    if found.get("address") and building is None:
        addr_home, _ = find_home(found["address"])
        building = addr_home.building if addr_home else None
    body = re.sub(r"(?:我?住在?|家住|住址在?|电话是?|联系我|联系电话)\s*(?=[,，。;；\s]|$)", "", body)
    body = re.sub(r"([,，。;；])\s*(?:[,，。;；]\s*)+", r"\1", body).strip(" ,，;；。")
    return body, found, phone, address, building


def parse_wish(text: str, now_local: datetime) -> ParsedWish:
    """Split a chat wish into public summary and private address, phone and circumstances."""
    body, found, phone, address, building = extract_private(text)
    summary, details = _summary(body)
    if found.get("details"):
        details = f"{details}\n{found['details']}" if details else found["details"]
    team = 1
    if found.get("team"):
        number = cn_to_int(re.sub(r"[人个位名\s]", "", found["team"]))
        if number is None:
            raise ServiceError(T.BAD_TEAM.format(limit=MAX_TEAM))
        team = number
    deadline = _deadline(found["deadline"], now_local) if found.get("deadline") else None
    category = (found.get("category") or "")[:8] or _category(_ascii(text))
    draft = WishDraft(summary=mask_pii(summary), details=details, address=address, phone=phone, building=building,
                        category=category, deadline=deadline, max_claimers=team)
    return ParsedWish(draft, bool(phone or address))
