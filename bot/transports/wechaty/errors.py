"""Why a Wechaty connection failed: raised by ``sdk`` and ``transport``, acted on by the transport
(fail fast at start, or reconnect). No SDK import here."""
from __future__ import annotations

from bot.transports.base import StartupError


class WechatyStartError(StartupError):
    """The account could not connect or log in. ``str()`` is a message for the operator."""


class _Retryable(Exception):
    """A connection problem worth another try (gateway down, stream dropped)."""


class _AuthRejected(Exception):
    """The gateway rejected the token: retrying will not help."""


class _LoginTimeout(Exception):
    pass


class _Unreachable(_Retryable):
    """Nothing answers on the gateway's port (a cheap TCP probe tells when it is back)."""


class _NotGateway(Exception):
    """Something answers on the port, but it does not speak the Wechaty puppet service."""
