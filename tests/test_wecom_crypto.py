"""WeCom's callback cryptography against the vector WeCom publishes with its sample code."""
from __future__ import annotations

import base64

import pytest

from bot.transports.wecom.crypto import CryptoError, WecomCrypto, aes_key, signature

TOKEN = "QDG6eK"
CORP_ID = "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
TIMESTAMP = "1409659589"
NONCE = "263014780"
ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="


def test_official_vector_signature_matches():
    assert signature(TOKEN, TIMESTAMP, NONCE, ECHOSTR) == SIGNATURE


def test_official_vector_echostr_decrypts_to_the_published_plaintext():
    crypto = WecomCrypto(TOKEN, AES_KEY, CORP_ID)
    assert crypto.decrypt_verified(SIGNATURE, TIMESTAMP, NONCE, ECHOSTR) == "1616140317555161061"


def test_encrypting_with_the_vector_random_bytes_reproduces_the_echostr():
    crypto = WecomCrypto(TOKEN, AES_KEY, CORP_ID)
    random16 = base64.b64decode(ECHOSTR)  # recover the vector's 16 random bytes by decrypting
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = aes_key(AES_KEY)
    plain = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor().update(random16)
    assert crypto.encrypt("1616140317555161061", random16=plain[:16]) == ECHOSTR


def test_a_wrong_signature_is_refused():
    crypto = WecomCrypto(TOKEN, AES_KEY, CORP_ID)
    with pytest.raises(CryptoError):
        crypto.decrypt_verified("0" * 40, TIMESTAMP, NONCE, ECHOSTR)


def test_a_message_for_another_receiver_is_refused():
    with pytest.raises(CryptoError):
        WecomCrypto(TOKEN, AES_KEY, "").decrypt(ECHOSTR)  # the vector is for the CorpID


def test_round_trip_with_the_empty_receive_id_of_an_intelligent_bot():
    crypto = WecomCrypto(TOKEN, AES_KEY, "")
    text = '{"msgid":"1","text":{"content":"@支部助手 工单"}}'
    assert crypto.decrypt(crypto.encrypt(text)) == text


@pytest.mark.parametrize("key", [AES_KEY[:-1], AES_KEY + "A", "*" * 43])
def test_a_malformed_encoding_aes_key_is_explained_in_chinese(key):
    with pytest.raises(ValueError, match="EncodingAESKey"):
        aes_key(key)


def test_the_crypto_repr_shows_no_secret():
    shown = repr(WecomCrypto(TOKEN, AES_KEY, CORP_ID))
    assert TOKEN not in shown and AES_KEY not in shown
