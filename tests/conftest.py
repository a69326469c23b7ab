"""Shared fixtures: the test kit on the shipped sample organisation."""
from __future__ import annotations

import pytest

from bot.testing import BotHarness


@pytest.fixture
async def h():
    async with BotHarness() as harness:
        yield harness
