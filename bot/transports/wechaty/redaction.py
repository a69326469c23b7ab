"""What the Wechaty SDK leaves in the logs: its loggers tamed, and no gateway token anywhere.

The SDK names the token in its own chatter, and grpclib and the gateway's error texts echo
it: ``register_secret`` (called for each transport's token) scrubs it from every log record
in the process. No SDK import here: ``sdk`` calls ``tame_sdk_loggers`` after importing it.
"""
from __future__ import annotations

import logging
import traceback
from typing import Any


def tame_sdk_loggers(names: set[str]) -> None:
    """The SDK gives each of its loggers its own INFO console handler and no propagation
    (and chats at INFO about every call): route them through the application's logging at
    WARNING. Only the SDK's loggers: ours (``bot.*``) keep the application's levels."""
    for name in names:
        if name == "bot" or name.startswith("bot."):
            continue
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
        logger.setLevel(logging.WARNING)
    logging.getLogger("PuppetService").addFilter(_DropTokenRecords())
    logging.getLogger("Accessory").setLevel(logging.ERROR)  # "set payload more than once" on refresh


class _DropTokenRecords(logging.Filter):
    """The SDK's "there are endpoint<…> and token<…>" chatter: noise, and it names the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "token" not in str(record.msg).lower()


# Gateway tokens in use. Every log record in the process is scrubbed of them at creation
# (a record factory, not a filter: filters on a logger miss records of its children, and
# the SDK, grpclib and the gateway's error texts all echo the token).
_SECRETS: set[str] = set()
_REDACTED = "***"


def _scrub(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, _REDACTED)
    return text


def _redact(record: logging.LogRecord) -> None:
    secrets = tuple(_SECRETS)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001  (a broken record is the handler's problem, not ours)
        return
    if any(s in message for s in secrets):
        record.msg, record.args = _scrub(message), None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if any(s in text for s in secrets):
            record.exc_text, record.exc_info = _scrub(text), None


def _install_redaction() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_zhibu_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _SECRETS:
            _redact(record)
        return record

    factory._zhibu_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def register_secret(secret: str) -> None:
    """Never log ``secret`` (a gateway token): it is replaced by *** in every log record."""
    if secret and len(secret) >= 4:
        _SECRETS.add(secret)
        _install_redaction()
