"""Hostile inbound messages and the checks they must pass, for fuzzing the dispatcher.

Shared by the property-based tests (tests/test_fuzz_dispatch.py, through hypothesis) and the
long run (bench/fuzz.py, through ``random``). The pieces are what WeChat, the web chat's JSON
and copy-paste actually deliver: NUL, lone surrogates, control and invisible format
characters, huge texts, odd ids, command words with random arguments, phone and ID numbers
written every way people write them.

    run = FuzzRun(harness)
    await run.deliver_together([message(...), ...])
    run.counts  # messages, stored, dead_lettered, exceptions, failed, unmasked
"""
from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from bot.models import InboundMessage, InboundStatus
from bot.models.deadletters import DeadLetter
from bot.storable import storable_id
from bot.transports.base import Incoming, MessageKind

# Sample roster people, one per role (bot/sample/sample_org.yaml), and a stranger.
SENDERS = [
    ("张三", "wxid_zhangsan"), ("李四", "wxid_lisi"), ("张党员", "wxid_zhang_dangyuan"),
    ("赵楼长", "wxid_zhao_louzhang"), ("李书记", "wxid_li_shuji"), ("王网格", "wxid_wang_wangge"),
    ("刘社工", "wxid_liu_shegong"), ("周经理", "wxid_zhou_wuye"), ("钱主任", "wxid_qian_yewei"),
    ("陈社区", "wxid_chen_shequ"), ("区办小韩", "wxid_han_quban"), ("路人甲", "wxid_stranger"),
]
GROUPS = [("阳光花园业主1群", "room-yg-1"), ("兰亭水岸邻里群", "room-lt-1"), ("陌生新群", "room-unknown")]

NASTY = [
    "\x00", "\ud800", "\udfff", "\udbff\udc00"[0], "\x07", "\x1b[31m", "\r\n", "\t", "\u00ad", "\u200b",
    "\u200d", "\u2060", "\u202e", "\u2066", "\ufeff", "\ufffd", "\U0001f600", "\U0001f1e8\U0001f1f3", "🧑‍🔧",
    "e\u0301", "\u3000", "＠支部助手", "@支部助手 ", "'; DROP TABLE x; --", "%s%s%n", "{0}{name}", "\\", "\"",
    "<script>", "=1+1", "ﷺ", "𝟏𝟑𝟖", "٣", "\U000e0041",
]
PHONES = [
    "13812345678", "138\u00ad1234\u00ad5678", "138.1234.5678", "138  1234  5678", "１３８１２３４５６７８",
    "138－1234－5678", "1381\u200b234\u200b5678", "+86 138 1234 5678", "138\u30001234\u30005678",
    "370102199001011234", "3701 0219 9001 0112 34", "370102\u00ad19900101\u00ad123X",
]
# A sender's deletion request removes their chatter by design (handlers/core.py): their
# messages are not expected to stay.
FORGET_ME = "删除我的信息"
ISSUES = ["4号楼电梯坏了困人了快来", "3号楼楼道灯坏了好几天了", "小区门口积水严重", "楼上漏水到我家了"]


def command_words() -> list[str]:
    """Every chat command word the routers know (handlers/)."""
    from bot.router import CommandTable
    from handlers import all_routers

    return sorted({word for command in CommandTable(all_routers()).commands for word in command.words})


_CF = re.compile("[" + "".join(re.escape(chr(c)) for c in range(0x10000)
                             if unicodedata.category(chr(c)) == "Cf") + "]")
_SEP = re.compile(r"(?<=\d)[\s.\-－．]+(?=\d)")
_MOBILE = re.compile(r"(?<!\d)(?:86)?1[3-9]\d{9}(?!\d)")
_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")


def unmasked_numbers(text: str) -> list[str]:
    """Phone or ID numbers readable in ``text`` (an independent check, not the masker)."""
    plain = _CF.sub("", unicodedata.normalize("NFKC", text))
    plain = _SEP.sub("", plain)
    return _MOBILE.findall(plain) + _ID.findall(plain)


@dataclass
class Counts:
    messages: int = 0
    redelivered: int = 0  # a message id seen before: stored once, by design
    stored: int = 0
    dead_lettered: int = 0
    exceptions: int = 0
    failed: int = 0
    unmasked: int = 0
    vanished: int = 0
    forgotten: int = 0  # messages of senders who asked for deletion: may be gone, by design
    examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"messages {self.messages} ({self.redelivered} redeliveries), stored {self.stored}, "
                f"dead-lettered {self.dead_lettered}, "
                f"exceptions {self.exceptions}, failed {self.failed}, unmasked {self.unmasked}, "
                f"vanished {self.vanished}, forgotten on request {self.forgotten}")


class FuzzRun:
    """Delivers messages to a BotHarness and keeps the counts the fuzz suite asserts on."""

    def __init__(self, harness: Any) -> None:
        self.h = harness
        self.counts = Counts()
        self._keys: set[tuple[str, str]] = set()
        self._forgetting: set[tuple[str, str]] = set()

    async def deliver_together(self, messages: list[Incoming]) -> Counts:
        """Deliver concurrently (they share INSERTs, as from a gateway), drain, check. Returns
        this batch's counts (also added to ``counts``)."""
        batch = Counts(messages=len(messages))
        results = await asyncio.gather(*(self.h.bot.on_message(m) for m in messages), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                batch.exceptions += 1
                batch.examples.append(repr(result))
        await self.h.bot.dispatcher.flush_chatter()
        await self.h.drain()
        for sent in self.h.new_sent():
            if sent.group is not None and unmasked_numbers(sent.text):
                batch.unmasked += 1
                batch.examples.append(f"unmasked in group: {sent.text!r}")
        self._forgetting |= {(m.account, m.sender_id) for m in messages if FORGET_ME in (m.text or "")}
        keys = {(storable_id(m.account, 64), storable_id(m.message_id, 128)) for m in messages}
        new = keys - self._keys
        self._keys |= keys
        forgotten = {(storable_id(m.account, 64), storable_id(m.message_id, 128)) for m in messages
                     if (m.account, m.sender_id) in self._forgetting} & new
        stored, dead = await self._present(new)
        batch.stored, batch.dead_lettered = len(stored), len(dead)
        batch.forgotten = len(forgotten - stored - dead)
        batch.vanished = len(new - stored - dead - forgotten)
        batch.redelivered = len(messages) - len(new)
        batch.failed = await self._failed()
        for name in ("messages", "redelivered", "stored", "dead_lettered", "exceptions", "unmasked", "vanished",
                     "forgotten"):
            setattr(self.counts, name, getattr(self.counts, name) + getattr(batch, name))
        self.counts.failed = batch.failed  # a running total, read from the database
        self.counts.examples += batch.examples
        return batch

    async def _present(self, keys: set[tuple[str, str]]) -> tuple[set, set]:
        if not keys:
            return set(), set()
        ids = [k[1] for k in keys]
        async with self.h.session() as session:
            stored = set((await session.execute(select(InboundMessage.account, InboundMessage.platform_message_id)
                                                .where(InboundMessage.platform_message_id.in_(ids)))).all())
            letters = (await session.execute(select(DeadLetter.account, DeadLetter.platform_message_id))).all()
        dead = {k for k in keys if (ascii(k[0]), ascii(k[1])) in set(letters)}
        return stored & keys, dead

    async def _failed(self) -> int:
        async with self.h.session() as session:
            return (await session.execute(select(func.count()).select_from(InboundMessage).where(
                InboundMessage.status == InboundStatus.FAILED))).scalar_one()


def make_message(now: Any, *, n: int, text: str, sender: tuple[str, str], group: tuple[str, str] | None,
                 message_id: str | None = None, account: str = "sim", mention: bool = False,
                 kind: MessageKind = MessageKind.TEXT) -> Incoming:
    name, wxid = sender
    return Incoming(account=account, message_id=message_id if message_id is not None else f"fz-{n}",
                    sender_id=wxid, sender_name=name, text=text, sent_at=now,
                    chat_id=group[1] if group else None, chat_topic=group[0] if group else None,
                    kind=kind, mentions_bot=mention)
