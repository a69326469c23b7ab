"""Import shims that let the Python Wechaty SDK (PyPI ``wechaty`` 0.10.x) load today.

The SDK was written for Python 3.7-3.9 and for older dependencies. ``apply()`` patches the
few things that break its import, and must run before anything imports ``wechaty``,
``wechaty_puppet`` or ``wechaty_puppet_service`` (``bot.transports.wechaty.sdk`` calls it first):

* ``from pyee import AsyncIOEventEmitter``: pyee >= 9 moved it to ``pyee.asyncio``.
* ``from urllib3 import get_host``: removed in urllib3 2.
* ``from telnetlib import Telnet``: ``telnetlib`` is deprecated in 3.11/3.12 and gone in 3.13;
  the SDK only uses ``Telnet().open(host, port, timeout)`` as a port probe.
* ``WechatyOptions.puppet_options = PuppetOptions()``: a dataclass default that Python 3.11
  rejects because ``PuppetOptions`` is unhashable. Giving it ``object.__hash__`` lets the
  module import; the default instance is then shared by every ``WechatyOptions``, so callers
  must always pass ``puppet_options=PuppetOptions()`` explicitly.

* ``wechaty.config`` creates ``./.wechaty/`` (a plugin cache) in the working directory at
  import time unless ``CACHE_DIR`` is set: it is pointed at a private temp directory.

Everything here is idempotent and touches nothing when the installed versions are fine.
"""
from __future__ import annotations

import os
import socket
import sys
import tempfile
import types
import warnings

_applied = False


def _patch_pyee() -> None:
    import pyee

    if not hasattr(pyee, "AsyncIOEventEmitter"):
        from pyee.asyncio import AsyncIOEventEmitter

        pyee.AsyncIOEventEmitter = AsyncIOEventEmitter  # type: ignore[attr-defined]


def _patch_urllib3() -> None:
    import urllib3

    if hasattr(urllib3, "get_host"):
        return
    from urllib3.util import parse_url

    def get_host(url: str) -> tuple[str, str | None, int | None]:
        """urllib3 1.x ``get_host``: (scheme, host, port), scheme defaulting to http."""
        parsed = parse_url(url)
        return parsed.scheme or "http", parsed.hostname, parsed.port

    urllib3.get_host = get_host  # type: ignore[attr-defined]


class _Telnet:
    """The part of ``telnetlib.Telnet`` the SDK uses: a TCP connect as a port probe."""

    def __init__(self, host: str | None = None, port: int = 0, timeout: float | None = None) -> None:
        self.sock: socket.socket | None = None
        if host is not None:
            self.open(host, port, timeout)

    def open(self, host: str, port: int = 0, timeout: float | None = None) -> None:
        self.sock = socket.create_connection((host, port), timeout)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __del__(self) -> None:  # the SDK never closes its probe
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass


def _patch_telnetlib() -> None:
    """Use a tiny replacement always: the stdlib one is deprecated (3.11) or gone (3.13)."""
    if "telnetlib" in sys.modules and not getattr(sys.modules["telnetlib"], "_zhibu_shim", False):
        return
    module = types.ModuleType("telnetlib")
    module.Telnet = _Telnet  # type: ignore[attr-defined]
    module._zhibu_shim = True  # type: ignore[attr-defined]
    sys.modules["telnetlib"] = module


def _patch_puppet_options() -> None:
    from wechaty_puppet.schemas.puppet import PuppetOptions

    if PuppetOptions.__hash__ is None:
        PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign]


def _cache_dir() -> None:
    if not os.environ.get("CACHE_DIR"):
        os.environ["CACHE_DIR"] = os.path.join(tempfile.gettempdir(), f"zhibu-wechaty-{getattr(os, 'getuid', lambda: 'user')()}")


def apply() -> None:
    """Patch once; safe to call many times."""
    global _applied
    if _applied:
        return
    _cache_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _patch_pyee()
        _patch_urllib3()
        _patch_telnetlib()
        _patch_puppet_options()
    _applied = True


apply()
