"""``FixedFakePuppet``: the Wechaty SDK's in-process ``FakePuppet``, fixed for tests.

Drives ``WechatyTransport`` with no gateway and no Node (``puppet_factory=lambda: puppet``).
Test code only: production never imports it.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone
from typing import Any, Optional, Sequence

import bot.transports.wechaty.sdk  # noqa: F401  (the SDK loaded, shims first, loggers tamed)
from wechaty.fake_puppet import FakePuppet
from wechaty_puppet import (
    ContactPayload,
    EventLoginPayload,
    EventMessagePayload,
    EventRoomJoinPayload,
    EventRoomLeavePayload,
    EventRoomTopicPayload,
    EventScanPayload,
    MessagePayload,
    MessageType,
    PuppetOptions,
    RoomMemberPayload,
    RoomPayload,
    ScanStatus,
)


class FixedFakePuppet(FakePuppet):
    """The SDK's ``FakePuppet`` made usable for in-process tests.

    Stock, its ``start()`` logs in as a contact that does not exist, injected messages lack
    a real ``MessageType``, ``message_send_text`` returns an id with no message behind it and
    ``room_member_payload`` pops (deletes) its data.
    """

    def __init__(self, self_name: str = "支部助手", self_id: str = "wxid_bot") -> None:
        super().__init__(PuppetOptions(), name="fake")
        self._contact_payloads.clear()
        self.login_user_id = self_id
        self.add_fake_contact(ContactPayload(id=self_id, name=self_name, friend=True))
        self.sent: list[dict[str, Any]] = []
        self.room_aliases: dict[tuple[str, str], str] = {}
        self.fail_next: list[BaseException] = []
        self.echo_sent = True
        self._stopped = asyncio.Event()

    # -- world building
    def add_contact(self, contact_id: str, name: str, alias: str = "", friend: bool = True) -> str:
        self.add_fake_contact(ContactPayload(id=contact_id, name=name, alias=alias, friend=friend))
        return contact_id

    def add_room(self, room_id: str, topic: str, member_ids: Sequence[str], with_bot: bool = True) -> str:
        members = list(member_ids) + ([self.login_user_id] if with_bot else [])
        self.add_fake_room(RoomPayload(id=room_id, topic=topic, member_ids=members,
                                       owner_id=members[0] if members else ""))
        return room_id

    # -- events
    def inject_message(self, talker_id: str, text: str, *, room_id: str = "",
                       mention_ids: Sequence[str] = (), timestamp: float | None = None,
                       message_type: MessageType = MessageType.MESSAGE_TYPE_TEXT,
                       message_id: str | None = None) -> str:
        payload = MessagePayload(
            id=message_id or uuid.uuid4().hex, from_id=talker_id, room_id=room_id,
            to_id="" if room_id else self.login_user_id, text=text, type=message_type,
            mention_ids=list(mention_ids),
            timestamp=int((timestamp if timestamp is not None else datetime.now(timezone.utc).timestamp()) * 1000),
        )
        self.add_fake_message(payload)
        self.emitter.emit("message", EventMessagePayload(message_id=payload.id))
        return payload.id

    def room_join(self, room_id: str, invitee_ids: Sequence[str], inviter_id: str) -> None:
        room = self.get_fake_room(room_id)
        for cid in invitee_ids:
            if cid not in room.member_ids:
                room.member_ids.append(cid)
        self.emitter.emit("room-join", EventRoomJoinPayload(
            invited_ids=list(invitee_ids), inviter_id=inviter_id, room_id=room_id,
            timestamp=int(datetime.now(timezone.utc).timestamp() * 1000)))

    def room_leave(self, room_id: str, removed_ids: Sequence[str], remover_id: str) -> None:
        room = self.get_fake_room(room_id)
        room.member_ids = [m for m in room.member_ids if m not in removed_ids]
        self.emitter.emit("room-leave", EventRoomLeavePayload(
            removed_ids=list(removed_ids), remover_id=remover_id, room_id=room_id,
            timestamp=int(datetime.now(timezone.utc).timestamp() * 1000)))

    def room_topic_change(self, room_id: str, new_topic: str, changer_id: str) -> None:
        room = self.get_fake_room(room_id)
        old = room.topic
        room.topic = new_topic
        self.emitter.emit("room-topic", EventRoomTopicPayload(
            changer_id=changer_id, new_topic=new_topic, old_topic=old, room_id=room_id,
            timestamp=int(datetime.now(timezone.utc).timestamp() * 1000)))

    def scan(self, qrcode: str, status: ScanStatus = ScanStatus.Waiting) -> None:
        self.emitter.emit("scan", EventScanPayload(status=status, qrcode=qrcode))

    # -- puppet API fixes
    async def start(self) -> None:
        self._stopped.clear()
        self.emitter.emit("login", EventLoginPayload(contact_id=self.login_user_id))
        await self._stopped.wait()

    async def stop(self) -> None:
        self._stopped.set()

    async def message_send_text(self, conversation_id: str, message: str,
                                mention_ids: Optional[list[str]] = None) -> str:
        if self.fail_next:
            raise self.fail_next.pop(0)
        is_room = conversation_id in self._room_payloads
        if is_room:
            if self.login_user_id not in self.get_fake_room(conversation_id).member_ids:
                raise RuntimeError(f"room {conversation_id} not found: the bot is not a member")
        elif self.get_fake_contact(conversation_id) is None:
            raise RuntimeError(f"contact {conversation_id} not found")
        payload = MessagePayload(
            id=uuid.uuid4().hex, from_id=self.login_user_id, text=message,
            room_id=conversation_id if is_room else "", to_id="" if is_room else conversation_id,
            type=MessageType.MESSAGE_TYPE_TEXT, mention_ids=list(mention_ids or []),
            timestamp=int(datetime.now(timezone.utc).timestamp() * 1000),
        )
        self.add_fake_message(payload)
        self.sent.append({"id": payload.id, "conversation_id": conversation_id, "text": message,
                          "mention_ids": list(mention_ids or []), "room": is_room})
        if self.echo_sent:
            self.emitter.emit("message", EventMessagePayload(message_id=payload.id))
        return payload.id

    async def message_payload(self, message_id: str) -> MessagePayload:
        payload = self.get_fake_message(message_id)
        if payload is None:
            raise RuntimeError(f"message {message_id} not found")
        return payload

    async def contact_payload(self, contact_id: str) -> ContactPayload:
        payload = self.get_fake_contact(contact_id)
        if payload is None:
            raise RuntimeError(f"contact {contact_id} not found")
        return payload

    async def room_payload(self, room_id: str) -> RoomPayload:
        payload = self.get_fake_room(room_id)
        if payload is None:
            raise RuntimeError(f"room {room_id} not found")
        return RoomPayload(id=payload.id, topic=payload.topic, member_ids=list(payload.member_ids),
                           owner_id=payload.owner_id, admin_ids=list(payload.admin_ids))

    async def room_list(self) -> list[str]:
        return [rid for rid, room in self._room_payloads.items() if self.login_user_id in room.member_ids]

    async def room_member_payload(self, room_id: str, contact_id: str) -> RoomMemberPayload:
        contact = self.get_fake_contact(contact_id)
        return RoomMemberPayload(id=contact_id, name=contact.name if contact else "",
                                 room_alias=self.room_aliases.get((room_id, contact_id), ""))

    async def contact_alias(self, contact_id: str, alias: Optional[str] = None) -> str:
        contact = self.get_fake_contact(contact_id)
        if contact is None:
            raise RuntimeError(f"contact {contact_id} not found")
        if alias is not None:
            contact.alias = alias
        return contact.alias

    async def ding(self, data: Optional[str] = None) -> None:
        return None
