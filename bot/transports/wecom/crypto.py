"""WeCom's callback encryption (企业微信 加解密方案): AES-256-CBC, PKCS#7 to 32-byte blocks,
SHA-1 signatures. The cipher itself is ``cryptography``'s; this module only frames it.

Plain text layout: 16 random bytes, 4-byte network-order length, the message, the receive id
(the CorpID for a self-built app, an empty string for an intelligent bot).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.texts import wecom as T

_BLOCK_BITS = 32 * 8  # WeCom pads to 32 bytes, not AES's 16


class CryptoError(Exception):
    """A callback that does not verify or decrypt: answer it with an error, never act on it."""


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey; ValueError (Chinese) if malformed."""
    if len(encoding_aes_key) != 43:
        raise ValueError(T.BAD_AES_KEY_LENGTH.format(length=len(encoding_aes_key)))
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError(T.BAD_AES_KEY_CHARS) from exc
    if len(key) != 32:
        raise ValueError(T.BAD_AES_KEY_CHARS)
    return key


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, str(timestamp), str(nonce), encrypted])).encode()).hexdigest()


class WecomCrypto:
    """Verify, decrypt and encrypt callback payloads for one token / EncodingAESKey / receive id."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str = "") -> None:
        self._token = token
        self._key = aes_key(encoding_aes_key)
        self.receive_id = receive_id

    def __repr__(self) -> str:  # secrets never reach a log line through a repr
        return f"WecomCrypto(receive_id={self.receive_id!r}, token=***, key=***)"

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self._token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = self.sign(timestamp, nonce, encrypted)
        # Constant-time: the signature is the only thing between a stranger and our dispatcher.
        if not hmac.compare_digest(expected.encode(), (msg_signature or "").encode()):
            raise CryptoError("bad signature")

    def decrypt(self, encrypted: str) -> str:
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("not base64") from exc
        if not raw or len(raw) % 16:
            raise CryptoError("bad cipher text length")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(_BLOCK_BITS).unpadder()
        try:
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError as exc:
            raise CryptoError("bad padding") from exc
        if len(plain) < 20:
            raise CryptoError("too short")
        (length,) = struct.unpack("!I", plain[16:20])
        message, receive_id = plain[20:20 + length], plain[20 + length:]
        if len(message) != length:
            raise CryptoError("bad length")
        if receive_id.decode("utf-8", "replace") != self.receive_id:
            raise CryptoError("receive id mismatch")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CryptoError("not UTF-8") from exc

    def decrypt_verified(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def encrypt(self, message: str, random16: bytes | None = None) -> str:
        body = message.encode("utf-8")
        plain = (random16 or os.urandom(16)) + struct.pack("!I", len(body)) + body + self.receive_id.encode()
        padder = padding.PKCS7(_BLOCK_BITS).padder()
        padded = padder.update(plain) + padder.finalize()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
