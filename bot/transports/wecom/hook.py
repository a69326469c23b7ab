"""Group robot webhooks (消息推送, formerly 群机器人): send-only, into one internal group.

Each robot is its own Transport account (``wecom-hook:<name>``) serving one ChatGroup whose
platform id is the account name, so the outbox's per-account spacing and per-group cap apply
(WeCom allows 20 messages a minute per robot). Texts are split by UTF-8 bytes (2048 for text,
4096 for markdown); errcode 45009 pauses the account (RateLimited), 93000 means the webhook was
removed (ChatGone: the outbox stops using the group and the operator is told in the log),
40058 sends the text again in smaller pieces.
"""
from __future__ import annotations

import logging
from collections import deque
from datetime import datetime, timezone
from typing import Callable, Sequence

from bot.texts import wecom as T
from bot.transports.base import Address, ChatGone, EventSink, MemberInfo, RateLimited, RoomInfo
from bot.transports.wecom.aibot import userid_of
from bot.transports.wecom.api import ERR_FREQUENCY, ERR_HOOK_INVALID, ERR_TOO_LONG, WecomApiError, WecomHttp
from bot.services.duty import duty_account_prefixes
from bot.transports.wecom.settings import WecomHook

log = logging.getLogger("bot.transports.wecom")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)

TEXT_BYTES = 2048
MARKDOWN_BYTES = 4096
RATE_PAUSE_SECONDS = 60.0  # WeCom's limit is per minute: one minute's pause clears it
ACCOUNT_PREFIX = "wecom-hook:"

# A robot's group is a duty group: the compound's urgent alerts and daily digest go there too.
duty_account_prefixes.add(ACCOUNT_PREFIX)


def split_utf8(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` UTF-8 bytes, cut at line breaks where possible, never
    inside a character."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode("utf-8")) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while len(line.encode("utf-8")) > limit:
            cut, size = 0, 0
            for ch in line:
                width = len(ch.encode("utf-8"))
                if size + width > limit:
                    break
                size += width
                cut += 1
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        pieces.append(current)
    return pieces


class WecomHookTransport:
    def __init__(self, config: WecomHook, *, api_base: str, http: WecomHttp,
                 now: Callable[[], datetime] = _utcnow) -> None:
        self.config = config
        self.account = ACCOUNT_PREFIX + config.name
        # The one group this robot posts into; a community's robot serves it as one ChatGroup
        # per compound ("<account>#<compound id>"), so each compound's alerts find it.
        self.group_id = self.account
        self.now = now
        self._sent: deque[datetime] = deque()  # send times in the last minute
        self._url = f"{api_base.rstrip('/')}/cgi-bin/webhook/send"
        self._key = config.key
        self.http = http
        self.disabled = False
        self._progress: dict[str, tuple[list[str], int]] = {}

    def __repr__(self) -> str:  # the key is the whole secret of a webhook: never shown
        return f"WecomHookTransport(account={self.account!r}, key=***)"

    async def start(self, sink: EventSink) -> None:
        await self.http.open()

    async def stop(self) -> None:
        await self.http.close()

    def _body(self, text: str, mentions: list[str]) -> dict:
        if self.config.markdown:
            prefix = "".join(f"<@{m}>" for m in mentions)
            return {"msgtype": "markdown", "markdown": {"content": prefix + text}}
        body: dict = {"msgtype": "text", "text": {"content": text}}
        if mentions:
            body["text"]["mentioned_list"] = mentions
        return body

    async def send_text(self, to: Address, text: str, mention_ids: Sequence[str] = ()) -> str | None:
        if self.disabled or not self.serves(to.platform_id):
            raise ChatGone(T.HOOK_INVALID.format(name=self.config.name))
        mentions = [userid_of(m) for m in mention_ids]
        limit = MARKDOWN_BYTES if self.config.markdown else TEXT_BYTES
        # A text split in pieces and interrupted (45009) resumes where it stopped when the
        # outbox sends it again, so no piece reaches the group twice.
        pieces, index = self._progress.pop(text, (split_utf8(text, limit), 0))
        while index < len(pieces):
            piece = pieces[index]
            wait = self._minute_wait()
            if wait > 0:  # WeCom's 20 a minute, kept here rather than learnt from 45009
                self._remember(text, pieces, index)
                raise RateLimited(T.HOOK_RATE_LIMITED.format(name=self.config.name), retry_after=wait)
            self._sent.append(self.now())
            try:
                await self.http.call("POST", self._url, params={"key": self._key.get_secret_value()},
                                     body=self._body(piece, mentions if index == 0 else []))
            except WecomApiError as exc:
                if exc.errcode == ERR_FREQUENCY:
                    self._remember(text, pieces, index)
                    raise RateLimited(T.HOOK_RATE_LIMITED.format(name=self.config.name),
                                      retry_after=RATE_PAUSE_SECONDS) from exc
                if exc.errcode == ERR_HOOK_INVALID:
                    self.disabled = True
                    log.error("wecom: %s", T.HOOK_INVALID.format(name=self.config.name))
                    raise ChatGone(T.HOOK_INVALID.format(name=self.config.name)) from exc
                if exc.errcode == ERR_TOO_LONG and len(piece) > 1:
                    # WeCom counted more than we did (markdown, emoji): halve the piece and go on.
                    pieces[index:index + 1] = split_utf8(piece, max(1, len(piece.encode("utf-8")) // 2))
                    continue
                self._remember(text, pieces, index)
                raise
            except Exception:
                self._remember(text, pieces, index)
                raise
            index += 1
        return None

    def serves(self, platform_id: str) -> bool:
        return platform_id == self.group_id or platform_id.startswith(self.group_id + "#")

    def _minute_wait(self) -> float:
        now = self.now()
        while self._sent and (now - self._sent[0]).total_seconds() >= 60:
            self._sent.popleft()
        if len(self._sent) < self.config.per_minute:
            return 0.0
        return 60 - (now - self._sent[0]).total_seconds()

    def _remember(self, text: str, pieces: list[str], index: int) -> None:
        if index:
            self._progress[text] = (pieces, index)
            while len(self._progress) > 100:  # texts never retried must not pile up
                self._progress.pop(next(iter(self._progress)))

    async def room_list(self) -> list[RoomInfo]:
        return [RoomInfo(platform_id=self.group_id, topic=self.config.topic)]

    async def room_members(self, room_id: str) -> list[MemberInfo]:
        return []

    async def set_alias(self, contact_id: str, alias: str) -> None:
        return None
