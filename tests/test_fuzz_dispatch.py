"""Standing fuzz suite: hostile messages from every role, delivered together as a gateway
does, never raise, never vanish (stored, or set aside as a dead letter), never make a handler
fail, and never put a readable phone or ID number into a group.

A bounded number of examples here (a few seconds); bench/fuzz.py runs 10,000 messages."""
from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.fuzzkit import GROUPS, ISSUES, NASTY, PHONES, SENDERS, FuzzRun, command_words, make_message
from bot.testing import BotHarness

EXAMPLES = 25
COMMANDS = command_words()

fragments = st.one_of(
    st.text(max_size=12),
    st.sampled_from(NASTY), st.sampled_from(PHONES), st.sampled_from(ISSUES),
    st.characters(codec=None, categories=("Cs", "Cc", "Cf", "Zs", "Co", "Mn")).map(str),
)
texts = st.one_of(
    st.lists(fragments, max_size=8).map("".join),
    st.tuples(st.sampled_from(COMMANDS), st.lists(fragments, max_size=4).map(" ".join)).map(" ".join),
    st.tuples(st.sampled_from(NASTY + PHONES), st.integers(300, 2_000)).map(lambda t: t[0] * t[1]),  # huge
)
message_ids = st.one_of(st.none(), st.text(min_size=1, max_size=8), st.text(min_size=129, max_size=300),
                        st.sampled_from(["\x00", "\ud800x", "dup"]))
messages = st.fixed_dictionaries({
    "text": texts, "sender": st.sampled_from(SENDERS), "group": st.one_of(st.none(), st.sampled_from(GROUPS)),
    "message_id": message_ids, "mention": st.booleans(),
})
batches = st.lists(messages, min_size=1, max_size=12)


class Driver:
    """One bot for all examples, on its own event loop (hypothesis calls a plain function)."""

    def __init__(self, database_url: str | None) -> None:
        self.loop = asyncio.new_event_loop()
        # A small text cap makes "huge" texts cheap while still exercising the cap.
        self.h = BotHarness(database_url=database_url, settings={"max_text_chars": 500})
        self.loop.run_until_complete(self.h.__aenter__())
        self.run = FuzzRun(self.h)
        self.numbers = itertools.count()

    def deliver(self, batch: list[dict]) -> None:
        incoming = [make_message(self.h.now, n=next(self.numbers), **m) for m in batch]
        counts = self.loop.run_until_complete(self.run.deliver_together(incoming))
        assert counts.exceptions == 0, counts.examples
        assert counts.vanished == 0, counts.examples
        assert counts.unmasked == 0, counts.examples
        assert counts.failed == 0, "a handler raised (see the log)"

    def close(self) -> None:
        self.loop.run_until_complete(self.h.__aexit__(None, None, None))
        self.loop.close()


def fuzz(database_url: str | None) -> None:
    driver = Driver(database_url)

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(batch=batches)
    def property_holds(batch: list[dict]) -> None:
        driver.deliver(batch)

    try:
        property_holds()
        assert driver.run.counts.messages > EXAMPLES  # the examples really went through the bot
    finally:
        driver.close()


def test_hostile_messages_on_sqlite_are_all_kept_handled_and_masked():
    fuzz(None)


@pytest.mark.postgres
def test_hostile_messages_on_postgres_are_all_kept_handled_and_masked(pg_url):
    fuzz(pg_url)
