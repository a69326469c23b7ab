"""The WeCom server API over HTTP: JSON in and out, ``errcode`` checked, access tokens cached.

Every endpoint hangs off one configurable base URL, so tests talk to a local fake server.
WeCom answers errors with HTTP 200 and a non-zero ``errcode``; this module turns them into
``WecomApiError`` and leaves their meaning (pause, disable, split) to the caller.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

import aiohttp

from bot.texts import wecom as T
from bot.transports.base import RateLimited, TransportError

log = logging.getLogger("bot.transports.wecom")

ERR_FREQUENCY = 45009        # API frequency limit
ERR_HOOK_INVALID = 93000     # the webhook key is no longer valid
ERR_TOO_LONG = 40058         # content too long (or another invalid parameter)
ERR_TOKEN_EXPIRED = 42001
ERR_TOKEN_INVALID = 40014
_TOKEN_ERRORS = {ERR_TOKEN_EXPIRED, ERR_TOKEN_INVALID, 40001}


class WecomApiError(TransportError):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(T.API_ERROR.format(errcode=errcode, errmsg=errmsg))
        self.errcode = errcode
        self.errmsg = errmsg


def redact(url: str) -> str:
    """A URL without its query (keys and access tokens ride there)."""
    return url.split("?", 1)[0]


class WecomHttp:
    """One aiohttp session for a transport; created on start, closed on stop."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, url: str, *, params: dict[str, Any] | None = None,
                   body: dict[str, Any] | None = None) -> dict[str, Any]:
        """The decoded JSON answer; raises WecomApiError on a non-zero errcode, TransportError
        when WeCom cannot be reached or answers nonsense."""
        await self.open()
        assert self._session is not None
        try:
            async with self._session.request(method, url, params=params, json=body) as response:
                if response.status == 429:
                    raise RateLimited(T.API_ERROR.format(errcode=429, errmsg="HTTP 429"))
                if response.status >= 400:
                    raise TransportError(T.UNREACHABLE.format(reason=f"HTTP {response.status}"))
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            log.info("wecom: %s %s failed: %s", method, redact(url), type(exc).__name__)
            raise TransportError(T.UNREACHABLE.format(reason=type(exc).__name__)) from exc
        if not isinstance(data, dict):
            raise TransportError(T.UNREACHABLE.format(reason="not JSON"))
        errcode = int(data.get("errcode") or 0)
        if errcode:
            raise WecomApiError(errcode, str(data.get("errmsg") or ""))
        return data


class AccessToken:
    """``gettoken`` for one corp id + secret, cached until shortly before it expires."""

    def __init__(self, http: WecomHttp, api_base: str, corp_id: str, secret: str,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._http = http
        self._url = f"{api_base.rstrip('/')}/cgi-bin/gettoken"
        self._corp_id = corp_id
        self._secret = secret
        self._monotonic = monotonic
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"AccessToken(corp_id={self._corp_id!r}, secret=***)"

    async def get(self, refresh: bool = False) -> str:
        async with self._lock:
            if refresh or self._token is None or self._monotonic() >= self._expires:
                data = await self._http.call("GET", self._url, params={"corpid": self._corp_id,
                                                                       "corpsecret": self._secret})
                self._token = str(data["access_token"])
                self._expires = self._monotonic() + max(60, int(data.get("expires_in", 7200)) - 300)
            return self._token

    async def call(self, method: str, url: str, body: dict[str, Any] | None = None,
                   params: dict[str, Any] | None = None) -> dict[str, Any]:
        """An API call with ``access_token``; an expired token is fetched again once."""
        for attempt in (0, 1):
            token = await self.get(refresh=attempt == 1)
            try:
                return await self._http.call(method, url, params={**(params or {}), "access_token": token},
                                             body=body)
            except WecomApiError as exc:
                if exc.errcode in _TOKEN_ERRORS and attempt == 0:
                    continue
                raise
        raise AssertionError("unreachable")
