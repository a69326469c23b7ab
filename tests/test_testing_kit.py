"""The test kit's own promises: each harness starts on a fresh database, whatever the harness
before it in this process did (it reuses that harness's engine to keep SQL compiled)."""
from __future__ import annotations

from sqlalchemy import event, func, select

from bot.models import ChatGroup, InboundMessage
from bot.services.gate import CachedAnswer
from bot.testing import BotHarness

G1 = "阳光花园业主1群"


async def _inbound_count(h: BotHarness) -> int:
    async with h.session() as session:
        return (await session.execute(select(func.count()).select_from(InboundMessage))).scalar_one()


async def test_the_next_harness_starts_on_a_fresh_database():
    async with BotHarness() as first:
        await first.say(G1, "张三", "4号楼门口积水了")
        assert await _inbound_count(first) == 1
    async with BotHarness() as second:
        assert await _inbound_count(second) == 0
        assert second.sent == []


async def test_the_next_harness_gets_no_answer_cached_for_the_previous_database():
    asked: list[int] = []

    async def query(_deps) -> int:  # noqa: ANN001
        asked.append(1)
        return len(asked)

    answer = CachedAnswer(query, ttl=3600)
    async with BotHarness() as first:
        engine = first.bot.engine
        async with first.session() as session:
            assert await answer.get(first.bot._deps(session)) == 1
            assert await answer.get(first.bot._deps(session)) == 1  # kept for the hour
    async with BotHarness() as second:
        assert second.bot.engine is engine  # reused: the cache's key is the same
        async with second.session() as session:
            assert await answer.get(second.bot._deps(session)) == 2


async def test_an_engine_a_test_added_a_listener_to_is_not_handed_on():
    async with BotHarness() as first:
        engine = first.bot.engine

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _note(*_args) -> None:  # noqa: ANN002
            pass
    async with BotHarness() as second:
        assert second.bot.engine is not engine


async def test_a_restart_keeps_the_database_and_two_harnesses_at_once_have_their_own():
    async with BotHarness() as a, BotHarness() as b:
        assert a.settings.database_url != b.settings.database_url
        await a.say(G1, "张三", "早上好")
        await a.restart()
        assert await _inbound_count(a) == 1
        assert await _inbound_count(b) == 0


def _statements(h: BotHarness) -> list[str]:
    seen: list[str] = []

    @event.listens_for(h.bot.engine.sync_engine, "before_cursor_execute")
    def _note(_conn, _cursor, statement, *_args):  # noqa: ANN001, ANN002
        seen.append(" ".join(statement.split()))
    return seen


async def test_a_known_sender_in_a_known_group_is_addressed_without_asking_the_database():
    async with BotHarness() as h:
        await h.say(G1, "张三", "早上好")
        seen = _statements(h)
        await h.say(G1, "张三", "收到")
        # The kit's lookups (a group by topic, a sender by name) come from the names it read
        # after the last drain; only the bot's own statements and that read remain.
        assert not [s for s in seen if s.startswith("SELECT chat_groups.platform_id FROM")
                    or s.startswith("SELECT identities.platform_id FROM")], seen


async def test_a_change_a_test_makes_itself_is_seen_by_the_next_message():
    async with BotHarness() as h:
        await h.say(G1, "张三", "早上好")
        async with h.session() as session:  # the test renames the group behind the kit's back
            group = (await session.execute(select(ChatGroup).where(ChatGroup.topic == G1))).scalar_one()
            old_id, group.platform_id = group.platform_id, "room:renamed"
            await session.commit()
        assert await h.group_id(G1) == "room:renamed" != old_id
