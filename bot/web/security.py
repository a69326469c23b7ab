"""Passwords (argon2id), random tokens, signed cookies and CSRF tokens.

Only hashes of session and API tokens are stored, so a copy of the database opens nothing.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user name is unknown, so the answer takes as long either way. Made at
# the first such check, not at import: one argon2 hash takes ~64 MB for a moment, and every process
# that imports the bot (the chat-only bot, each CLI command) paid that peak for nothing.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("zhibu-dummy-password")
    return _DUMMY_HASH

MIN_PASSWORD_LENGTH = 8
API_TOKEN_PREFIX = "zb_"
# argon2 threads at once (each ~64 MB and a whole core for a while): half the cores, so the
# event loop (the chat handling too) keeps a core while a burst of log-ins is hashed.
HASH_WORKERS = max(1, (os.cpu_count() or 2) // 2)
HASH_MAX_PENDING = 8      # running + waiting; beyond this a log-in is told to retry (429)

R = TypeVar("R")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class HashingBusy(Exception):
    """Too many password checks at once: refused at once instead of queueing without end."""


class PasswordWorker:
    """Runs argon2 off the event loop, in a few threads, admitting a bounded number of waiters.

    A hash takes tens of milliseconds of CPU: on the loop, a burst of bad log-ins stalls every
    other request and the chat handling with it. The admission check never waits, so a flood
    gets a quick "busy" answer instead of a growing queue.
    """

    def __init__(self, workers: int = HASH_WORKERS, max_pending: int = HASH_MAX_PENDING) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zhibu-argon2")
        self._slots = asyncio.Semaphore(max_pending)

    async def run(self, fn: Callable[..., R], *args: Any) -> R:
        if self._slots.locked():
            raise HashingBusy()
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await self.run(verify_password, stored_hash, password)

    async def hash(self, password: str) -> str:
        return await self.run(hash_password, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


async def hash_off_loop(password: str, worker: PasswordWorker | None = None) -> str:
    """``hash_password`` in a thread (the web's bounded worker when given)."""
    if worker is not None:
        return await worker.hash(password)
    return await asyncio.to_thread(hash_password, password)


async def verify_off_loop(stored_hash: str | None, password: str, worker: PasswordWorker | None = None) -> bool:
    """``verify_password`` in a thread (the web's bounded worker when given)."""
    if worker is not None:
        return await worker.verify(stored_hash, password)
    return await asyncio.to_thread(verify_password, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def _mac(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def sign_cookie(secret: str, token: str) -> str:
    return f"{token}.{_mac(secret, 'session', token)[:32]}"


def unsign_cookie(secret: str, value: str | None) -> str | None:
    """The token inside a signed cookie, or None when it is missing or forged."""
    if not value or "." not in value:
        return None
    token, _, mac = value.rpartition(".")
    if not token or not hmac.compare_digest(mac, _mac(secret, "session", token)[:32]):
        return None
    return token


def csrf_for_session(secret: str, session_token: str) -> str:
    """The CSRF token of a logged-in browser: derived, so nothing more to store."""
    return _mac(secret, "csrf", session_token)[:40]


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def password_problem(password: str) -> str | None:
    """A reason the password is too weak (Chinese), or None."""
    from bot.texts import web as T

    if len(password) < MIN_PASSWORD_LENGTH:
        return T.PASSWORD_TOO_SHORT.format(n=MIN_PASSWORD_LENGTH)
    if len(password) > 256:
        return T.PASSWORD_TOO_LONG
    if password.isdigit() or len(set(password)) < 4:
        return T.PASSWORD_TOO_SIMPLE
    return None


def use_fast_hashing() -> None:
    """Tests only: cheap argon2 parameters so creating many accounts stays fast."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY_HASH = None
