"""The inbound path keeps every message: one unstorable message costs only itself, a message
stored before a stop is acted on after the restart however long it was, and recovery touches
only this process's accounts, under a claim no second process can also take."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import BotApp
from bot.deadletters import dead_letter_count
from bot.models import InboundMessage, InboundStatus, OutboxMessage
from bot.models.deadletters import DeadLetter
from bot.models.tickets import Ticket
from bot.storable import storable_id
from bot.testing import BotHarness
from bot.texts import core as TC
from bot.transports.base import Incoming
from bot.transports.fake import FakeTransport

GROUP, ROOM = "阳光花园业主1群", "room-yg-1"
ELEVATOR = "4号楼电梯坏了困人了快来"


def incoming(h, message_id: str, text: str, *, account: str = "sim", sender_id: str = "wxid_zhangsan",
             chat_id: str | None = ROOM, sent_at=None) -> Incoming:  # noqa: ANN001
    return Incoming(account=account, message_id=message_id, sender_id=sender_id, sender_name="张三", text=text,
                    sent_at=sent_at or h.now, chat_id=chat_id, chat_topic=GROUP if chat_id else None)


async def arrive_together(h, messages: list[Incoming]) -> None:
    """Delivered concurrently, as a gateway does: they share one INSERT."""
    await asyncio.gather(*(h.bot.on_message(m) for m in messages))
    await h.bot.dispatcher.flush_chatter()
    await h.drain()


async def stored_but_never_processed(h, message: Incoming) -> None:
    """The crash window: the row is durable, the process died before acting on it."""
    dispatcher = h.bot.dispatcher
    await dispatcher.store(dispatcher._values(message))


async def count(h, model=InboundMessage, **filters) -> int:  # noqa: ANN001
    async with h.session() as s:
        return (await s.execute(select(func.count()).select_from(model).filter_by(**filters))).scalar_one()


async def refuse_text_in_database(h, text: str) -> None:
    """A rule of the database the code cannot foresee: rows with this text are refused."""
    async with h.bot.engine.begin() as conn:
        await conn.exec_driver_sql(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON inbound_messages "
            f"WHEN NEW.text = '{text}' BEGIN SELECT RAISE(ABORT, 'refused by test rule'); END")


# ------------------------------------------------------------------ 1. one bad row costs only itself
async def test_a_lone_surrogate_arriving_with_nine_others_costs_no_message(h):
    messages = [incoming(h, f"m{i}", "帮助" if i else "帮助\ud800") for i in range(10)]
    await arrive_together(h, messages)
    assert await count(h) == 10
    assert await count(h, status=InboundStatus.HANDLED) == 9 and await count(h, OutboxMessage) == 9


async def test_nul_and_lone_surrogates_are_replaced_where_they_enter(h):
    await h.say(GROUP, "张三", "你好\x00世界\udc80")
    async with h.session() as s:
        assert (await s.execute(select(InboundMessage.text))).scalar_one() == "你好\ufffd世界\ufffd"


async def test_unstorable_characters_in_ids_names_and_topics_do_not_cost_the_message(h):
    message = Incoming(account="sim", message_id="id\x00\ud83d", sender_id="wxid_\udfff", sender_name="名\x00字",
                       text="帮助", sent_at=h.now, chat_id="room\x00x", chat_topic="群\ud800")
    await h.bot.on_message(message)
    await h.drain()
    assert await count(h, status=InboundStatus.IGNORED) == 1  # stored and routed (an unbound new group)


async def test_an_overlong_platform_id_is_stored_under_a_stable_form_that_deduplicates(h):
    long_id = "x" * 300
    for _ in range(2):
        await h.bot.on_message(incoming(h, long_id, "帮助"))
    await h.drain()
    async with h.session() as s:
        stored = (await s.execute(select(InboundMessage.platform_message_id))).scalars().all()
    assert stored == [storable_id(long_id, 128)] and len(stored[0]) <= 128
    assert len(h.texts_to(GROUP)) == 1


def test_overlong_ids_sharing_their_head_stay_distinct():
    assert storable_id("a" * 200 + "1", 128) != storable_id("a" * 200 + "2", 128)


async def test_oversized_text_is_capped_as_configured_and_flagged():
    async with BotHarness(settings={"max_text_chars": 100}) as h:
        await h.say(GROUP, "张三", "长" * 150)
        async with h.session() as s:
            text, truncated = (await s.execute(select(InboundMessage.text, InboundMessage.truncated))).one()
    assert (len(text), truncated) == (100, True)


async def test_a_row_the_database_refuses_is_dead_lettered_and_its_neighbours_handled(h):
    await refuse_text_in_database(h, "毒")
    await arrive_together(h, [incoming(h, f"n{i}", "毒" if i == 3 else "帮助") for i in range(10)])
    assert await count(h) == 9
    assert await count(h, status=InboundStatus.HANDLED) == 9 and await count(h, OutboxMessage) == 9
    async with h.session() as s:
        letter = (await s.execute(select(DeadLetter))).scalar_one()
    assert (letter.platform_message_id, letter.text_repr) == ("'n3'", ascii("毒"))
    assert "refused by test rule" in letter.error and letter.account == "'sim'"


async def test_dead_letters_are_counted_for_the_doctor(h):
    await refuse_text_in_database(h, "毒")
    await h.say(GROUP, "张三", "毒")
    await h.say(GROUP, "张三", "毒")
    async with h.session() as s:
        assert await dead_letter_count(s) == 2


async def test_a_dead_lettered_message_is_logged_at_warning(h, caplog):
    await refuse_text_in_database(h, "毒")
    with caplog.at_level(logging.WARNING, logger="bot.deadletters"):
        await h.say(GROUP, "张三", "毒")
    assert any(r.levelno == logging.WARNING and "dead letter" in r.getMessage() for r in caplog.records)


async def test_a_dead_letters_log_line_does_not_carry_the_messages_text(h, caplog):
    # The driver's error lists the statement's parameters, the resident's text among them;
    # the text is kept in the dead letter row, a log line must not repeat it (phone numbers).
    await refuse_text_in_database(h, "毒13812345678")
    with caplog.at_level(logging.WARNING, logger="bot"):
        await h.say(GROUP, "张三", "毒13812345678")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert any(r.name == "bot.deadletters" for r in caplog.records)
    assert not any("13812345678" in line for line in lines)


# ------------------------------------------------------------------ 2. stored messages survive any downtime
async def test_an_urgent_report_stored_before_a_long_stop_still_becomes_a_ticket(h):
    await stored_but_never_processed(h, incoming(h, "crash-1", ELEVATOR))
    await h.advance(minutes=10)
    await h.restart()
    assert await count(h, Ticket) == 1
    assert await count(h, status=InboundStatus.HANDLED) == 1


async def test_a_late_acknowledgement_goes_privately_to_the_reporter_marked_late(h):
    await stored_but_never_processed(h, incoming(h, "crash-1", ELEVATOR))
    await h.advance(minutes=10)
    await h.restart()
    assert h.texts_to(GROUP) == []
    assert all("离线期间" in text for text in h.texts_to("张三")) and h.texts_to("张三")


async def test_after_a_short_stop_the_group_is_answered_as_usual(h):
    await stored_but_never_processed(h, incoming(h, "crash-1", "帮助"))
    await h.advance(minutes=1)
    await h.restart()
    assert TC.HELP_HEADER in h.texts_to(GROUP)[-1]


async def test_a_message_replayed_old_at_its_first_arrival_is_stored_stale_and_not_recovered(h):
    await h.say(GROUP, "张三", ELEVATOR, sent_at=h.now - timedelta(hours=2))
    await h.restart()
    assert await count(h, status=InboundStatus.STALE) == 1
    assert await count(h, Ticket) == 0 and h.sent == []


# ------------------------------------------------------------------ 3. recovery: own accounts, claimed
async def test_recovery_leaves_other_accounts_messages_to_their_process(h):
    await stored_but_never_processed(h, incoming(h, "other-1", "帮助", account="other"))
    await h.restart()
    assert await count(h, status=InboundStatus.RECEIVED, account="other") == 1
    assert await count(h, OutboxMessage) == 0


async def two_processes_recover_one_account(database_url: str) -> None:
    """Six stored, unhandled messages; two processes recover the account at once."""
    async with BotHarness(database_url=database_url) as h:
        for i in range(6):
            await stored_but_never_processed(h, incoming(h, f"r{i}", "帮助"))
        second = BotApp(h.settings, transports=[FakeTransport(account="sim", now=h.clock.now)], clock=h.clock)
        await second.open(recover=False)
        try:
            done = await asyncio.gather(h.bot.dispatcher.recover(["sim"]), second.dispatcher.recover(["sim"]))
        finally:
            await second.stop()
        assert sum(done) == 6
        assert await count(h, OutboxMessage) == 6
        assert await count(h, status=InboundStatus.HANDLED) == 6


async def test_two_processes_recovering_one_account_act_on_each_message_once(tmp_path):
    # Two processes on one file: an engine of its own for each, as in production (a database
    # URL given to the harness; its default engine is one process's, statements inline).
    await two_processes_recover_one_account(f"sqlite+aiosqlite:///{tmp_path / 'two.db'}")


async def test_a_claim_left_by_a_stopped_process_is_taken_over_at_the_next_start(h):
    await stored_but_never_processed(h, incoming(h, "claimed-1", "帮助"))
    async with h.session() as s:
        row = (await s.execute(select(InboundMessage))).scalar_one()
        row.status, row.claimed_at = InboundStatus.PROCESSING, h.now  # the claimant died mid-message
        await s.commit()
    await h.advance(minutes=1)
    await h.restart()
    assert await count(h, status=InboundStatus.HANDLED) == 1


def test_cli_commands_never_process_stored_messages(tmp_path):
    from bot.cli import main

    url = f"sqlite+aiosqlite:///{tmp_path / 'z.db'}"

    async def prepare() -> None:
        async with BotHarness(database_url=url) as h:
            await stored_but_never_processed(h, incoming(h, "waiting-1", "帮助"))

    async def statuses() -> list[str]:
        async with BotHarness(database_url=None) as h:  # any harness: read the file directly
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine(url)
            async with engine.connect() as conn:
                found = list((await conn.execute(select(InboundMessage.status))).scalars())
            await engine.dispose()
            return found

    asyncio.run(prepare())
    toml = tmp_path / "z.toml"
    toml.write_text(f'database_url = "{url}"\n', encoding="utf-8")
    assert main(["--config", str(toml), "purge"]) == 0
    assert asyncio.run(statuses()) == [InboundStatus.RECEIVED]


# ------------------------------------------------------------------ PostgreSQL
@pytest.mark.postgres
async def test_postgres_a_nul_arriving_with_nine_others_costs_no_message(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await arrive_together(h, [incoming(h, f"p{i}", "帮助" if i else "帮\x00助") for i in range(10)])
        assert await count(h) == 10
        assert await count(h, status=InboundStatus.HANDLED) >= 9


@pytest.mark.postgres
async def test_postgres_overlong_ids_and_names_are_stored(pg_url):
    async with BotHarness(database_url=pg_url) as h:
        await h.bot.on_message(Incoming(account="sim", message_id="m" * 300, sender_id="w" * 300,
                                        sender_name="名" * 200, text="帮助", sent_at=h.now, chat_id=ROOM,
                                        chat_topic=GROUP))
        await h.drain()
        assert await count(h, status=InboundStatus.HANDLED) == 1


@pytest.mark.postgres
async def test_postgres_two_processes_recovering_one_account_act_on_each_message_once(pg_url):
    await two_processes_recover_one_account(pg_url)


# ------------------------------------------------------------------ 6. order within a conversation
async def deliver_pairs_concurrently(h) -> dict[str, list[str]]:
    """Three residents each report a problem and at once ask for their tickets (privately)."""
    people = [("张三", "wxid_zhangsan", "3号楼楼道灯坏了好几天了"), ("李四", "wxid_lisi", "小区门口积水严重走不了路"),
              ("王奶奶", "wxid_wang_nainai", "2号楼楼上漏水到我家了")]

    def private(n: int, text: str, name: str, wxid: str) -> Incoming:
        return Incoming(account="sim", message_id=f"o{n}-{wxid}", sender_id=wxid, sender_name=name, text=text,
                        sent_at=h.now)

    await asyncio.gather(*(h.bot.on_message(m) for name, wxid, problem in people for m in (
        private(1, f"报修 {problem}", name, wxid), private(2, "我的工单", name, wxid))))
    await h.drain()
    return {name: h.texts_to(name) for name, _, _ in people}


async def test_messages_of_one_conversation_are_acted_on_in_the_order_they_arrived(h):
    for texts in (await deliver_pairs_concurrently(h)).values():
        assert "工单" in texts[0] and texts[1].startswith("您反映的工单"), texts


@pytest.mark.postgres
async def test_postgres_messages_of_one_conversation_are_acted_on_in_the_order_they_arrived(pg_url):
    """PostgreSQL runs sessions truly concurrently: without ordering, the question overtakes
    the report and hears "no tickets"."""
    async with BotHarness(database_url=pg_url) as h:
        for texts in (await deliver_pairs_concurrently(h)).values():
            assert "工单" in texts[0] and texts[1].startswith("您反映的工单"), texts


async def test_a_message_stored_stale_is_still_removed_by_its_senders_deletion_request(h):
    await h.say(GROUP, "张三", "早上好", sent_at=h.now - timedelta(hours=2))
    await h.dm("张三", "删除我的信息")
    assert await count(h, status=InboundStatus.STALE) == 0


async def test_a_deletion_request_leaves_a_report_still_waiting_to_be_acted_on(h):
    await h.say(GROUP, "张三", "早上好")  # the sender is known: the stored report carries their id
    await stored_but_never_processed(h, incoming(h, "waiting-1", ELEVATOR))
    await h.dm("张三", "删除我的信息")
    await h.restart()
    assert await count(h, Ticket) == 1


async def test_a_room_topic_and_member_names_with_unstorable_characters_do_not_break_the_login_sync(h):
    """Rooms arrive with login and join events, not only with messages: a topic carrying a lone
    surrogate (or NUL) and an over-long name must not fail the sync that records every room."""
    from bot.models import ChatGroup
    from bot.transports.base import RoomInfo

    bad = RoomInfo(platform_id="room-odd-1", topic="坏\ud800群" + "名" * 300, member_count=2,
                   member_names=("张\x00三", "李" * 200))
    await h.login([bad])
    await h.bot_joins("又一\ud83d群", room_id="room-odd-2")
    async with h.session() as session:
        topics = {g.platform_id: g.topic for g in (await session.execute(
            select(ChatGroup).where(ChatGroup.platform_id.in_(["room-odd-1", "room-odd-2"])))).scalars()}
    assert topics["room-odd-1"].startswith("坏\ufffd群") and len(topics["room-odd-1"]) == 128
    assert topics["room-odd-2"] == "又一\ufffd群"
