"""Photos through Wechaty's FileBox: the bytes of a base64 box, size-capped; boxes without a
file (puppet-mock's QR-code stand-in) are refused, never stored as a photo."""
from __future__ import annotations

import base64

import pytest

from bot.transports.base import MediaUnavailable
from bot.transports.wechaty import file_box_bytes
from wechaty_puppet import FileBox


async def test_base64_box_gives_its_bytes():
    box = FileBox.from_base64(base64.b64encode(b"\xff\xd8photo"), name="p.jpg")
    assert await file_box_bytes(box, 1000) == b"\xff\xd8photo"


async def test_box_larger_than_the_limit_is_refused():
    box = FileBox.from_base64(base64.b64encode(b"x" * 2000), name="big.jpg")
    with pytest.raises(MediaUnavailable):
        await file_box_bytes(box, 1000)


async def test_qr_code_box_has_no_file_to_store():
    with pytest.raises(MediaUnavailable):
        await file_box_bytes(FileBox.from_qr_code("fake-qrcode"), 1000)
