"""WeChat through Wechaty: the only package that imports the Wechaty SDK.

* ``transport``: ``WechatyTransport`` (one WeChat account through one gateway),
  ``build_wechaty_transports``, ``classify_send_error``; its docstring tells how the SDK is
  used, and why not ``Wechaty.start()``;
* ``sdk``: the only module that imports ``wechaty``, ``wechaty_puppet*``, ``grpclib`` and
  ``betterproto``, and the SDK adapted (``ZhibuPuppetService``, ``_SessionWechaty``);
* ``compat``: import shims that let the SDK load on today's Python and dependencies;
* ``convert``: the gateway's values as ours (message kinds, timestamps, FileBox content);
* ``redaction``: the SDK's loggers tamed, gateway tokens scrubbed from every log record;
* ``errors``: why a connection failed (``WechatyStartError`` for the operator).

Importing this package loads the SDK: ``bot.runner`` imports it only when an account is
configured, so ``import bot.app`` stays free of it. The in-process fake puppet for tests
lives in ``tests/wechaty_fake.py``.
"""
from bot.transports.wechaty.convert import (
    file_box_bytes,
    looks_like_web_ids,
    message_kind,
    parse_endpoint,
    print_qr,
    to_datetime,
)
from bot.transports.wechaty.errors import WechatyStartError
from bot.transports.wechaty.redaction import register_secret
from bot.transports.wechaty.sdk import ZhibuPuppetService
from bot.transports.wechaty.transport import WechatyTransport, build_wechaty_transports, classify_send_error

__all__ = [
    "WechatyStartError", "WechatyTransport", "ZhibuPuppetService", "build_wechaty_transports",
    "classify_send_error", "file_box_bytes", "looks_like_web_ids", "message_kind", "parse_endpoint",
    "print_qr", "register_secret", "to_datetime",
]
