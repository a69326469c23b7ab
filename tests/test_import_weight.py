"""Importing the bot does no heavy work: no argon2 hash at import (one takes ~64 MB for a
moment, a peak every process paid, the chat-only bot and each CLI command included)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_the_bot_hashes_no_password() -> None:
    probe = ("import argon2\n"
             "calls = []\n"
             "original = argon2.PasswordHasher.hash\n"
             "argon2.PasswordHasher.hash = lambda self, *a, **k: calls.append(1) or original(self, *a, **k)\n"
             "import bot.app, bot.web.app\n"
             "print(len(calls))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0"


def test_an_unknown_user_is_still_checked_against_a_hash() -> None:
    from bot.web import security

    assert security.verify_password(None, "whatever-password") is False
    assert security._DUMMY_HASH is not None
