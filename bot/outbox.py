"""The outbox: every outgoing text is a row first; one sender per account delivers them
under rate limits, retries with backoff and survives restarts, outages and crashes
(the rules are in docs/architecture.md, "Outbox semantics").

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
from typing import Awaitable, Callable, Iterable, Mapping, Sequence

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.accounts import AccountLeases, live_accounts
from bot.audit import record_event
from bot.clock import Clock
from bot.config import OutboxSettings
from bot.db import read
from bot.models import ChatGroup, Identity, OutboxMessage, OutboxStatus, Priority
from bot.models.limits import AccountPause
from bot.privacy import mask_pii, masked_preview
from bot.queued_rows import queue
from bot.texts import outbox as T
from bot.textsplit import split_text
from bot.transports.base import Address, ChatGone, NotConnected, RateLimited, Transport, TransportError

log = logging.getLogger(__name__)

# A wait up to this long is slept through inside one drain; longer ones end the drain.
INLINE_WAIT_SECONDS = 5.0
# A transport that cannot say whether it is connected is tried again this often after NotConnected.
PROBE_SECONDS = 5.0
# While an account is disconnected the production loop looks again this often.
OFFLINE_POLL_SECONDS = 2.0

# Age policy (docs/architecture.md): what is no longer worth sending when its turn comes.
GROUP_REPLY_MAX_AGE = timedelta(hours=2)    # an answer hours late confuses the chat more than it helps
BROADCAST_MAX_AGE = timedelta(hours=24)     # notices, digests, reminders: yesterday's is stale
URGENT_ESCALATE_AFTER = timedelta(minutes=5)  # urgent texts never expire; undelivered ones go up a level
URGENT_RETRY_CAP_SECONDS = 600.0            # urgent rows retry forever, at least every 10 minutes
ESCALATION_SWEEP_SECONDS = 30.0
ADDRESS_BATCH = 1000  # rows addressed per pass (a 3,000-group notice takes three passes)
# Rows claimed at once for a transport whose sends end in this process, when the account's limits
# let them go back to back (no spacing configured); otherwise one row is claimed at a time.
SEND_BATCH = 20

# Rows that were handed to the transport: they count against the limits (they may have gone out).
ATTEMPTED = (OutboxStatus.SENT, OutboxStatus.SENDING, OutboxStatus.UNCERTAIN)
PRIORITY_KIND = {Priority.URGENT: "urgent", Priority.REPLY: "reply", Priority.BROADCAST: "broadcast"}


class Outbox:
    """Writes outgoing texts as rows in the caller's transaction (so they commit with the
    state change that caused them) and wakes the senders after commit."""

    def __init__(self, settings: OutboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.wakeup = asyncio.Event()
        self._enqueued = False  # rows written since the last wake-up
        # Bumped by every enqueue and wake-up: a drain addresses new rows as they come, not
        # only when it started (a reply queued during a long broadcast must not wait for its end).
        self.generation = 0

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
        """Queue ``text`` (split into pieces the platform takes) for one group or one person.
        The rows returned may be marked (``ref_kind``/``ref_id``) at once, before the session's
        next statement; they are written with all of the session's together at its commit or
        before that statement (bot/queued_rows.py), and their ids are not filled in."""
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
            queue(session, row)  # written with the others at commit (bot/queued_rows.py)
            rows.append(row)
        self._enqueued = True
        self.generation += 1
        return rows

    def notify(self) -> None:
        self._enqueued = False
        self.generation += 1
        self.wakeup.set()

    def notify_if_enqueued(self) -> None:
        """Wake the senders only when something was queued (most chat needs no reply)."""
        if self._enqueued:
            self.notify()


def expiry_reason(priority: int, group_id: int | None, due: datetime, now: datetime) -> str | None:
    """Why a row is too old to send now, or None. ``due`` is when it was meant to go (queued, or
    its ``not_before``: a staggered notice is not old). Urgent texts and private replies never expire."""
    age = now - due
    if priority == Priority.REPLY and group_id is not None and age > GROUP_REPLY_MAX_AGE:
        return T.EXPIRED_GROUP_REPLY.format(hours=int(GROUP_REPLY_MAX_AGE.total_seconds() // 3600))
    if priority >= Priority.BROADCAST and age > BROADCAST_MAX_AGE:
        return T.EXPIRED_BROADCAST.format(hours=int(BROADCAST_MAX_AGE.total_seconds() // 3600))
    return None


def recipient_kind(group_id: int | None, priority: int) -> str:
    """For logs and reports: "group/urgent", "person/reply", …"""
    return f"{'group' if group_id is not None else 'person'}/{PRIORITY_KIND.get(priority, priority)}"


@dataclass
class AccountLimiter:
    """Spacing, per-group and daily caps, and rate-limit pauses for one account.

    Pure: time comes in as arguments and randomness from the injected ``rng``; the sender
    persists what cannot be derived from sent rows (the pause) and ``restore``s after a restart.
    """

    settings: OutboxSettings
    rng: random.Random
    next_send_at: datetime | None = None
    paused_until: datetime | None = None
    pause_count: int = 0
    day: date | None = None
    sent_today: int = 0
    group_sends: dict[int, deque] = field(default_factory=lambda: defaultdict(deque))

    def restore(self, *, local_day: date, sent_today: int, last_send_at: datetime | None,
                group_sends: Mapping[int, Iterable[datetime]], paused_until: datetime | None = None,
                pause_count: int = 0) -> None:
        """State after a restart, from the sent rows and the stored pause."""
        self.day, self.sent_today = local_day, sent_today
        if last_send_at is not None:
            self.next_send_at = last_send_at + timedelta(seconds=self._gap())
        for group_id, times in group_sends.items():
            self.group_sends[group_id] = deque(sorted(times))
        self.paused_until, self.pause_count = paused_until, pause_count

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

    def burst(self, now: datetime, local_day: date, most: int) -> int:
        """How many sends may go back to back now (at most ``most``): none while the account
        waits, one when sends are spaced, else as many as the daily cap leaves."""
        if self.account_wait(now, local_day) > 0:
            return 0
        if self.settings.min_interval_seconds > 0 or self.settings.jitter_seconds > 0:
            return 1
        return max(0, min(most, self.settings.daily_cap - self.sent_today))

    def group_room(self, group_id: int, now: datetime) -> int:
        """How many more sends the group may have in this minute."""
        if self.group_wait(group_id, now) > 0:
            return 0
        return self.settings.group_per_minute - len(self.group_sends[group_id])

    def record(self, group_id: int | None, now: datetime) -> None:
        self.sent_today += 1
        self.pause_count = 0
        self.next_send_at = now + timedelta(seconds=self._gap())
        if group_id is not None:
            self.group_sends[group_id].append(now)

    def pause(self, now: datetime, retry_after: float | None) -> float:
        seconds = retry_after or self.settings.rate_limit_pause_seconds * (2 ** self.pause_count)
        self.pause_count += 1
        self.paused_until = now + timedelta(seconds=seconds)
        return seconds

    def _gap(self) -> float:
        return self.settings.min_interval_seconds + self.rng.uniform(0, self.settings.jitter_seconds)


async def _platform_ids(session: AsyncSession, person_ids: Iterable[int], account: str) -> dict[int, list[str]]:
    """person id → their live platform ids on ``account``, the one they last spoke through first
    (one read)."""
    wanted = set(person_ids)
    found: dict[int, list[str]] = defaultdict(list)
    if wanted:
        for person_id, platform_id in (await read(session,
                select(Identity.person_id, Identity.platform_id).where(
                    Identity.person_id.in_(wanted), Identity.account == account, Identity.active.is_(True))
                .order_by(Identity.last_seen_at.desc()))).all():
            found[person_id].append(platform_id)
    return found


class OutboxSender:
    """Delivers pending rows through the transports, one account at a time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        transports: Mapping[str, Transport],
        clock: Clock,
        rng: random.Random | None = None,
        leases: AccountLeases | None = None,
    ) -> None:
        self.sessions = sessions
        # Which accounts this process serves (holds the lease of); None: all its transports
        # (a sender built alone, as in unit tests and benches, serves everything it has).
        self.leases = leases
        self.outbox = outbox
        self.settings = outbox.settings
        self.transports = transports
        self.clock = clock
        self.rng = rng or random.Random()
        self.limiters: dict[str, AccountLimiter] = {}
        self._lock = asyncio.Lock()
        self._stopping = False
        # Accounts whose transport said NotConnected (and cannot report ``connected``): since when.
        self._offline_since: dict[str, datetime] = {}
        self._offline_logged: set[str] = set()
        self._next_sweep: datetime | None = None
        # Set while no transport call is in flight: a clean stop waits for it (no row left uncertain).
        self._send_idle = asyncio.Event()
        self._send_idle.set()

    def serving(self) -> list[str]:
        """Accounts this process sends for now: those it holds the lease of."""
        if self.leases is None:
            return list(self.transports)
        return [a for a in self.transports if a in self.leases.held]

    def limiter(self, account: str) -> AccountLimiter:
        if account not in self.limiters:
            self.limiters[account] = AccountLimiter(self.settings, self.rng)
        return self.limiters[account]

    async def recover(self, accounts: Iterable[str] | None = None) -> None:
        """After a restart or a lease taken over: settle the sends a crash left in flight on
        ``accounts`` (default: those served now; never another process's), then rebuild the
        limits (daily count, each group's last minute, spacing, a rate-limit pause)."""
        await self._settle_in_flight(self.serving() if accounts is None else list(accounts))
        now = self.clock.now()
        today = self.clock.local(now).date()
        start = datetime.combine(today, datetime.min.time(), tzinfo=self.clock.tz)
        at = func.coalesce(OutboxMessage.sent_at, OutboxMessage.attempted_at)
        attempted = OutboxMessage.status.in_(ATTEMPTED)
        async with self.sessions() as session:
            daily = dict((await session.execute(
                select(OutboxMessage.account, func.count()).where(attempted, at >= start)
                .group_by(OutboxMessage.account))).all())
            last = dict((await session.execute(
                select(OutboxMessage.account, func.max(at)).where(attempted, at >= now - timedelta(minutes=1))
                .group_by(OutboxMessage.account))).all())
            recent: dict[str, dict[int, list[datetime]]] = defaultdict(lambda: defaultdict(list))
            for account, group_id, moment in (await session.execute(
                    select(OutboxMessage.account, OutboxMessage.group_id, at)
                    .where(attempted, OutboxMessage.group_id.is_not(None), at >= now - timedelta(minutes=1)))).all():
                recent[account][group_id].append(moment)
            pauses = {p.account: p for p in (await session.execute(select(AccountPause))).scalars()}
        for account in set(daily) | set(last) | set(recent) | set(pauses):
            if not account:
                continue
            pause = pauses.get(account)
            self.limiter(account).restore(
                local_day=today, sent_today=daily.get(account, 0), last_send_at=last.get(account),
                group_sends=recent.get(account, {}),
                paused_until=pause.paused_until if pause else None, pause_count=pause.pause_count if pause else 0)
            if pause and pause.paused_until > now:
                log.warning("account %s is still rate-limited: no sends until %s", account, pause.paused_until)

    async def drain(self) -> int:
        """Send everything sendable now (sleeping through short spacing); return how many."""
        async with self._lock:
            if self.leases is not None:
                await self.leases.renew_if_due()
            await self._sweep_undelivered_urgent()
            if not await self._any_pending():
                return 0  # the usual drain after chatter: nothing to address, send or wait for
            seen = self.outbox.generation
            await self.address()
            sent = 0
            while not self._stopping:
                if self.outbox.generation != seen:  # rows queued meanwhile (here or elsewhere)
                    seen = self.outbox.generation
                    await self.address()
                progressed = False
                for account in self.serving():
                    n = await self._send_next(account)
                    sent += n
                    progressed = progressed or n > 0
                if not progressed:
                    wait = await self._shortest_wait()
                    if wait is None or wait > INLINE_WAIT_SECONDS:
                        return sent
                    await self.clock.sleep(wait)
            return sent

    async def _any_pending(self) -> bool:
        """One indexed read instead of the addressing, candidate and spacing reads (five
        statements) that would each find nothing: every one of them looks at pending rows only."""
        async with self.sessions() as session:
            return (await read(session, _ANY_PENDING)).first() is not None

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
            if any(not self._online(a, self.clock.now()) for a in self.serving()):
                timeout = min(timeout, OFFLINE_POLL_SECONDS)  # notice the reconnect promptly
            try:
                await asyncio.wait_for(self.outbox.wakeup.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self.outbox.notify()

    async def wait_send_finished(self, timeout: float) -> bool:
        """After ``stop``: wait for a transport call in flight to return and be recorded, so a
        clean stop never leaves a row ``uncertain``. False when it did not finish in time."""
        try:
            await asyncio.wait_for(self._send_idle.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    # ----------------------------------------------------------------- connection
    def _online(self, account: str, now: datetime) -> bool:
        """Whether a send on ``account`` may be attempted: the transport's own ``connected``
        when it has one; otherwise a probe every PROBE_SECONDS after a NotConnected."""
        flag = getattr(self.transports[account], "connected", None)
        if isinstance(flag, bool):
            online = flag
        else:
            since = self._offline_since.get(account)
            online = since is None or (now - since).total_seconds() >= PROBE_SECONDS
        if online and account in self._offline_logged:
            self._offline_logged.discard(account)
            log.info("account %s is connected again: sending what waited", account)
        return online

    def _went_offline(self, account: str, now: datetime, detail: str) -> None:
        self._offline_since[account] = now
        if account not in self._offline_logged:
            self._offline_logged.add(account)
            log.warning("account %s is not connected (%s): texts wait, no attempt is spent", account, detail)

    # ----------------------------------------------------------------- internals
    async def _candidates(self, session: AsyncSession, account: str, now: datetime):  # noqa: ANN202
        """Pending rows this account may send, best first: plain column tuples (loading 200
        ORM objects to send one would make a backlog quadratic)."""
        query = (
            select(OutboxMessage.id, OutboxMessage.group_id, OutboxMessage.person_id, OutboxMessage.account,
                   OutboxMessage.priority, OutboxMessage.created_at, OutboxMessage.not_before)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.account == account,  # addressed when queued (``address``): only our own
                (OutboxMessage.not_before.is_(None)) | (OutboxMessage.not_before <= now),
            )
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(200)
        )
        return (await read(session, query)).all()

    async def _send_next(self, account: str) -> int:
        """Send the rows the account's limits let go now: one when sends are spaced (the usual
        case), a batch of up to SEND_BATCH when they may go back to back. Return how many.

        Round trips, not rows, are what a send costs here: the candidates' chats are resolved in
        one read each, expiries, re-addressing and the claim share one commit, and the sent
        marks of a batch one more."""
        now = self.clock.now()
        if not self._online(account, now):
            return 0
        lim = self.limiter(account)
        # Batches only where delivery is in-process (the test kit, the demo's web chat): to a real
        # platform a crash mid-batch would leave every claimed row in doubt, and a batch's write
        # turn would be held across network calls. One row a claim keeps both to one send.
        most = SEND_BATCH if getattr(self.transports[account], "delivers_in_process", False) else 1
        burst = lim.burst(now, self.clock.local(now).date(), most)
        if burst == 0 or self._stopping:
            return 0
        async with self.sessions() as session:
            candidates = await self._candidates(session, account, now)
            if not candidates:
                return 0
            groups, people = await self._addresses(session, candidates, account)
            chosen: list[int] = []
            addresses: dict[int, Address | None] = {}
            expired: dict[str, list[int]] = defaultdict(list)
            unaddressed: list[int] = []
            room: dict[int, int] = {}
            for candidate in candidates:
                if len(chosen) >= burst:
                    break
                due = max(candidate.created_at, candidate.not_before or candidate.created_at)
                reason = expiry_reason(candidate.priority, candidate.group_id, due, now)
                if reason:
                    expired[reason].append(candidate.id)
                    continue
                if candidate.group_id is not None:
                    left = room.setdefault(candidate.group_id, lim.group_room(candidate.group_id, now))
                    if left <= 0:
                        continue  # this group had its share this minute; others may go
                    group = groups.get(candidate.group_id)
                    if group is not None and group.active and group.account != account:
                        continue  # the group moved to another account: ``address`` follows it
                    room[candidate.group_id] = left - 1
                    addresses[candidate.id] = (Address("group", group.platform_id)
                                               if group is not None and group.active else None)
                else:
                    platform_id = people.get(candidate.person_id)
                    if platform_id is None:
                        # The person has no identity on this account (any more): another account
                        # may reach them. Never failed here: the row goes back to be addressed again.
                        unaddressed.append(candidate.id)
                        continue
                    addresses[candidate.id] = Address("person", platform_id)
                chosen.append(candidate.id)
            # Claim and mark in flight in one committed step before the transport calls: only rows
            # still pending and still ours; another process cannot take them too, and a crash
            # during a call is visible.
            claimed = await self._settle_and_claim(session, account, now, expired, unaddressed, chosen)
            if not claimed:
                return 0
            return await self._send_claimed(session, account, lim, claimed, addresses)

    async def _addresses(self, session: AsyncSession, candidates, account: str):  # noqa: ANN001, ANN202
        """The candidates' groups (id → row of id, platform_id, account, active) and their
        people's platform ids on ``account`` (person id → platform id), one read each."""
        group_ids = {c.group_id for c in candidates if c.group_id is not None}
        person_ids = {c.person_id for c in candidates if c.person_id is not None}
        groups = {g.id: g for g in (await read(session, select(
            ChatGroup.id, ChatGroup.platform_id, ChatGroup.account, ChatGroup.active)
            .where(ChatGroup.id.in_(group_ids))))} if group_ids else {}
        # The platform id they last spoke through.
        people = {pid: ids[0] for pid, ids in (await _platform_ids(session, person_ids, account)).items()}
        return groups, people

    async def _settle_and_claim(self, session: AsyncSession, account: str, now: datetime,
                                expired: Mapping[str, list[int]], unaddressed: list[int],
                                chosen: list[int]) -> list[OutboxMessage]:
        """One transaction: expire the rows too old to send, give back those this account cannot
        reach, and claim ``chosen`` (pending and addressed to ``account``, or nothing; on
        PostgreSQL locked with SKIP LOCKED first, so a second claimer moves on instead of
        waiting). Returns the rows claimed, best first, read by the claim itself (RETURNING:
        no second read)."""
        for reason, ids in expired.items():
            gone = (await session.execute(update(OutboxMessage).where(
                OutboxMessage.id.in_(ids), _PENDING).values(status=OutboxStatus.EXPIRED, error=reason)
                .returning(OutboxMessage.id))).scalars().all()
            for row_id in gone:
                log.warning("outbox row %s expired unsent: %s", row_id, reason)
        if unaddressed:
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.id.in_(unaddressed), _PENDING, OutboxMessage.account == account,
            ).values(account=None, error=T.NOT_ON_ACCOUNT.format(account=account)))
            for row_id in unaddressed:
                log.info("outbox row %s: the person has no identity on %s; addressed again", row_id, account)
        claimed: list[OutboxMessage] = []
        if chosen and not self._stopping:
            mine = (OutboxMessage.id.in_(chosen), _PENDING, OutboxMessage.account == account)
            target = OutboxMessage.id.in_(chosen)
            if session.bind.dialect.name == "postgresql":
                target = OutboxMessage.id.in_(select(OutboxMessage.id).where(*mine).with_for_update(skip_locked=True))
            claimed = sorted((await session.execute(
                update(OutboxMessage).where(target, *mine).values(status=OutboxStatus.SENDING, attempted_at=now)
                .returning(OutboxMessage))).scalars().all(), key=lambda row: (row.priority, row.id))
        if expired or unaddressed or claimed:
            await session.commit()
        return claimed

    async def _send_claimed(self, session: AsyncSession, account: str, lim: AccountLimiter,
                            rows: list[OutboxMessage], addresses: Mapping[int, Address | None]) -> int:
        """Hand the claimed rows to the transport, best first; their outcomes are committed
        together. Rows not handed over (a send that failed ends the batch, as does a stop) go
        back to pending unattempted."""
        mentions = await self._mention_map(session, rows, account)
        sent = 0
        self._send_idle.clear()  # a clean stop waits for the calls and for their outcomes' commit
        try:
            for i, row in enumerate(rows):
                now = self.clock.now()
                if self._stopping or max(lim.account_wait(now, self.clock.local(now).date()),
                                         lim.group_wait(row.group_id, now)) > 0:
                    self._release(rows[i:])
                    break
                address = addresses.get(row.id)
                if address is None:
                    await self._fail(session, row, T.NO_ADDRESS)
                    continue
                delivered = await self._deliver_once(session, row, account, address, lim, mentions)
                if not delivered:
                    self._release(rows[i + 1:])
                    break  # rate-limited, disconnected or a transport error: the drain loop decides
                sent += delivered
            await session.commit()
        finally:
            self._send_idle.set()
        return sent

    @staticmethod
    def _release(rows: Sequence[OutboxMessage]) -> None:
        """Claimed rows never handed to the transport: pending again, as if never claimed."""
        for row in rows:
            if row.status == OutboxStatus.SENDING:
                row.status, row.attempted_at = OutboxStatus.PENDING, None

    @staticmethod
    async def _mention_map(session: AsyncSession, rows: Sequence[OutboxMessage],
                           account: str) -> dict[int, list[str]]:
        """person id → their platform ids on ``account``, for everyone the rows mention (one read)."""
        return await _platform_ids(session, {pid for row in rows for pid in (row.mention_person_ids or ())}, account)

    async def address(self) -> None:
        """Give each pending row without a (live) account the account that will send it."""
        async with self.sessions() as session:
            live = set(self.serving())
            if self.leases is not None:
                live |= await live_accounts(session, self.clock)
            while await address_pending(session, sorted(live)) >= ADDRESS_BATCH:
                await session.commit()
            await session.commit()

    async def _deliver_once(self, session, row, account, address, lim, mentions) -> int:  # noqa: ANN001
        """One transport call and its outcome on ``row``: a success is committed with the rest
        of the batch, a failure at once (the helpers commit)."""
        transport = self.transports[account]
        mention_ids = [pid for person_id in (row.mention_person_ids or ()) for pid in mentions.get(person_id, ())]
        now = self.clock.now()
        try:
            platform_id = await transport.send_text(address, row.text, mention_ids)
        except NotConnected as exc:
            self._went_offline(account, now, str(exc) or "NotConnected")
            await self._wait_again(session, row, T.WAITING_CONNECTION.format(detail=str(exc) or "未连接"))
            return 0
        except RateLimited as exc:
            seconds = lim.pause(now, exc.retry_after)
            log.warning("account %s rate-limited: pausing %.0f s (%s)", account, seconds, exc)
            await self._save_pause(session, account, lim)
            await self._wait_again(session, row, T.RATE_LIMITED.format(seconds=seconds))
            return 0
        except ChatGone as exc:
            await self._chat_gone(session, row, str(exc) or T.CHAT_GONE)
            return 0
        except TransportError as exc:
            if getattr(transport, "connected", None) is False:
                # The connection dropped under this send: an outage, not the platform refusing it.
                self._went_offline(account, now, str(exc))
                await self._wait_again(session, row, T.WAITING_CONNECTION.format(detail=str(exc)))
            else:
                await self._retry_later(session, row, str(exc))
            return 0
        except Exception as exc:  # a transport bug must not kill delivery of everything else
            log.exception("send failed for outbox row %s", row.id)
            await self._retry_later(session, row, repr(exc))
            return 0
        had_pause = lim.pause_count > 0
        lim.record(row.group_id, now)
        row.platform_message_id = platform_id
        row.status, row.sent_at = OutboxStatus.SENT, self.clock.now()
        row.attempts += 1
        if had_pause:
            await self._save_pause(session, account, lim)
        if row.ref_kind in SENT_HOOKS:
            await SENT_HOOKS[row.ref_kind](session, row)
        return 1

    async def _wait_again(self, session: AsyncSession, row: OutboxMessage, reason: str) -> None:
        """Back to pending without spending an attempt (nothing reached the platform)."""
        row.status, row.error = OutboxStatus.PENDING, reason
        await session.commit()

    async def _save_pause(self, session: AsyncSession, account: str, lim: AccountLimiter) -> None:
        pause = await session.get(AccountPause, account)
        if pause is None:
            pause = AccountPause(account=account, paused_until=lim.paused_until or self.clock.now())
            session.add(pause)
        pause.paused_until = lim.paused_until or self.clock.now()
        pause.pause_count = lim.pause_count
        await session.commit()

    async def _fail(self, session: AsyncSession, row: OutboxMessage, reason: str, *, attempt: bool = True) -> None:
        row.status, row.error = OutboxStatus.FAILED, reason
        row.attempts += int(attempt)
        if row.ref_kind in FAILED_HOOKS:
            await FAILED_HOOKS[row.ref_kind](session, row)
        await session.commit()
        log.warning("outbox row %s (%s) failed: %s", row.id, recipient_kind(row.group_id, row.priority), reason)

    async def _retry_later(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        row.attempts += 1
        if row.attempts >= self.settings.max_attempts and row.priority != Priority.URGENT:
            await self._fail(session, row, T.GAVE_UP.format(attempts=row.attempts, detail=error), attempt=False)
            return
        # Urgent texts are never given up: they keep trying (and escalate, see the sweep).
        delay = min(self.settings.retry_base_seconds * (2 ** (row.attempts - 1)),
                    URGENT_RETRY_CAP_SECONDS if row.priority == Priority.URGENT else float("inf"))
        row.status, row.error = OutboxStatus.PENDING, error
        row.not_before = self.clock.now() + timedelta(seconds=delay)
        await session.commit()

    async def _chat_gone(self, session: AsyncSession, row: OutboxMessage, reason: str) -> None:
        if row.group_id is not None:
            count = await fail_pending_for_group(session, row.group_id, reason)
            if count:
                log.warning("group %s is gone: %s more outbox rows failed: %s", row.group_id, count, reason)
            group = await session.get(ChatGroup, row.group_id)
            if group is not None:
                group.active = False
        await self._fail(session, row, reason)

    async def _settle_in_flight(self, mine: list[str]) -> None:
        """Rows of ``mine`` (accounts this process has just taken the lease of) left "sending"
        by an unclean stop may or may not have reached the platform. Urgent texts go again,
        marked as a repeat (at least once); the rest are not resent (at most once) and are left
        for the operator as "uncertain". Another process's accounts are never touched: their
        rows in flight are its own sends, going on now."""
        if not mine:
            return
        async with self.sessions() as session:
            rows = (await session.execute(select(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.account.in_(mine)))).scalars().all()
            for row in rows:
                if row.priority == Priority.URGENT:
                    if not row.text.startswith(T.REPEAT_PREFIX):
                        row.text = T.REPEAT_PREFIX + row.text
                    row.status, row.error = OutboxStatus.PENDING, T.RESENT_AFTER_CRASH
                else:
                    row.status, row.error = OutboxStatus.UNCERTAIN, T.UNCERTAIN_AFTER_CRASH
                log.warning("outbox row %s (%s) was in flight at an unclean stop: %s", row.id,
                            recipient_kind(row.group_id, row.priority), row.status)
            await session.commit()

    async def _sweep_undelivered_urgent(self) -> None:
        """Urgent person alerts not delivered within URGENT_ESCALATE_AFTER (or failed for good)
        are passed on to the next person up and recorded; at most every ESCALATION_SWEEP_SECONDS."""
        now = self.clock.now()
        if self._next_sweep is not None and now < self._next_sweep:
            return
        self._next_sweep = now + timedelta(seconds=ESCALATION_SWEEP_SECONDS)
        minutes = int(URGENT_ESCALATE_AFTER.total_seconds() // 60)
        async with self.sessions() as session:
            rows = (await session.execute(select(OutboxMessage).where(
                OutboxMessage.priority == Priority.URGENT, OutboxMessage.person_id.is_not(None),
                OutboxMessage.escalated_at.is_(None),
                or_(OutboxMessage.status == OutboxStatus.FAILED,
                    and_(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                         OutboxMessage.created_at <= now - URGENT_ESCALATE_AFTER)),
            ).order_by(OutboxMessage.id).limit(50))).scalars().all()
            if not rows:
                return
            for row in rows:
                row.escalated_at = now
                told: list[str] = []
                if row.ref_kind == "ticket" and row.ref_id is not None:
                    from bot.services.tickets.announce import escalate_undelivered_alert  # noqa: PLC0415  (services import the outbox)

                    told = await escalate_undelivered_alert(session, self.outbox, self.clock, row, minutes)
                record_event(session, "outbox", row.id, "urgent_undelivered", now,
                             note=T.UNDELIVERED_URGENT.format(minutes=minutes),
                             data={"status": row.status, "error": row.error, "escalated_to": told})
                log.warning("urgent outbox row %s to person %s not delivered (%s: %s); escalated to %s",
                            row.id, row.person_id, row.status, row.error, "、".join(told) or "nobody")
            await session.commit()
        self.outbox.notify()

    async def next_due(self) -> datetime | None:
        """When a drain next has something to do: a pending row may go (spacing, caps, pauses,
        ``not_before``, an offline account's probe) or an urgent alert falls due for escalation.
        None: nothing waits. The test kit's clock jumps from one such moment to the next."""
        now = self.clock.now()
        moments: list[datetime] = []
        wait = await self._shortest_wait()
        if wait is not None:
            # A full daily cap waits for the next local day.
            moments.append(now + timedelta(seconds=wait) if wait != float("inf")
                           else datetime.combine(self.clock.local(now).date() + timedelta(days=1),
                                                 datetime.min.time(), tzinfo=self.clock.tz))
        async with self.sessions() as session:
            # _shortest_wait looks at the first rows only; a later row may be held until earlier.
            held = (await read(session, select(func.min(OutboxMessage.not_before)).where(
                _PENDING, OutboxMessage.not_before > now))).scalar_one()
            urgent = (await read(session, select(OutboxMessage.status, func.min(OutboxMessage.created_at)).where(
                OutboxMessage.priority == Priority.URGENT, OutboxMessage.person_id.is_not(None),
                OutboxMessage.escalated_at.is_(None),
                OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.PENDING, OutboxStatus.SENDING)))
                .group_by(OutboxMessage.status))).all()
        if held is not None:
            moments.append(held)
        for status, created in urgent:
            due = now if status == OutboxStatus.FAILED else created + URGENT_ESCALATE_AFTER
            moments.append(max(due, self._next_sweep or due))
        for account, since in self._offline_since.items():
            probe = since + timedelta(seconds=PROBE_SECONDS)
            if account in self.serving() and probe > now:
                moments.append(probe)
        return max(min(moments), now) if moments else None

    async def _shortest_wait(self) -> float | None:
        """Seconds until some pending row could go, or None when nothing is pending on a
        connected account."""
        now = self.clock.now()
        online = [a for a in self.serving() if self._online(a, now)]
        if not online:
            return None
        # Only rows addressed to an account this process serves: another account's rows must
        # not make this drain spin (nor wake this process: it sleeps until told).
        async with self.sessions() as session:
            rows = (await read(session,
                select(OutboxMessage.account, OutboxMessage.group_id, OutboxMessage.not_before)
                .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.account.in_(online))
                .order_by(OutboxMessage.priority, OutboxMessage.id).limit(200)
            )).all()
        waits = []
        for account, group_id, not_before in rows:
            lim = self.limiter(account)
            w = max(lim.account_wait(now, self.clock.local(now).date()), lim.group_wait(group_id, now))
            if not_before and not_before > now:
                w = max(w, (not_before - now).total_seconds())
            waits.append(w)
        return min(waits) if waits else None


# ref_kind → coroutine(session, row) run in the transaction that records a row as sent (a digest
# records "sent" only then). Services register theirs at import time.
SENT_HOOKS: dict[str, Callable[[AsyncSession, OutboxMessage], Awaitable[None]]] = {}
FAILED_HOOKS: dict[str, Callable[[AsyncSession, OutboxMessage], Awaitable[None]]] = {}  # same, on failing

_PENDING = OutboxMessage.status == OutboxStatus.PENDING
_ANY_PENDING = select(OutboxMessage.id).where(_PENDING).limit(1)


async def address_pending(session: AsyncSession, live: Sequence[str]) -> int:
    """Address pending rows to the account that will send them (the caller commits):

    - a group row: the account of the group's serving row (``bot.rooms``); a row whose group no
      account serves any more fails ("群已失效");
    - a person row without an account, or whose account is not ``live`` (no process holds its
      lease): the live account on which the person has an active identity, the one they last
      spoke through first. With none, the row waits, pending, with the reason in ``error``;
      it is addressed as soon as a live account can reach them (an account's lease taken, an
      identity linked or seen), never failed for it. A person with no active identity on any
      account at all fails ("未关联微信身份"): nothing could ever send it.

    Rows are looked for first and written only when something changes: every write to the
    outbox wakes the other processes, and an empty write each drain would wake them forever.
    Conditional updates: processes addressing at once write the same answer or nothing."""
    changed = 0
    serving = (select(ChatGroup.account).where(ChatGroup.id == OutboxMessage.group_id, ChatGroup.active.is_(True))
               .scalar_subquery())
    group = (_PENDING, OutboxMessage.group_id.is_not(None))
    groups = (await read(session, select(OutboxMessage.id, serving).where(
        *group, or_(serving.is_(None), OutboxMessage.account.is_(None), OutboxMessage.account != serving))
        .limit(ADDRESS_BATCH))).all()
    if moving := [row_id for row_id, account in groups if account is not None]:
        moved = await session.execute(update(OutboxMessage).where(
            OutboxMessage.id.in_(moving), *group, serving.is_not(None),
        ).values(account=serving).execution_options(synchronize_session=False))
        changed += moved.rowcount or 0
    if gone_ids := [row_id for row_id, account in groups if account is None]:
        gone = await session.execute(update(OutboxMessage).where(
            OutboxMessage.id.in_(gone_ids), *group, serving.is_(None),
        ).values(status=OutboxStatus.FAILED, error=T.NO_ADDRESS).execution_options(synchronize_session=False))
        if gone.rowcount:
            log.warning("%s outbox rows failed: %s (no account serves their group)", gone.rowcount, T.NO_ADDRESS)
    best = (select(Identity.account).where(
        Identity.person_id == OutboxMessage.person_id, Identity.active.is_(True), Identity.account.in_(list(live)))
        .order_by(Identity.last_seen_at.desc().nulls_last(), Identity.id.desc()).limit(1).scalar_subquery())
    person = (_PENDING, OutboxMessage.person_id.is_not(None),
              or_(OutboxMessage.account.is_(None), OutboxMessage.account.not_in(list(live))))
    waiting = or_(OutboxMessage.error.is_(None), OutboxMessage.error != T.NO_LIVE_ACCOUNT)
    known = (select(func.count()).select_from(Identity).where(
        Identity.person_id == OutboxMessage.person_id, Identity.active.is_(True)).scalar_subquery())
    people = (await read(session, select(OutboxMessage.id, best, known).where(
        *person, or_(best.is_not(None), waiting)).limit(ADDRESS_BATCH))).all()
    if reachable := [row_id for row_id, account, _ in people if account is not None]:
        readdressed = await session.execute(update(OutboxMessage).where(
            OutboxMessage.id.in_(reachable), *person, best.is_not(None),
        ).values(account=best, error=None).execution_options(synchronize_session=False))
        changed += readdressed.rowcount or 0
    if unreachable := [row_id for row_id, account, n in people if account is None and n]:
        await session.execute(update(OutboxMessage).where(
            OutboxMessage.id.in_(unreachable), *person, best.is_(None), waiting,
        ).values(error=T.NO_LIVE_ACCOUNT).execution_options(synchronize_session=False))
        changed += len(unreachable)
    if nowhere := [row_id for row_id, account, n in people if account is None and not n]:
        # No chat identity at all: nobody could send it, and saying so beats waiting forever.
        failed = await session.execute(update(OutboxMessage).where(
            OutboxMessage.id.in_(nowhere), *person, known == 0,
        ).values(status=OutboxStatus.FAILED, error=T.NO_ADDRESS).execution_options(synchronize_session=False))
        if failed.rowcount:
            log.warning("%s outbox rows to people without any chat identity failed: %s", failed.rowcount, T.NO_ADDRESS)
        changed += len(nowhere)
    return changed


async def fail_pending_for_group(session: AsyncSession, group_id: int, reason: str) -> int:
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.group_id == group_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.FAILED, error=reason)
    )
    return result.rowcount or 0


# --------------------------------------------------------------------------- reporting
@dataclass(frozen=True)
class OutboxRow:
    id: int
    status: str
    kind: str            # "group/urgent", "person/reply", …
    account: str | None
    group_id: int | None
    person_id: int | None
    created_at: datetime
    attempts: int
    reason: str | None
    preview: str


@dataclass(frozen=True)
class OutboxReport:
    """What the doctor, `zhibu outbox status` and the dashboard show about delivery."""

    counts: dict[str, int]           # rows per status
    waiting: list[OutboxRow]         # pending or in flight, best first
    problems: list[OutboxRow]        # failed, uncertain or expired since ``since``, newest first
    paused: dict[str, datetime]      # account → rate-limit pause end (current pauses only)
    undelivered_urgent: int          # urgent rows waiting longer than the escalation delay
    no_live_account: int = 0         # person rows waiting for a live account that reaches them


async def outbox_report(session: AsyncSession, now: datetime, *, since: datetime | None = None,
                        limit: int = 50) -> OutboxReport:
    """Waiting and failed rows with their reasons (texts masked: the report may be shown to staff)."""
    since = since or now - timedelta(days=7)
    counts = dict((await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())

    def rows(query) -> list[OutboxRow]:  # noqa: ANN001
        return [OutboxRow(r.id, r.status, recipient_kind(r.group_id, r.priority), r.account, r.group_id,
                          r.person_id, r.created_at, r.attempts, r.error, masked_preview(r.text))
                for r in query]

    columns = (OutboxMessage.id, OutboxMessage.status, OutboxMessage.group_id, OutboxMessage.priority,
               OutboxMessage.account, OutboxMessage.person_id, OutboxMessage.created_at,
               OutboxMessage.attempts, OutboxMessage.error, OutboxMessage.text)
    waiting = rows((await session.execute(select(*columns).where(
        OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
        .order_by(OutboxMessage.priority, OutboxMessage.id).limit(limit))).all())
    problems = rows((await session.execute(select(*columns).where(
        OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.UNCERTAIN, OutboxStatus.EXPIRED)),
        OutboxMessage.created_at >= since)
        .order_by(OutboxMessage.id.desc()).limit(limit))).all())
    paused = {p.account: p.paused_until for p in (await session.execute(
        select(AccountPause).where(AccountPause.paused_until > now))).scalars()}
    late = (await session.execute(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.priority == Priority.URGENT,
        OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
        OutboxMessage.created_at <= now - URGENT_ESCALATE_AFTER))).scalar_one()
    unserved = (await session.execute(select(func.count()).select_from(OutboxMessage).where(
        _PENDING, OutboxMessage.error == T.NO_LIVE_ACCOUNT))).scalar_one()
    return OutboxReport(counts=counts, waiting=waiting, problems=problems, paused=paused,
                        undelivered_urgent=late, no_live_account=unserved)
