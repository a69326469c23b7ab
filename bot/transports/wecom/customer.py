"""Notices into WeCom customer groups (客户群) through 客户联系 group-send tasks.

A bot cannot join residents' external groups, but a company can ask the groups' owner to send
a message to them: ``add_msg_template`` creates a task that the staff member (``sender``)
confirms in the WeCom app; nothing reaches a group before that. So:

* ``CustomerGroupTransport`` (account ``wecom-cg:<name>``) serves the configured customer
  groups as ChatGroups; a notice's delivery to one of them becomes an outbox row like any
  other, and "sending" it creates the task (its ``msgid`` is the row's platform message id).
* ``GroupSendTracker`` then follows the task: it tells the staff member to confirm, records
  the task and its results on the notice's delivery record (pending until WeCom reports the
  group received it, failed when it could not or nobody confirmed in time) and reminds the
  sender through WeCom at most ``REMINDERS_PER_DAY`` times a day.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Sequence

from sqlalchemy import and_, select

from bot.audit import record_event
from bot.models import ChatGroup, Event, Identity, OutboxMessage, OutboxStatus, Priority
from bot.models.notices import DeliveryStatus, Notice, NoticeDelivery
from bot.services import Deps
from bot.services import notice_delivery
from bot.texts import wecom as T
from bot.transports.base import Address, ChatGone, EventSink, MemberInfo, RateLimited, RoomInfo, TransportError
from bot.transports.wecom.aibot import user_platform_id
from bot.transports.wecom.api import ERR_FREQUENCY, AccessToken, WecomApiError, WecomHttp
from bot.transports.wecom.hook import split_utf8
from bot.transports.wecom.settings import WecomCustomerContact

if TYPE_CHECKING:
    from bot.app import BotApp

log = logging.getLogger("bot.transports.wecom")

ACCOUNT_PREFIX = "wecom-cg:"
TEXT_BYTES = 4000           # add_msg_template's text limit
REMINDERS_PER_DAY = 3       # remind_groupmsg_send allows three a day
SUBJECT = "notice_delivery"

# The delivery of a notice through this account is settled by the tracker, not by the outbox
# row being sent (that only means the task was created).
notice_delivery.deferred_account_prefixes.add(ACCOUNT_PREFIX)


class CustomerGroupTransport:
    def __init__(self, config: WecomCustomerContact, *, api_base: str, corp_id: str, http: WecomHttp) -> None:
        self.config = config
        self.account = ACCOUNT_PREFIX + config.name
        self.http = http
        base = api_base.rstrip("/")
        self.token = AccessToken(http, api_base, corp_id, config.secret.get_secret_value())
        self._urls = {name: f"{base}/cgi-bin/externalcontact/{name}" for name in (
            "add_msg_template", "get_groupmsg_task", "get_groupmsg_send_result", "remind_groupmsg_send")}
        self._chat_ids = {g.chat_id for g in config.groups}

    def __repr__(self) -> str:
        return f"CustomerGroupTransport(account={self.account!r}, secret=***)"

    async def start(self, sink: EventSink) -> None:
        await self.http.open()

    async def stop(self) -> None:
        await self.http.close()

    async def call(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self.token.call("POST", self._urls[name], body=body)
        except WecomApiError as exc:
            if exc.errcode == ERR_FREQUENCY:
                raise RateLimited(str(exc)) from exc
            raise

    async def send_text(self, to: Address, text: str, mention_ids: Sequence[str] = ()) -> str | None:
        """Create the group-send task(s); returns their msgids (comma-separated)."""
        if to.kind != "group" or to.platform_id not in self._chat_ids:
            raise ChatGone(to.platform_id)
        msgids = []
        for piece in split_utf8(text, TEXT_BYTES):
            data = await self.call("add_msg_template", {
                "chat_type": "group", "sender": self.config.sender, "chat_id_list": [to.platform_id],
                "allow_select": False, "text": {"content": piece}})
            if data.get("fail_list"):
                raise TransportError(T.TASK_NOT_FRIEND)
            msgids.append(str(data["msgid"]))
        return ",".join(msgids)

    async def room_list(self) -> list[RoomInfo]:
        return [RoomInfo(platform_id=g.chat_id, topic=g.topic) for g in self.config.groups]

    async def room_members(self, room_id: str) -> list[MemberInfo]:
        return []

    async def set_alias(self, contact_id: str, alias: str) -> None:
        return None

    async def group_result(self, msgid: str, chat_id: str) -> tuple[int, datetime | None]:
        """(status, send time) of ``chat_id`` in task ``msgid``: 0 not sent yet, 1 sent,
        2 unreachable, 3 the group's monthly quota is used up."""
        cursor = ""
        while True:
            body: dict[str, Any] = {"msgid": msgid, "userid": self.config.sender, "limit": 500}
            if cursor:
                body["cursor"] = cursor
            data = await self.call("get_groupmsg_send_result", body)
            for item in data.get("send_list") or []:
                if item.get("chat_id") == chat_id:
                    sent = item.get("send_time")
                    return int(item.get("status") or 0), (
                        datetime.fromtimestamp(int(sent), timezone.utc) if sent else None)
            cursor = data.get("next_cursor") or ""
            if not cursor:
                return 0, None

    async def remind(self, msgid: str) -> None:
        await self.call("remind_groupmsg_send", {"msgid": msgid})


class GroupSendTracker:
    """Follows the group-send tasks of every customer-group account of ``app``."""

    def __init__(self, app: "BotApp") -> None:
        self.app = app

    def _transports(self) -> dict[str, CustomerGroupTransport]:
        return {a: t for a, t in self.app.transports.items() if isinstance(t, CustomerGroupTransport)}

    async def run_forever(self, interval_seconds: float) -> None:
        while True:
            await self.app.clock.sleep(interval_seconds)
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001  (WeCom down: try again next round)
                log.exception("wecom: following group-send tasks failed")

    async def run_once(self) -> int:
        """Record what happened to every open task; returns how many deliveries settled."""
        transports = self._transports()
        if not transports:
            return 0
        settled = 0
        async with self.app.sessions() as session:
            rows = (await session.execute(
                select(NoticeDelivery, OutboxMessage.account, OutboxMessage.platform_message_id,
                       OutboxMessage.sent_at, ChatGroup.platform_id)
                .join(OutboxMessage, and_(OutboxMessage.ref_kind == notice_delivery.REF_KIND,
                                          OutboxMessage.ref_id == NoticeDelivery.id))
                .join(ChatGroup, ChatGroup.id == NoticeDelivery.group_id)
                .where(NoticeDelivery.status == DeliveryStatus.PENDING, OutboxMessage.status == OutboxStatus.SENT,
                       OutboxMessage.account.in_(list(transports)))
                .order_by(NoticeDelivery.id))).all()
            touched: set[int] = set()
            for delivery, account, msgids, created, chat_id in rows:
                done = await self._follow(session, transports[account], delivery, (msgids or "").split(","),
                                          created, chat_id)
                settled += done
                if done:
                    touched.add(delivery.notice_id)
            await session.flush()
            await self._settle_notices(session, touched)
            await session.commit()
        self.app.outbox.notify()
        return settled

    async def _follow(self, session, transport: CustomerGroupTransport, delivery: NoticeDelivery,  # noqa: ANN001
                      msgids: list[str], created: datetime, chat_id: str) -> int:
        now = self.app.clock.now()
        config = transport.config
        if delivery.error is None:  # first sight of this task: record it and ask for confirmation
            delivery.error = T.TASK_CREATED.format(sender=config.sender)
            self._event(session, delivery, "wecom_task_created", ",".join(msgids))
            await self._prompt(session, transport, delivery)
        results = [await transport.group_result(m, chat_id) for m in msgids if m]
        statuses = {s for s, _ in results}
        if results and statuses == {1}:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = max((t for _, t in results if t), default=now)
            delivery.error = None
            self._event(session, delivery, "wecom_task_sent", T.TASK_SENT)
            return 1
        failed = statuses & {2, 3}
        if failed:
            delivery.status = DeliveryStatus.FAILED
            delivery.error = T.TASK_LIMIT if 3 in failed else T.TASK_NOT_FRIEND
            self._event(session, delivery, "wecom_task_failed", delivery.error)
            return 1
        if now - created >= timedelta(hours=config.give_up_after_hours):
            delivery.status = DeliveryStatus.FAILED
            delivery.error = T.TASK_UNCONFIRMED.format(hours=int(config.give_up_after_hours))
            self._event(session, delivery, "wecom_task_expired", delivery.error)
            return 1
        await self._maybe_remind(session, transport, delivery, msgids, created, now)
        return 0

    async def _maybe_remind(self, session, transport: CustomerGroupTransport, delivery: NoticeDelivery,  # noqa: ANN001
                            msgids: list[str], created: datetime, now: datetime) -> None:
        gap = timedelta(hours=transport.config.remind_after_hours)
        last = delivery.reminded_at or created
        if last.tzinfo is None:  # SQLite hands back naive UTC
            last = last.replace(tzinfo=timezone.utc)
        if now - last < gap:
            return
        local_day = self.app.clock.local(now).date()
        day_start = datetime.combine(local_day, datetime.min.time(), tzinfo=self.app.clock.tz)
        today = (await session.execute(select(Event.id).where(
            Event.subject_kind == SUBJECT, Event.subject_id == delivery.id,
            Event.action == "wecom_task_reminded", Event.at >= day_start))).all()
        if len(today) >= REMINDERS_PER_DAY:
            return
        for msgid in msgids:
            await transport.remind(msgid)
        delivery.reminded_at = now
        self._event(session, delivery, "wecom_task_reminded", T.REMINDED.format(count=len(today) + 1))

    async def _prompt(self, session, transport: CustomerGroupTransport, delivery: NoticeDelivery) -> None:  # noqa: ANN001
        """Tell the sender (by their WeCom identity) or else the notice's author to confirm."""
        person_id = (await session.execute(select(Identity.person_id).where(
            Identity.platform_id == user_platform_id(transport.config.sender), Identity.active.is_(True))
            .limit(1))).scalar_one_or_none()
        if person_id is None:
            notice = await session.get(Notice, delivery.notice_id)
            person_id = notice.author_person_id if notice is not None else None
        if person_id is not None:
            self.app.outbox.enqueue(session, T.CONFIRM_PROMPT.format(notice=delivery.notice_id, label=delivery.label),
                                    person_id=person_id, priority=Priority.REPLY)

    def _event(self, session, delivery: NoticeDelivery, action: str, note: str) -> None:  # noqa: ANN001
        record_event(session, SUBJECT, delivery.id, action, self.app.clock.now(), note=note,
                     data={"notice_id": delivery.notice_id})

    async def _settle_notices(self, session, notice_ids: set[int]) -> None:  # noqa: ANN001
        if not notice_ids:
            return
        pending = set((await session.execute(select(NoticeDelivery.notice_id).where(
            NoticeDelivery.notice_id.in_(notice_ids), NoticeDelivery.status == DeliveryStatus.PENDING)
            .distinct())).scalars())
        settled = []
        for notice_id in sorted(notice_ids - pending):
            notice = await session.get(Notice, notice_id)
            if notice is not None and notice.settled_at is None:
                notice.settled_at = self.app.clock.now()
                settled.append(notice)
        if settled:
            app = self.app
            deps = Deps(session, app.clock, app.outbox, app.org, app.settings)
            await notice_delivery.report_settled(deps, settled)
