"""The outbox: every outgoing text is a row first; one sender per account delivers them
under rate limits, retries with backoff and survives restarts.

Limits come from what WeChat bot operators report: ~0.5 s between sends earns
"发送消息过于频繁" after ~100 messages while ~1 s apart holds; broadcasters space sends
1–3 s at random. A rate-limit error pauses the whole account, not just one message.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import OutboxSettings
from bot.models import ChatGroup, Identity, OutboxMessage, OutboxStatus, Priority
from bot.privacy import mask_pii
from bot.textsplit import split_text
from bot.transports.base import Address, ChatGone, RateLimited, Transport, TransportError

log = logging.getLogger(__name__)

# A wait up to this long is slept through inside one drain; longer ones end the drain.
INLINE_WAIT_SECONDS = 5.0


class Outbox:
    """Writes outgoing texts as rows in the caller's transaction (so they commit with the
    state change that caused them) and wakes the senders after commit."""

    def __init__(self, settings: OutboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.wakeup = asyncio.Event()
        self._enqueued = False  # rows written since the last wake-up

    def enqueue(
        self,
        session: AsyncSession,
        text: str,
        *,
        group_id: int | None = None,
        person_id: int | None = None,
        mention_person_ids: Sequence[int] = (),
        priority: int = Priority.REPLY,
        account: str | None = None,
        ref: tuple[str, int] | None = None,
        not_before: datetime | None = None,
        in_reply_to: int | None = None,
    ) -> list[OutboxMessage]:
        if (group_id is None) == (person_id is None):
            raise ValueError("an outbox text goes to exactly one group or one person")
        if group_id is not None:
            text = mask_pii(text)  # a group is public: never show phone or ID numbers there
        rows = []
        for piece in split_text(text.strip() or "…", self.settings.text_limit):
            row = OutboxMessage(
                account=account, group_id=group_id, person_id=person_id, text=piece,
                mention_person_ids=list(mention_person_ids), priority=priority,
                status=OutboxStatus.PENDING, created_at=self.clock.now(), not_before=not_before,
                ref_kind=ref[0] if ref else None, ref_id=ref[1] if ref else None,
                in_reply_to=in_reply_to,
            )
            session.add(row)
            rows.append(row)
        self._enqueued = True
        return rows

    def notify(self) -> None:
        self._enqueued = False
        self.wakeup.set()

    def notify_if_enqueued(self) -> None:
        """Wake the senders only when something was queued (most chat needs no reply)."""
        if self._enqueued:
            self.notify()


@dataclass
class AccountLimiter:
    """Spacing, per-group and daily caps, and rate-limit pauses for one account."""

    settings: OutboxSettings
    rng: random.Random
    next_send_at: datetime | None = None
    paused_until: datetime | None = None
    pause_count: int = 0
    day: date | None = None
    sent_today: int = 0
    group_sends: dict[int, deque] = field(default_factory=lambda: defaultdict(deque))

    def account_wait(self, now: datetime, local_day: date) -> float:
        if self.day != local_day:
            self.day, self.sent_today = local_day, 0
        if self.sent_today >= self.settings.daily_cap:
            return float("inf")
        waits = [0.0]
        if self.paused_until and now < self.paused_until:
            waits.append((self.paused_until - now).total_seconds())
        if self.next_send_at and now < self.next_send_at:
            waits.append((self.next_send_at - now).total_seconds())
        return max(waits)

    def group_wait(self, group_id: int | None, now: datetime) -> float:
        if group_id is None:
            return 0.0
        sends = self.group_sends[group_id]
        while sends and (now - sends[0]).total_seconds() >= 60:
            sends.popleft()
        if len(sends) < self.settings.group_per_minute:
            return 0.0
        return 60 - (now - sends[0]).total_seconds()

    def record(self, group_id: int | None, now: datetime) -> None:
        self.sent_today += 1
        self.pause_count = 0
        gap = self.settings.min_interval_seconds + self.rng.uniform(0, self.settings.jitter_seconds)
        self.next_send_at = now + timedelta(seconds=gap)
        if group_id is not None:
            self.group_sends[group_id].append(now)

    def pause(self, now: datetime, retry_after: float | None) -> float:
        seconds = retry_after or self.settings.rate_limit_pause_seconds * (2 ** self.pause_count)
        self.pause_count += 1
        self.paused_until = now + timedelta(seconds=seconds)
        return seconds


class OutboxSender:
    """Delivers pending rows through the transports, one account at a time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        transports: Mapping[str, Transport],
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.settings = outbox.settings
        self.transports = transports
        self.clock = clock
        self.rng = rng or random.Random()
        self.limiters: dict[str, AccountLimiter] = {}
        self._lock = asyncio.Lock()
        self._stopping = False

    def limiter(self, account: str) -> AccountLimiter:
        if account not in self.limiters:
            self.limiters[account] = AccountLimiter(self.settings, self.rng)
        return self.limiters[account]

    async def recover(self) -> None:
        """After a restart: count today's sends so the daily cap holds across restarts."""
        today = self.clock.local().date()
        start = datetime.combine(today, datetime.min.time(), tzinfo=self.clock.tz)
        async with self.sessions() as session:
            rows = (await session.execute(
                select(OutboxMessage.account, func.count())
                .where(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at >= start)
                .group_by(OutboxMessage.account)
            )).all()
        for account, count in rows:
            if account:
                lim = self.limiter(account)
                lim.day, lim.sent_today = today, count

    async def drain(self) -> int:
        """Send everything sendable now (sleeping through short spacing); return how many."""
        async with self._lock:
            sent = 0
            while not self._stopping:
                progressed = False
                for account in list(self.transports):
                    n = await self._send_next(account)
                    sent += n
                    progressed = progressed or n > 0
                if not progressed:
                    wait = await self._shortest_wait()
                    if wait is None or wait > INLINE_WAIT_SECONDS:
                        return sent
                    await self.clock.sleep(wait)
            return sent

    async def run_forever(self) -> None:
        """Production loop: drain, then sleep until woken or until the next row may be due."""
        while not self._stopping:
            # Clear before draining: a wake-up that arrives during the drain must not be lost.
            self.outbox.wakeup.clear()
            try:
                await self.drain()
            except Exception:  # never let the sender die: log and try again shortly
                log.exception("outbox drain failed")
            wait = await self._shortest_wait()
            timeout = 30.0 if wait is None else max(0.2, min(wait, 30.0))
            try:
                await asyncio.wait_for(self.outbox.wakeup.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self.outbox.notify()

    # ----------------------------------------------------------------- internals
    async def _candidates(self, session: AsyncSession, account: str, now: datetime):  # noqa: ANN202
        """Pending rows this account may send, best first: plain column tuples (loading 200
        ORM objects to send one would make a backlog quadratic)."""
        query = (
            select(OutboxMessage.id, OutboxMessage.group_id, OutboxMessage.person_id, OutboxMessage.account)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                (OutboxMessage.account == account) | OutboxMessage.account.is_(None),
                (OutboxMessage.not_before.is_(None)) | (OutboxMessage.not_before <= now),
            )
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(200)
        )
        return (await session.execute(query)).all()

    async def _send_next(self, account: str) -> int:
        """Send pending rows while the account's spacing allows (usually one); return how many."""
        now = self.clock.now()
        lim = self.limiter(account)
        sent = 0
        async with self.sessions() as session:
            for candidate in await self._candidates(session, account, now):
                now = self.clock.now()
                if lim.account_wait(now, self.clock.local(now).date()) > 0:
                    break
                if lim.group_wait(candidate.group_id, now) > 0:
                    continue  # this group had its share this minute; others may go
                address, owner = await self._resolve(session, candidate)
                if owner is not None and owner != account:
                    continue  # another account serves this group or person
                # A row for no account in particular is claimed first (committed), so another
                # account's sender cannot take it too; a row already ours needs no claim.
                if candidate.account != account and not await self._claim(session, candidate.id, account):
                    continue
                row = await session.get(OutboxMessage, candidate.id)
                if address is None:
                    await self._finish(session, row, OutboxStatus.FAILED, "收件人未关联微信身份或群已失效")
                    continue
                delivered = await self._deliver(session, row, account, address, lim)
                if not delivered:
                    break  # rate-limited or a transport error: the drain loop decides what next
                sent += delivered
        return sent

    async def _resolve(self, session: AsyncSession, row) -> tuple[Address | None, str | None]:  # noqa: ANN001
        """Where ``row`` (anything with group_id, person_id, account) goes, and which account
        serves that chat."""
        if row.group_id is not None:
            group = await session.get(ChatGroup, row.group_id)
            if group is None or not group.active:
                return None, None
            return Address("group", group.platform_id), group.account
        identities = (await session.execute(
            select(Identity).where(Identity.person_id == row.person_id, Identity.active.is_(True))
            .order_by(Identity.last_seen_at.desc())
        )).scalars().all()
        for ident in identities:
            if ident.account in self.transports:
                if row.account and ident.account != row.account:
                    continue
                return Address("person", ident.platform_id), ident.account
        return None, None

    async def _claim(self, session: AsyncSession, row_id: int, account: str) -> bool:
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING)
            .values(account=account)
        )
        await session.commit()
        return result.rowcount == 1

    async def _mention_ids(self, session: AsyncSession, row: OutboxMessage, account: str) -> list[str]:
        if not row.mention_person_ids:
            return []
        found = (await session.execute(
            select(Identity.platform_id).where(
                Identity.person_id.in_(row.mention_person_ids), Identity.account == account,
                Identity.active.is_(True),
            )
        )).scalars().all()
        return list(found)

    async def _deliver(self, session, row, account, address, lim) -> int:  # noqa: ANN001
        transport = self.transports[account]
        mentions = await self._mention_ids(session, row, account)
        now = self.clock.now()
        try:
            platform_id = await transport.send_text(address, row.text, mentions)
        except RateLimited as exc:
            seconds = lim.pause(now, exc.retry_after)
            log.warning("account %s rate-limited: pausing %.0f s (%s)", account, seconds, exc)
            return 0
        except ChatGone as exc:
            await self._chat_gone(session, row, str(exc) or "群或联系人已不可达")
            return 0
        except TransportError as exc:
            await self._retry_later(session, row, str(exc))
            return 0
        except Exception as exc:  # a transport bug must not kill delivery of everything else
            log.exception("send failed for outbox row %s", row.id)
            await self._retry_later(session, row, repr(exc))
            return 0
        lim.record(row.group_id, now)
        row.platform_message_id = platform_id
        await self._finish(session, row, OutboxStatus.SENT, None)
        return 1

    async def _finish(self, session: AsyncSession, row: OutboxMessage, status: str, error: str | None) -> None:
        row.status = status
        row.error = error
        if status == OutboxStatus.SENT:
            row.sent_at = self.clock.now()
        row.attempts += 1
        await session.commit()

    async def _retry_later(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        row.attempts += 1
        row.error = error
        if row.attempts >= self.settings.max_attempts:
            row.status = OutboxStatus.FAILED
        else:
            delay = self.settings.retry_base_seconds * (2 ** (row.attempts - 1))
            row.not_before = self.clock.now() + timedelta(seconds=delay)
        await session.commit()

    async def _chat_gone(self, session: AsyncSession, row: OutboxMessage, reason: str) -> None:
        if row.group_id is not None:
            await fail_pending_for_group(session, row.group_id, reason)
            group = await session.get(ChatGroup, row.group_id)
            if group is not None:
                group.active = False
        row.status = OutboxStatus.FAILED
        row.error = reason
        row.attempts += 1
        await session.commit()

    async def _shortest_wait(self) -> float | None:
        """Seconds until some pending row could go, or None when nothing is pending."""
        now = self.clock.now()
        async with self.sessions() as session:
            rows = (await session.execute(
                select(OutboxMessage.account, OutboxMessage.group_id, OutboxMessage.not_before)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
                .order_by(OutboxMessage.priority, OutboxMessage.id).limit(200)
            )).all()
        if not rows:
            return None
        waits = []
        for account, group_id, not_before in rows:
            accounts: Iterable[str] = [account] if account in self.transports else list(self.transports)
            for acc in accounts:
                lim = self.limiter(acc)
                w = max(lim.account_wait(now, self.clock.local(now).date()), lim.group_wait(group_id, now))
                if not_before and not_before > now:
                    w = max(w, (not_before - now).total_seconds())
                waits.append(w)
        return min(waits) if waits else None


async def fail_pending_for_group(session: AsyncSession, group_id: int, reason: str) -> int:
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.group_id == group_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.FAILED, error=reason)
    )
    return result.rowcount or 0
