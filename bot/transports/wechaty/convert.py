"""The gateway's values as ours: message types, timestamps, FileBox content, endpoints, QR codes.

Pure helpers, no connection: the SDK's names come from ``sdk``.
"""
from __future__ import annotations

import base64
import binascii
import sys
from datetime import datetime, timezone
from typing import Any

from bot.transports.base import MediaUnavailable, MessageKind
from bot.transports.wechaty.sdk import FileBoxType, MessageType


_KINDS = {
    MessageType.MESSAGE_TYPE_TEXT: MessageKind.TEXT,
    MessageType.MESSAGE_TYPE_IMAGE: MessageKind.IMAGE,
    MessageType.MESSAGE_TYPE_AUDIO: MessageKind.VOICE,
    MessageType.MESSAGE_TYPE_VIDEO: MessageKind.VIDEO,
    MessageType.MESSAGE_TYPE_ATTACHMENT: MessageKind.FILE,
    MessageType.MESSAGE_TYPE_URL: MessageKind.LINK,
    MessageType.MESSAGE_TYPE_EMOTICON: MessageKind.EMOTICON,
    MessageType.MESSAGE_TYPE_MINI_PROGRAM: MessageKind.MINI_PROGRAM,
    MessageType.MESSAGE_TYPE_RECALLED: MessageKind.RECALL,  # its text is the recalled message's id
}


async def file_box_bytes(box: Any, max_bytes: int) -> bytes:
    """A FileBox's content, refusing more than ``max_bytes`` (QR-code boxes carry no file)."""
    kind = box.type()
    if kind == FileBoxType.Base64:
        encoded = box.base64 or ""
        if len(encoded) * 3 // 4 > max_bytes + 3:
            raise MediaUnavailable("too large")
        try:
            data = base64.b64decode(encoded)
        except (binascii.Error, ValueError) as exc:
            raise MediaUnavailable("bad base64") from exc
    elif kind == FileBoxType.Url:
        import aiohttp

        async with aiohttp.ClientSession() as http, http.get(box.remoteUrl) as response:
            if response.status != 200 or (response.content_length or 0) > max_bytes:
                raise MediaUnavailable(f"HTTP {response.status}")
            data = await response.content.read(max_bytes + 1)
    else:
        raise MediaUnavailable(f"no file in a {kind.name} box")
    if len(data) > max_bytes:
        raise MediaUnavailable("too large")
    return data


def message_kind(value: Any) -> MessageKind:
    try:
        return _KINDS.get(MessageType(int(value)), MessageKind.OTHER)
    except (TypeError, ValueError):
        return MessageKind.OTHER


def to_datetime(timestamp: float | int | None) -> datetime:
    """Puppet timestamps are seconds or milliseconds since the epoch; 0/None means now."""
    if not timestamp:
        return datetime.now(timezone.utc)
    value = float(timestamp)
    if value > 2_145_888_000:  # after 2038 in seconds: it is milliseconds
        value /= 1000
    return datetime.fromtimestamp(value, tz=timezone.utc)


def looks_like_web_ids(self_id: str) -> bool:
    """Web-protocol puppets (wechat4u, puppeteer) use session ids like ``@3f2a…`` that change
    at every login; pad/iPad/Windows puppets use stable ``wxid_…`` ids."""
    return self_id.startswith("@")


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    value = endpoint.strip()
    for prefix in ("grpc://", "http://", "https://"):
        if value.startswith(prefix):
            value = value[len(prefix):]
    value = value.rstrip("/")
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(endpoint)
    return host.strip("[]"), int(port)


def print_qr(code: str, stream: Any = None) -> None:
    """Print a scannable QR code in the terminal."""
    import qrcode

    qr = qrcode.QRCode(border=1)
    qr.add_data(code)
    qr.make(fit=True)
    qr.print_ascii(out=stream or sys.stdout, invert=True)
