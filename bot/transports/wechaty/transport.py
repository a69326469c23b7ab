"""WeChat through Wechaty: the Python SDK talking gRPC to a Wechaty puppet service.

The SDK itself (``wechaty`` and its ``wechaty_puppet*`` packages) is imported only by
``sdk`` in this package, which also holds the adapted classes described below.
One ``WechatyTransport`` serves one WeChat account (one gateway endpoint + token); several
accounts are several transports (``build_wechaty_transports``).

How it uses the SDK, and why not ``Wechaty.start()``:

* ``Wechaty.start()`` blocks for the life of the connection, swallows errors (a wrong token
  becomes a printed message and a hang) and, at login, starts a plugin web server on
  0.0.0.0:5000. Instead a session here creates the SDK objects (``Wechaty``, its bound
  ``Room`` / ``Contact`` / ``Message`` classes), registers its own listeners on the puppet and
  runs ``puppet.start()`` as a task, so that connection errors, a rejected token and a dropped
  stream surface as exceptions the transport can act on (fail fast, or reconnect).
* ``Room._pool`` / ``Contact._pool`` / ``Tag._pool`` are class-level caches shared by every
  bot instance (and they keep the puppet of the instance that filled them). Each session
  binds its own classes with their own pools, so several accounts and reconnects never
  share stale objects.
* ``PuppetService`` is subclassed: it does not call the server's ``stop`` before ``start``
  (that would log a real account out on every reconnect), it tolerates event payloads of
  the newer TypeScript gateway, and ``contact_alias`` sets the alias on the field the 1.x
  gateway reads.
* Events are handed to the sink per account in arrival order (messages are fetched
  concurrently, see ``_work``; other events wait for everything before them), so the
  application sees ``on_login`` before the messages of that session.

Delivered to the ``EventSink``:

* ``on_login(LoggedIn)`` after every login (first start, reconnect, re-login), with every
  room the account is in (topic, member count and member names, for re-linking).
* ``on_message(Incoming)`` for every message but the bot's own (they come back from the
  gateway): ``text`` has the bot's @-mention removed (other mentions stay, their ids are in
  ``mention_ids``); ``mentions_bot`` comes from the puppet's mention list or, failing that,
  from "@<bot name>" in the text. Old messages (a replay at reconnect) are delivered with
  their real ``sent_at``; the dispatcher decides what is stale, and deduplicates.
* ``on_room_joined`` (``bot_joined`` when the bot itself was added), ``on_room_left``
  (``bot_left`` when the bot was removed), ``on_room_topic``.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence
from urllib.parse import quote

from bot.transports.base import (
    Address,
    ChatGone,
    NotAFriend,
    NotConnected,
    EventSink,
    Incoming,
    LoggedIn,
    MediaRef,
    MediaUnavailable,
    MemberInfo,
    MessageKind,
    RateLimited,
    RoomInfo,
    RoomJoined,
    RoomLeft,
    RoomTopicChanged,
    TransportError,
    TransportStatus,
)
from bot.transports.mentions import strip_mention
from bot.transports.quotes import split_quote
from bot.texts.wechaty import (
    TEXT_NO_ACCOUNT,
    TEXT_NOT_GATEWAY,
    TEXT_BAD_ENDPOINT,
    TEXT_BAD_TOKEN,
    TEXT_UNREACHABLE,
    TEXT_LOGIN_TIMEOUT,
    TEXT_SCAN,
    TEXT_NOT_CONNECTED,
    TEXT_CONNECTION_LOST,
    TEXT_RECONNECTED,
)
from bot.transports.wechaty.convert import (
    file_box_bytes,
    looks_like_web_ids,
    message_kind,
    print_qr,
    parse_endpoint,
    to_datetime,
)
from bot.transports.wechaty.errors import (
    WechatyStartError,
    _AuthRejected,
    _LoginTimeout,
    _NotGateway,
    _Retryable,
    _Unreachable,
)
from bot.transports.wechaty.redaction import register_secret
from bot.transports.wechaty.sdk import (
    Contact,
    EventErrorPayload,
    EventFriendshipPayload,
    EventLoginPayload,
    EventRoomInvitePayload,
    EventRoomJoinPayload,
    EventRoomLeavePayload,
    EventRoomTopicPayload,
    EventScanPayload,
    GRPCError,
    MessagePayload,
    Puppet,
    PuppetOptions,
    RoomPayload,
    ScanStatus,
    Status,
    WechatyOptions,
    ZhibuPuppetService,
    _SessionWechaty,
)

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("bot.transports.wechaty")

QR_URL = "https://wechaty.js.org/qrcode/{code}"
CONTACT_LIST_TTL = 60.0  # seconds a contact list is reused by set_alias (markers come ~2 s apart)

_RATE_HINTS = ("频繁", "too frequent", "too often", "too fast", "rate limit", "ratelimit", "frequency")
_GONE_HINTS = (
    "not found", "not exist", "no payload", "not a member", "not in room",
    "不存在", "不在群", "已被移出", "已退出", "被删除", "已解散",
)


# Filled by the puppet's ``message_send_text`` while ``send_text`` waits on ``say()``: tells
# "the text went out but loading the sent message failed" apart from "nothing was sent".
_SEND_RECEIPT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "zhibu_wechaty_send_receipt", default=None
)


def _record_sends(puppet: Puppet) -> None:
    original = puppet.message_send_text

    async def message_send_text(conversation_id: str, message: str,
                                mention_ids: Optional[list[str]] = None) -> str:
        message_id = await original(conversation_id=conversation_id, message=message,
                                    mention_ids=mention_ids)
        receipt = _SEND_RECEIPT.get()
        if receipt is not None:
            receipt["sent"] = True
            receipt["id"] = message_id
        return message_id

    puppet.message_send_text = message_send_text  # type: ignore[method-assign]


async def _cancel_and_wait(tasks: Sequence[asyncio.Task | None], timeout: float = 5.0) -> None:
    """Cancel tasks and wait for them, boundedly: on Python 3.11 ``asyncio.wait_for`` (used by
    the SDK and grpclib) can swallow a cancel, and an unbounded ``await task`` would hang stop()."""
    live = [t for t in tasks if t is not None]
    for task in live:
        if not task.done():
            task.cancel()
    if not live:
        return
    done, stuck = await asyncio.wait(live, timeout=timeout)
    for task in done:
        if not task.cancelled():
            task.exception()  # retrieved: the session is over, its errors were handled or logged
    for task in stuck:
        log.debug("task %s did not stop within %.0fs", task.get_name(), timeout)


# --------------------------------------------------------------------------- transport

class _Session:
    """One connection + login to the gateway, with its own SDK objects."""

    def __init__(self, bot: _SessionWechaty, puppet: Puppet) -> None:
        self.bot = bot
        self.puppet = puppet
        self.events: asyncio.Queue[tuple[str, Any, int | None]] = asyncio.Queue()
        self.ready = asyncio.Event()       # the first login was delivered to the sink
        self.scanned = asyncio.Event()     # a QR code was shown: wait longer for the login
        self.run_task: asyncio.Task | None = None
        self.worker: asyncio.Task | None = None
        self.self_id: str | None = None
        self.self_name: str = ""
        self.room_alias: dict[str, str] = {}
        self.gone_rooms: set[str] = set()
        self.is_reconnect = False
        self.acks: list[int] = []          # gateway events handled, not yet acknowledged
        self.ack_wanted = asyncio.Event()
        self.acker: asyncio.Task | None = None
        self.contact_ids: set[str] | None = None   # the account's contacts (for set_alias)
        self.contact_ids_at = 0.0


class WechatyTransport:
    """One WeChat account served through a Wechaty puppet service gateway."""

    # bot.relink writes "name#zb<person id>" markers into contact aliases through this transport.
    writes_alias_markers = True

    def __init__(
        self,
        account: str,
        endpoint: str = "",
        token: str = "",
        *,
        bot_name: str = "支部助手",
        login_timeout: float = 60.0,
        connect_retries: int = 5,
        retry_base: float = 1.0,
        retry_max: float = 30.0,
        probe_interval: float = 1.5,
        handshake_timeout: float = 5.0,
        health_interval: float = 20.0,
        send_timeout: float = 60.0,
        ids_stable: bool | None = None,
        deliver_self: bool = False,
        accept_room_invites: bool = True,
        accept_friends: bool = True,
        puppet_factory: Callable[[], Puppet] | None = None,
        qr_printer: Callable[[str], None] | None = print_qr,
        member_concurrency: int = 16,
        event_concurrency: int = 32,
    ) -> None:
        if puppet_factory is None:
            try:
                self._host, self._port = parse_endpoint(endpoint)
            except ValueError:
                raise WechatyStartError(TEXT_BAD_ENDPOINT.format(endpoint=endpoint, account=account)) from None
        self.account = account
        self.endpoint = endpoint
        self._token = token
        register_secret(token)
        self.bot_name = bot_name
        self.login_timeout = login_timeout
        self.connect_retries = max(1, connect_retries)
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.probe_interval = probe_interval
        self.handshake_timeout = handshake_timeout
        self.reconnect_failures = 0
        self.health_interval = health_interval
        self.send_timeout = send_timeout
        self.ids_stable_override = ids_stable
        self.deliver_self = deliver_self
        self.accept_room_invites = accept_room_invites
        self.accept_friends = accept_friends
        self._puppet_factory = puppet_factory
        self._qr_printer = qr_printer
        self._member_limit = asyncio.Semaphore(member_concurrency)
        self.event_concurrency = max(1, event_concurrency)
        self._sink: EventSink | None = None
        self._session: _Session | None = None
        self._supervisor: asyncio.Task | None = None
        self._stopping = False
        self.status = TransportStatus()
        self.logins = 0

    def __repr__(self) -> str:
        return f"WechatyTransport({self.account!r}, {self.endpoint or 'in-process'!r})"

    # ------------------------------------------------------------------ lifecycle

    async def start(self, sink: EventSink) -> None:
        """Connect and log in (retrying a few times); returns once ``on_login`` was delivered.

        Raises WechatyStartError (a Chinese message) on a wrong token, an unreachable gateway
        after ``connect_retries`` attempts, or no login within ``login_timeout``.
        """
        if self._sink is not None:
            raise RuntimeError("transport already started")
        self._sink = sink
        self._stopping = False
        attempts = 0
        delay = self.retry_base
        while True:
            attempts += 1
            try:
                self._session = await self._open_session()
                break
            except _AuthRejected as exc:
                self._sink = None
                detail = re.sub(r'"[^"]*"', '"***"', str(exc))  # the gateway echoes the token tried
                raise WechatyStartError(TEXT_BAD_TOKEN.format(
                    endpoint=self.endpoint, account=self.account, detail=detail)) from None
            except _LoginTimeout:
                self._sink = None
                raise WechatyStartError(TEXT_LOGIN_TIMEOUT.format(
                    endpoint=self.endpoint, account=self.account, seconds=self.login_timeout)) from None
            except _NotGateway as exc:
                self._sink = None
                raise WechatyStartError(TEXT_NOT_GATEWAY.format(
                    endpoint=self.endpoint, account=self.account, detail=exc)) from None
            except _Retryable as exc:
                self.status.last_error = str(exc)
                if attempts >= self.connect_retries:
                    self._sink = None
                    raise WechatyStartError(TEXT_UNREACHABLE.format(
                        endpoint=self.endpoint, account=self.account, attempts=attempts, reason=exc)) from None
                log.warning("wechaty[%s]: connect attempt %d/%d failed: %s; retrying in %.1fs",
                            self.account, attempts, self.connect_retries, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max)
        self._supervisor = asyncio.create_task(self._supervise(), name=f"wechaty-supervisor-{self.account}")

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            await _cancel_and_wait([self._supervisor])
            self._supervisor = None
        if self._session is not None:
            await self._close_session(self._session)
            self._session = None
        self.status.connected = False
        self._sink = None

    @property
    def connected(self) -> bool:
        return self._session is not None and self._session.ready.is_set()

    @property
    def self_id(self) -> str | None:
        return self._session.self_id if self._session else None

    async def _probe(self) -> None:
        """A quick TCP connect, so that an unreachable gateway is a clear error at once."""
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(self._host, self._port), timeout=5)
        except (OSError, asyncio.TimeoutError) as exc:
            raise _Unreachable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

    def _make_puppet(self) -> Puppet:
        if self._puppet_factory is not None:
            return self._puppet_factory()
        # Always a fresh PuppetOptions: the SDK's dataclass default is one shared object.
        options = PuppetOptions()
        options.token = self._token
        options.end_point = f"{self._host}:{self._port}"
        return ZhibuPuppetService(options, handshake_timeout=self.handshake_timeout)

    async def _open_session(self, *, reconnect: bool = False) -> _Session:
        if self._puppet_factory is None:
            await self._probe()
        puppet = self._make_puppet()
        options = WechatyOptions(
            name=f"zhibu-{self.account}", puppet=puppet, puppet_options=PuppetOptions(),
            host="127.0.0.1", port=0,
        )
        bot = _SessionWechaty(options)
        await bot.init_puppet()
        session = _Session(bot, bot.puppet)
        session.is_reconnect = reconnect
        _record_sends(session.puppet)
        self._listen(session)
        # Current from now on: the sink's on_login may already read rooms and members.
        self._session = session
        session.worker = asyncio.create_task(self._work(session), name=f"wechaty-events-{self.account}")
        session.acker = asyncio.create_task(self._ack_loop(session), name=f"wechaty-acks-{self.account}")
        session.run_task = asyncio.create_task(session.puppet.start(), name=f"wechaty-puppet-{self.account}")
        try:
            await self._wait_for_login(session)
        except BaseException:
            if self._session is session:
                self._session = None
            await self._close_session(session)
            raise
        return session

    async def _wait_for_login(self, session: _Session) -> None:
        assert session.run_task is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.login_timeout
        ready = asyncio.create_task(session.ready.wait())
        scanned = asyncio.create_task(session.scanned.wait())
        try:
            while True:
                waiting = {ready, session.run_task} | ({scanned} if not scanned.done() else set())
                done, _ = await asyncio.wait(waiting, timeout=max(0.0, deadline - loop.time()),
                                             return_when=asyncio.FIRST_COMPLETED)
                if ready in done:
                    return
                if session.run_task in done:
                    raise self._classify(session.run_task)
                if scanned in done:
                    # A QR code is up: give the person time to scan it (each new code extends).
                    session.scanned.clear()
                    scanned = asyncio.create_task(session.scanned.wait())
                    deadline = loop.time() + self.login_timeout
                    continue
                if not done:
                    raise _LoginTimeout()
        finally:
            ready.cancel()
            scanned.cancel()

    def _classify(self, task: asyncio.Task) -> Exception:
        """Why did the puppet task end?"""
        if task.cancelled():
            return _Retryable("cancelled")
        exc = task.exception()
        if exc is None:
            return _Retryable("the gateway closed the event stream")
        if isinstance(exc, (_NotGateway, _Retryable)):
            return exc
        if isinstance(exc, GRPCError):
            if exc.status in (Status.UNAUTHENTICATED, Status.PERMISSION_DENIED):
                return _AuthRejected(exc.message or exc.status.name)
            return _Retryable(f"gRPC {exc.status.name}: {exc.message or ''}".strip())
        text = str(exc) or type(exc).__name__
        if "token" in text.lower() and ("invalid" in text.lower() or "unauth" in text.lower()):
            return _AuthRejected(text)
        return _Retryable(f"{type(exc).__name__}: {text}")

    async def _close_session(self, session: _Session) -> None:
        await _cancel_and_wait([session.run_task, session.worker, session.acker])
        await self._flush_acks(session)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.puppet.stop(), timeout=5)

    async def _supervise(self) -> None:
        """Watch the connection; when it drops, reconnect with backoff until it is back.

        While nothing answers on the gateway's port, a TCP probe every ``probe_interval``
        cuts the backoff short: a restarted gateway is reconnected to within seconds, not
        after the next 30 s wait (the gateway holds events meanwhile, but residents wait).
        """
        while not self._stopping:
            session = self._session
            assert session is not None
            reason = await self._watch(session)
            if self._stopping:
                return
            log.warning(TEXT_CONNECTION_LOST.format(endpoint=self.endpoint, account=self.account, reason=reason))
            self.status.connected = False
            self.status.last_error = reason
            self._session = None
            await self._close_session(session)
            delay = self.retry_base
            probe = self._puppet_factory is None
            while not self._stopping:
                await self._wait_to_retry(delay, probe)
                try:
                    self._session = await self._open_session(reconnect=True)
                except (_Retryable, _AuthRejected, _LoginTimeout, _NotGateway) as exc:
                    self.reconnect_failures += 1
                    self.status.last_error = str(exc) or type(exc).__name__
                    # Only "nothing listens" is worth probing for; a refusal waits its backoff.
                    probe = isinstance(exc, _Unreachable) and self._puppet_factory is None
                    delay = min(delay * 2, self.retry_max)
                    log.warning("wechaty[%s]: reconnect failed: %s; next try in %.1fs%s",
                                self.account, self.status.last_error, delay,
                                " or as soon as the gateway answers" if probe else "")
                    continue
                log.info(TEXT_RECONNECTED.format(endpoint=self.endpoint, account=self.account))
                break

    async def _wait_to_retry(self, delay: float, probe: bool) -> None:
        if not probe:
            await asyncio.sleep(delay)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await asyncio.sleep(min(self.probe_interval, remaining))
            try:
                await self._probe()
            except _Unreachable:
                continue
            return

    async def _watch(self, session: _Session) -> str:
        """Return why the session ended: its event stream stopped, or a health check failed."""
        assert session.run_task is not None
        while True:
            done, _ = await asyncio.wait({session.run_task}, timeout=self.health_interval)
            if done:
                return str(self._classify(session.run_task))
            try:
                await asyncio.wait_for(session.puppet.ding("zhibu"), timeout=max(5.0, self.health_interval / 2))
            except Exception as exc:  # noqa: BLE001
                return f"health check failed: {type(exc).__name__}: {exc}"

    # ------------------------------------------------------------------ events

    def _listen(self, session: _Session) -> None:
        puppet = session.puppet

        def enqueue(kind: str) -> Callable[[Any], None]:
            def handler(payload: Any = None) -> None:
                # The gateway's queue number of this event (read now: emit is synchronous).
                session.events.put_nowait((kind, payload, getattr(puppet, "event_seq", None)))
            return handler

        for kind in ("login", "logout", "message", "room-join", "room-leave", "room-topic",
                     "room-invite", "friendship"):
            puppet.on(kind, enqueue(kind))

        def on_scan(payload: EventScanPayload) -> None:
            self._on_scan(session, payload)

        def on_error(payload: Any = None) -> None:
            if isinstance(payload, EventErrorPayload):
                log.warning("wechaty[%s]: gateway reported an error: %s", self.account, payload.data)
            elif isinstance(payload, BaseException):
                log.warning("wechaty[%s]: event handler error: %r", self.account, payload)

        puppet.on("scan", on_scan)
        puppet.on("error", on_error)
        for kind in ("heartbeat", "heart-beat", "dong", "ready"):
            puppet.on(kind, lambda *_: None)

    def _on_scan(self, session: _Session, payload: EventScanPayload) -> None:
        code = payload.qrcode or ""
        status = payload.status
        if status in (ScanStatus.Waiting, ScanStatus.Timeout) and code:
            url = QR_URL.format(code=quote(code, safe=""))
            log.warning(TEXT_SCAN.format(account=self.account, url=url))
            if self._qr_printer is not None:
                try:
                    self._qr_printer(code)
                except Exception:  # noqa: BLE001
                    log.debug("could not print the QR code", exc_info=True)
        else:
            log.info("wechaty[%s]: scan status %s", self.account, getattr(status, "name", status))
        session.scanned.set()

    async def _work(self, session: _Session) -> None:
        """Handle the gateway's events: messages concurrently (at most ``event_concurrency``
        at once), each handed to the sink in the gateway's order; other events (login, room
        changes) alone, after everything before them and before everything after them.

        Handing over in order is what keeps one conversation in order: the dispatcher takes a
        message's turn in its conversation synchronously when ``on_message`` is entered, so
        only the fetching before that (payload, talker, room) runs out of order.
        """
        limit = asyncio.Semaphore(self.event_concurrency)
        running: set[asyncio.Task] = set()
        handed: asyncio.Future | None = None   # the previous message was handed to the sink
        loop = asyncio.get_running_loop()

        def done(task: asyncio.Task) -> None:
            running.discard(task)
            limit.release()

        try:
            while True:
                kind, payload, seq = await session.events.get()
                if kind != "message":
                    if running:
                        await asyncio.wait(set(running))
                    await self._event(session, kind, payload, seq)
                    continue
                await limit.acquire()
                mine = loop.create_future()
                task = asyncio.create_task(self._message_event(session, payload.message_id, seq, handed, mine))
                handed = mine
                running.add(task)
                task.add_done_callback(done)
        finally:
            await _cancel_and_wait(list(running))

    async def _event(self, session: _Session, kind: str, payload: Any, seq: int | None) -> None:
        try:
            await self._handle(session, kind, payload)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            # Not acknowledged: the gateway replays it at the next connect (never lose a report).
            log.exception("wechaty[%s]: failed to handle a %s event", self.account, kind)
            return
        self._acknowledge(session, seq)

    async def _message_event(self, session: _Session, message_id: str, seq: int | None,
                             before: asyncio.Future | None, handed: asyncio.Future) -> None:
        assert self._sink is not None
        try:
            incoming = await self._incoming(session, message_id)
            if before is not None:
                await asyncio.shield(before)
            # Set before entering the sink: the next message resumes only after this one's
            # on_message ran up to its first suspension (its turn taken).
            handed.set_result(None)
            if incoming is not None:
                await self._sink.on_message(incoming)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("wechaty[%s]: failed to handle a message event", self.account)
            return  # not acknowledged: replayed at the next connect
        finally:
            if not handed.done():
                # Failed or cancelled: the next message still waits for the one before this.
                if before is None or before.done():
                    handed.set_result(None)
                else:
                    before.add_done_callback(lambda _f: handed.done() or handed.set_result(None))
        self._acknowledge(session, seq)

    def _acknowledge(self, session: _Session, seq: int | None) -> None:
        if seq is not None:
            # Handled means stored (the sink returns once the message is durable).
            session.acks.append(seq)
            session.ack_wanted.set()

    async def _ack_loop(self, session: _Session) -> None:
        """Acknowledge handled events in batches; a lost ack only means a replay the
        dispatcher deduplicates."""
        ack = getattr(session.puppet, "ack", None)
        while True:
            await session.ack_wanted.wait()
            session.ack_wanted.clear()
            seqs, session.acks = session.acks, []
            if not seqs or ack is None:
                continue
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancel that
                # closes the session when the ack completes at the same moment.
                async with asyncio.timeout(10):
                    await ack(seqs)
            except asyncio.CancelledError:
                session.acks = seqs + session.acks  # flushed by _close_session
                raise
            except Exception as exc:  # noqa: BLE001
                log.debug("wechaty[%s]: acknowledging %d events failed: %r", self.account, len(seqs), exc)

    async def _flush_acks(self, session: _Session) -> None:
        """Acknowledge what was handled before the session closes, so a graceful stop or
        restart does not make the gateway replay events already stored (harmless, since the
        dispatcher deduplicates, but it costs a reconnect's worth of work)."""
        ack = getattr(session.puppet, "ack", None)
        seqs, session.acks = session.acks, []
        if not seqs or ack is None:
            return
        try:
            async with asyncio.timeout(2):
                await ack(seqs)
        except Exception as exc:  # noqa: BLE001  (a dropped connection: replayed later)
            log.debug("wechaty[%s]: final acknowledgement of %d events failed: %r", self.account, len(seqs), exc)

    async def _handle(self, session: _Session, kind: str, payload: Any) -> None:
        if kind == "login":
            await self._on_login(session, payload)
        elif kind == "logout":
            log.warning("wechaty[%s]: logged out (%s)", self.account, getattr(payload, "data", ""))
            self.status.logged_in_as = None
            session.self_id = None  # sends wait (TransportError) until the next login
        elif kind == "message":
            await self._on_message(session, payload.message_id)
        elif kind == "room-join":
            await self._on_room_join(session, payload)
        elif kind == "room-leave":
            await self._on_room_leave(session, payload)
        elif kind == "room-topic":
            await self._on_room_topic(session, payload)
        elif kind == "room-invite":
            await self._on_room_invite(session, payload)
        elif kind == "friendship":
            await self._on_friendship(session, payload)

    async def _on_login(self, session: _Session, payload: EventLoginPayload) -> None:
        assert self._sink is not None
        session.self_id = payload.contact_id
        session.room_alias.clear()
        session.gone_rooms.clear()
        contact = session.bot.ContactSelf.load(payload.contact_id)
        try:
            await contact.ready(force_sync=True)
            session.self_name = contact.name or ""
        except Exception:  # noqa: BLE001
            log.warning("wechaty[%s]: could not load the bot's own contact", self.account, exc_info=True)
        rooms = await self._room_infos(session)
        ids_stable = self.ids_stable_override
        if ids_stable is None:
            ids_stable = not looks_like_web_ids(payload.contact_id)
        self.logins += 1
        if session.is_reconnect and not session.ready.is_set():
            self.status.reconnects += 1
        self.status.connected = True
        self.status.logged_in_as = session.self_name or payload.contact_id
        log.info("wechaty[%s]: logged in as %s (%s), %d rooms", self.account, session.self_name,
                 payload.contact_id, len(rooms))
        try:
            await self._sink.on_login(LoggedIn(
                account=self.account, self_id=payload.contact_id, name=session.self_name,
                rooms=tuple(rooms), ids_stable=ids_stable,
            ))
        finally:
            session.ready.set()

    def _bot_names(self, session: _Session, room_id: str | None) -> list[str]:
        names = [self.bot_name, session.self_name]
        if room_id and session.room_alias.get(room_id):
            names.append(session.room_alias[room_id])
        return [n for n in names if n]

    async def _bot_room_alias(self, session: _Session, room_id: str) -> str:
        if room_id not in session.room_alias and session.self_id:
            alias = ""
            with contextlib.suppress(Exception):
                member = await session.puppet.room_member_payload(room_id, session.self_id)
                alias = (getattr(member, "room_alias", "") or "") if member is not None else ""
            session.room_alias[room_id] = alias
        return session.room_alias.get(room_id, "")

    async def _on_message(self, session: _Session, message_id: str) -> None:
        assert self._sink is not None
        incoming = await self._incoming(session, message_id)
        if incoming is not None:
            await self._sink.on_message(incoming)

    async def _incoming(self, session: _Session, message_id: str) -> Incoming | None:
        """The gateway's message as an Incoming (None for the bot's own, unless delivered)."""
        payload: MessagePayload = await session.puppet.message_payload(message_id)
        talker_id = payload.from_id or ""
        is_self = bool(session.self_id) and talker_id == session.self_id
        if is_self and not self.deliver_self:
            log.debug("wechaty[%s]: ignoring the bot's own message %s", self.account, message_id)
            return None
        message = session.bot.Message.load(message_id)
        message._payload = payload  # noqa: SLF001  (loaded above, tolerant of unknown talkers)
        talker = await self._contact(session, talker_id) if talker_id else None
        sender_name = ""
        sender_alias = None
        if talker is not None and talker.payload is not None:
            sender_name = talker.name or ""
            sender_alias = talker.payload.alias or None
        room_id = payload.room_id or None
        topic = None
        if room_id:
            room = session.bot.Room.load(room_id)
            if room.is_ready():
                topic = room.payload.topic
            else:
                fresh = await self._fresh_room(session, room_id)
                topic = fresh.topic if fresh is not None else None
        kind = message_kind(payload.type)
        # A recall's text is the withdrawn message's id: kept, so a stored recall can be run again.
        text = (payload.text or "") if kind in (MessageKind.TEXT, MessageKind.RECALL) else ""
        quoted_text: str | None = None
        if kind == MessageKind.TEXT:
            text, quoted_text = split_quote(text)
        mention_ids = [m for m in (payload.mention_ids or []) if m]
        if room_id and kind == MessageKind.TEXT and mention_ids:
            with contextlib.suppress(Exception):  # the SDK's list; the raw ids if it fails
                mention_ids = [c.contact_id for c in await message.mention_list()]
        mentions_bot = bool(session.self_id) and session.self_id in mention_ids
        if room_id and kind == MessageKind.TEXT:
            await self._bot_room_alias(session, room_id)
            text, named = strip_mention(text, self._bot_names(session, room_id))
            mentions_bot = mentions_bot or named
        else:
            text = text.strip()
        incoming = Incoming(
            account=self.account,
            message_id=payload.id or message_id,
            sender_id=talker_id,
            sender_name=sender_name,
            text=text,
            sent_at=to_datetime(payload.timestamp),
            chat_id=room_id,
            chat_topic=topic,
            kind=kind,
            mentions_bot=mentions_bot,
            mention_ids=tuple(m for m in mention_ids if m != session.self_id),
            is_self=is_self,
            sender_alias=sender_alias,
            quoted_text=quoted_text,
            media=(MediaRef(name=getattr(payload, "filename", "") or "")
                   if kind in (MessageKind.IMAGE, MessageKind.VIDEO) else None),
            recalled_message_id=(payload.text or "").strip() or None if kind == MessageKind.RECALL else None,
        )
        return incoming

    async def fetch_media(self, incoming: Incoming, max_bytes: int) -> bytes:
        """The photo/video of ``incoming`` through the gateway's FileBox (base64 or URL boxes)."""
        session = self._session
        if session is None:
            raise MediaUnavailable("not connected")
        try:
            if incoming.kind == MessageKind.IMAGE:
                box = await session.puppet.message_image(incoming.message_id, 3)  # 3: the full-size image
            else:
                box = await session.puppet.message_file(incoming.message_id)
        except Exception as exc:  # the puppet refused (expired, unsupported): nothing to attach
            raise MediaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return await file_box_bytes(box, max_bytes)

    async def _fresh_room(self, session: _Session, room_id: str) -> RoomPayload | None:
        """The room as the gateway has it now (the SDK's ``Room.ready`` never refreshes)."""
        try:
            payload = await session.puppet.room_payload(room_id)
        except Exception:  # noqa: BLE001
            log.debug("room payload %s unavailable", room_id, exc_info=True)
            return None
        room = session.bot.Room.load(room_id)
        room._payload = payload  # noqa: SLF001  (refresh the SDK's cached copy)
        return payload

    async def _contact(self, session: _Session, contact_id: str, *, refresh: bool = False) -> Contact | None:
        contact = session.bot.Contact.load(contact_id)
        async with self._member_limit:
            try:
                await contact.ready(force_sync=refresh)
            except Exception:  # noqa: BLE001
                return None
        return contact

    async def _member_info(self, session: _Session, contact_id: str, *, refresh: bool = False) -> MemberInfo:
        contact = await self._contact(session, contact_id, refresh=refresh)
        if contact is None or contact.payload is None:
            return MemberInfo(platform_id=contact_id, name="")
        return MemberInfo(platform_id=contact_id, name=contact.name or "",
                          alias=(contact.payload.alias or None))

    async def _members(self, session: _Session, room_id: str, member_ids: Sequence[str] | None = None,
                       *, refresh: bool = False) -> list[MemberInfo]:
        if member_ids is None:
            member_ids = await session.puppet.room_members(room_id)
        ids = [m for m in member_ids if m and m != session.self_id]
        return list(await asyncio.gather(*(self._member_info(session, m, refresh=refresh) for m in ids)))

    async def _room_info(self, session: _Session, room_id: str, payload: RoomPayload | None = None) -> RoomInfo:
        if payload is None:
            payload = await self._fresh_room(session, room_id)
        if payload is None:
            return RoomInfo(platform_id=room_id, topic="")
        member_ids = list(payload.member_ids or [])
        if not member_ids:
            with contextlib.suppress(Exception):
                member_ids = list(await session.puppet.room_members(room_id))
        members = await self._members(session, room_id, member_ids)
        return RoomInfo(
            platform_id=room_id,
            topic=payload.topic or "",
            member_count=len(member_ids),
            member_names=tuple(sorted(m.name for m in members)),
        )

    async def _room_infos(self, session: _Session) -> list[RoomInfo]:
        try:
            room_ids = list(await session.puppet.room_list())
        except Exception:  # noqa: BLE001
            log.warning("wechaty[%s]: could not list rooms", self.account, exc_info=True)
            return []
        return list(await asyncio.gather(*(self._room_info(session, rid) for rid in room_ids)))

    async def _on_room_join(self, session: _Session, payload: EventRoomJoinPayload) -> None:
        assert self._sink is not None
        room_id = payload.room_id
        session.gone_rooms.discard(room_id)
        info = await self._room_info(session, room_id)
        invited = [i for i in payload.invited_ids if i]
        bot_joined = bool(session.self_id) and session.self_id in invited
        members = await self._members(session, room_id, invited, refresh=True)
        await self._sink.on_room_joined(RoomJoined(
            account=self.account, room=info, members=tuple(members), bot_joined=bot_joined,
            at=to_datetime(payload.timestamp),
        ))

    async def _on_room_leave(self, session: _Session, payload: EventRoomLeavePayload) -> None:
        assert self._sink is not None
        room_id = payload.room_id
        removed = [i for i in payload.removed_ids if i]
        bot_left = bool(session.self_id) and session.self_id in removed
        if bot_left:
            session.gone_rooms.add(room_id)
        else:
            await self._fresh_room(session, room_id)
        members = await self._members(session, room_id, removed)
        await self._sink.on_room_left(RoomLeft(
            account=self.account, room_id=room_id, members=tuple(members), bot_left=bot_left,
            at=to_datetime(payload.timestamp),
        ))

    async def _on_room_topic(self, session: _Session, payload: EventRoomTopicPayload) -> None:
        assert self._sink is not None
        room = session.bot.Room.load(payload.room_id)
        if room.is_ready():
            room.payload.topic = payload.new_topic
        await self._sink.on_room_topic(RoomTopicChanged(
            account=self.account, room_id=payload.room_id, old_topic=payload.old_topic or "",
            new_topic=payload.new_topic or "", at=to_datetime(payload.timestamp),
        ))

    async def _on_room_invite(self, session: _Session, payload: EventRoomInvitePayload) -> None:
        """Accept invitations to larger groups; the room-join event follows."""
        if not self.accept_room_invites or not payload.room_invitation_id:
            return
        try:
            await session.puppet.room_invitation_accept(payload.room_invitation_id)
            log.info("wechaty[%s]: accepted room invitation %s", self.account, payload.room_invitation_id)
        except Exception:  # noqa: BLE001
            log.warning("wechaty[%s]: could not accept room invitation", self.account, exc_info=True)

    async def _on_friendship(self, session: _Session, payload: EventFriendshipPayload) -> None:
        """Accept friend requests, so residents can talk to the bot privately."""
        if not self.accept_friends or not payload.friendship_id:
            return
        try:
            await session.puppet.friendship_accept(payload.friendship_id)
            log.info("wechaty[%s]: accepted friend request %s", self.account, payload.friendship_id)
        except Exception:  # noqa: BLE001
            log.info("wechaty[%s]: friend request %s not accepted", self.account, payload.friendship_id,
                     exc_info=True)

    # ------------------------------------------------------------------ outbound

    def _live_session(self) -> _Session:
        session = self._session
        if session is None or not session.self_id or session.run_task is None or session.run_task.done():
            raise NotConnected(TEXT_NOT_CONNECTED.format(account=self.account))
        return session

    async def send_text(self, to: Address, text: str, mention_ids: Sequence[str] = ()) -> str | None:
        """Send ``text``; mentions are best effort, the text always goes out.

        ChatGone only when the platform confirms it (the bot was removed from the room, or
        the room / contact is missing from a fresh lookup): a failed send to a chat that is
        still there is a TransportError the outbox retries.
        """
        session = self._live_session()
        if to.kind == "group" and to.platform_id in session.gone_rooms:
            raise ChatGone(f"the bot is no longer in room {to.platform_id}")
        receipt: dict[str, Any] = {}
        token = _SEND_RECEIPT.set(receipt)
        try:
            if to.kind == "group":
                mentions = await self._mentionable(session, to.platform_id, mention_ids)
                room = session.bot.Room.load(to.platform_id)
                say = room.say(text, mention_ids=mentions or None)
            else:
                contact = session.bot.Contact.load(to.platform_id)
                say = contact.say(text)
            message = await asyncio.wait_for(say, timeout=self.send_timeout)
        except Exception as exc:  # noqa: BLE001
            if receipt.get("sent"):
                # The text went out; only re-reading the sent message failed. Do not resend.
                log.debug("wechaty[%s]: sent, but loading the sent message failed: %r", self.account, exc)
                return receipt.get("id") or None
            error = classify_send_error(exc)
            if isinstance(error, ChatGone):
                error = await self._confirm_gone(session, to, error)
            raise error from exc
        finally:
            _SEND_RECEIPT.reset(token)
        if message is not None and getattr(message, "message_id", None):
            return message.message_id
        return receipt.get("id") or None

    async def _mentionable(self, session: _Session, room_id: str, mention_ids: Sequence[str]) -> list[str]:
        """The mention ids worth sending: members of this room whose contact loads.

        ``Room.say`` loads every mentioned contact and fails the whole send on one it cannot
        load (a person who left, the second id of someone linked twice). Such a mention is
        dropped; the name the outbox wrote stays in the text.
        """
        wanted = list(dict.fromkeys(m for m in mention_ids if m))
        if not wanted:
            return []
        try:
            members = set(await session.puppet.room_members(room_id))
        except Exception:  # noqa: BLE001  (cannot tell: the loading below still filters)
            members = None
        kept = []
        for contact_id in wanted:
            if members is not None and contact_id not in members:
                log.debug("wechaty[%s]: not mentioning %s: not a member of %s", self.account, contact_id, room_id)
                continue
            contact = await self._contact(session, contact_id)
            if contact is None or contact.payload is None:
                log.info("wechaty[%s]: not mentioning %s in %s: the contact cannot be loaded",
                         self.account, contact_id, room_id)
                continue
            kept.append(contact_id)
        return kept

    async def _confirm_gone(self, session: _Session, to: Address, error: ChatGone) -> TransportError:
        """ChatGone if a fresh lookup confirms the room / contact is gone, else a retryable error."""
        try:
            if to.kind == "group":
                present = to.platform_id in set(await session.puppet.room_list())
            else:
                present = to.platform_id in set(await session.puppet.contact_list())
        except Exception as exc:  # noqa: BLE001
            log.debug("wechaty[%s]: could not confirm %s is gone: %r", self.account, to.platform_id, exc)
            return TransportError(str(error))
        if present:
            return TransportError(str(error))
        if to.kind == "group":
            session.gone_rooms.add(to.platform_id)
        return error

    async def room_list(self) -> list[RoomInfo]:
        session = self._live_session()
        return await self._room_infos(session)

    async def room_members(self, room_id: str) -> list[MemberInfo]:
        session = self._live_session()
        try:
            return await self._members(session, room_id)
        except Exception as exc:  # noqa: BLE001
            raise classify_send_error(exc) from exc

    async def contacts(self) -> list[MemberInfo]:
        """The account's friends (with their aliases): re-linking uses it on web-protocol puppets."""
        session = self._live_session()
        try:
            ids = [c for c in await session.puppet.contact_list() if c and c != session.self_id]
        except Exception as exc:  # noqa: BLE001
            raise classify_send_error(exc) from exc
        contacts = await asyncio.gather(*(self._contact(session, cid) for cid in ids))
        return [MemberInfo(platform_id=c.contact_id, name=c.name or "", alias=c.payload.alias or None)
                for c in contacts if c is not None and c.payload is not None and c.payload.friend]

    async def set_alias(self, contact_id: str, alias: str) -> None:
        """Write a remark.

        An id that is not one of the account's contacts (or not a friend) is refused here,
        without asking the gateway (which could only fail, with a stack trace in its log):
        NotAFriend, a TransportError, so the caller does not record a marker that was never
        written. Nothing is logged here.
        """
        session = self._live_session()
        if not await self._is_friend(session, contact_id):
            raise NotAFriend(f"{contact_id} is not a friend of the account: WeChat keeps remarks for friends only")
        try:
            await session.puppet.contact_alias(contact_id, alias)
        except Exception as exc:  # noqa: BLE001
            raise classify_send_error(exc) from exc
        with contextlib.suppress(Exception):
            await session.bot.Contact.load(contact_id).ready(force_sync=True)

    async def _is_friend(self, session: _Session, contact_id: str) -> bool:
        loop = asyncio.get_running_loop()
        if session.contact_ids is None or loop.time() - session.contact_ids_at > CONTACT_LIST_TTL:
            try:
                session.contact_ids = set(await session.puppet.contact_list())
            except Exception as exc:  # noqa: BLE001
                raise classify_send_error(exc) from exc
            session.contact_ids_at = loop.time()
        if contact_id not in session.contact_ids:
            return False
        contact = await self._contact(session, contact_id)
        return contact is not None and contact.payload is not None and bool(contact.payload.friend)


def classify_send_error(exc: BaseException) -> TransportError:
    """Map a puppet / gRPC failure to the outbox's error types."""
    if isinstance(exc, TransportError):
        return exc
    if isinstance(exc, asyncio.TimeoutError):
        return TransportError("timed out")
    if isinstance(exc, GRPCError):
        text = exc.message or exc.status.name
        status = exc.status
    else:
        text = str(exc) or type(exc).__name__
        status = None
    lowered = text.lower()
    if any(hint in lowered for hint in _RATE_HINTS):
        return RateLimited(text)
    if status == Status.NOT_FOUND or any(hint in lowered for hint in _GONE_HINTS):
        return ChatGone(text)
    return TransportError(text)


def build_wechaty_transports(settings: "Settings", *, required: bool = True,
                             **overrides: Any) -> list[WechatyTransport]:
    """One transport per configured account (``settings.wechaty.all_accounts()``).

    Raises WechatyStartError (Chinese text) for no account when ``required``, or a bad endpoint.
    """
    config = settings.wechaty
    accounts = config.all_accounts()
    if not accounts and required:
        raise WechatyStartError(TEXT_NO_ACCOUNT)
    options: dict[str, Any] = dict(
        bot_name=config.bot_name,
        login_timeout=config.login_timeout_seconds,
        connect_retries=config.connect_retries,
        event_concurrency=config.event_concurrency,
    )
    options.update(overrides)
    return [WechatyTransport(a.name, a.endpoint, a.token, **options) for a in accounts]
