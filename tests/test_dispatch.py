"""The dispatcher: store first, deduplicate, resolve context, route, never go silent."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import func, select

from bot.models import ChatGroup, InboundMessage, InboundStatus
from bot.texts import core as TC
from bot.transports.base import MessageKind


async def count_inbound(h, **filters) -> int:
    async with h.session() as s:
        return (await s.execute(select(func.count()).select_from(InboundMessage).filter_by(**filters))).scalar_one()


async def test_every_inbound_message_is_stored(h):
    await h.say("阳光花园业主1群", "张三", "早上好")
    assert await count_inbound(h) == 1


async def test_duplicate_delivery_is_handled_once(h):
    await h.say("阳光花园业主1群", "张三", "帮助", message_id="dup-1")
    await h.say("阳光花园业主1群", "张三", "帮助", message_id="dup-1")
    assert await count_inbound(h) == 1
    assert len(h.texts_to("阳光花园业主1群")) == 1


async def test_same_message_id_from_two_accounts_is_two_messages(h):
    from bot.transports.base import Incoming

    for account in ("sim", "other"):
        await h.bot.on_message(Incoming(account=account, message_id="m1", sender_id="wxid_x", sender_name="x",
                                        text="早", sent_at=h.now, chat_id="room-yg-1"))
    assert await count_inbound(h) == 2


async def test_own_messages_are_ignored(h):
    from bot.transports.base import Incoming

    await h.bot.on_message(Incoming(account="sim", message_id="self-1", sender_id="wxid_bot", sender_name="支部助手",
                                    text="帮助", sent_at=h.now, chat_id="room-yg-1", is_self=True))
    assert await count_inbound(h) == 0
    assert h.sent == []


async def test_help_in_group_lists_commands(h):
    await h.say("阳光花园业主1群", "张三", "帮助")
    assert TC.HELP_HEADER in h.texts_to("阳光花园业主1群")[-1]


async def test_help_shows_secretary_commands_only_to_secretaries(h):
    await h.say("阳光花园业主1群", "张三", "帮助 其他")
    await h.say("阳光花园业主1群", "李书记", "帮助 其他")
    resident_help, secretary_help = h.texts_to("阳光花园业主1群")
    assert "绑定" not in resident_help
    assert "绑定" in secretary_help


async def test_new_sender_in_private_gets_an_answer(h):
    await h.dm("路人甲", "你好")
    assert h.texts_to("路人甲"), "a private message must never go unanswered"


async def test_command_without_role_is_explained(h):
    await h.say("阳光花园业主1群", "张三", "绑定 阳光花园")
    assert "需要" in h.texts_to("阳光花园业主1群")[-1]


async def test_unbound_group_ignores_residents(h):
    await h.say("陌生新群", "张三", "帮助")
    assert h.texts_to("陌生新群") == []
    assert await count_inbound(h, status=InboundStatus.IGNORED) == 1


async def test_secretary_binds_an_unbound_group(h):
    await h.say("阳光花园3期群", "李书记", "绑定 阳光花园")
    assert "已绑定到“阳光花园”" in h.texts_to("阳光花园3期群")[0]
    async with h.session() as s:
        group = (await s.execute(select(ChatGroup).where(ChatGroup.topic == "阳光花园3期群"))).scalar_one()
    assert group.compound_id is not None


async def test_secretary_cannot_bind_to_another_compound(h):
    await h.say("新群", "李书记", "绑定 兰亭水岸")
    assert "只有“兰亭水岸”的党支部书记" in h.texts_to("新群")[-1]


async def test_binding_unknown_compound_names_known_ones(h):
    await h.say("新群", "李书记", "绑定 不存在小区")
    assert "没有找到" in h.texts_to("新群")[-1]


async def test_non_text_messages_are_stored_not_acted_on(h):
    await h.say("阳光花园业主1群", "张三", "[图片]", kind=MessageKind.IMAGE)
    assert await count_inbound(h, status=InboundStatus.IGNORED, kind="image") == 1
    assert h.sent == []


async def test_old_messages_after_reconnect_are_stored_not_acted_on(h):
    await h.say("阳光花园业主1群", "张三", "帮助", sent_at=h.now - timedelta(hours=2))
    assert await count_inbound(h, status=InboundStatus.STALE) == 1
    assert h.sent == []


async def test_empty_and_emoji_only_text_is_chatter(h):
    await h.say("阳光花园业主1群", "张三", "")
    await h.say("阳光花园业主1群", "张三", "😀😀😀")
    assert h.texts_to("阳光花园业主1群") == []
    assert await count_inbound(h) == 2


async def test_oversized_text_is_stored_whole(h):
    text = "很长" * 25_000
    await h.say("阳光花园业主1群", "张三", text)
    async with h.session() as s:
        stored = (await s.execute(select(InboundMessage.text))).scalar_one()
    assert stored == text


async def test_control_characters_do_not_break_commands(h):
    await h.say("阳光花园业主1群", "张三", "\u200b帮助\x07")
    assert TC.HELP_HEADER in h.texts_to("阳光花园业主1群")[-1]


@contextmanager
def privacy_command_replaced_by(h, handler):  # noqa: ANN001, ANN201
    """The 隐私 command runs ``handler`` instead, for the test's length."""
    import handlers.core as core

    command = next(c for c in h.bot.table.commands if c.words[0] == "隐私")
    object.__setattr__(command, "handler", handler)
    try:
        yield
    finally:
        object.__setattr__(command, "handler", core.privacy)


async def test_failing_handler_marks_message_failed_and_apologises(h):
    async def boom(ctx):
        raise RuntimeError("kaput")

    with privacy_command_replaced_by(h, boom):
        await h.say("阳光花园业主1群", "张三", "隐私")
    assert "出错了" in h.texts_to("阳光花园业主1群")[-1]
    assert await count_inbound(h, status=InboundStatus.FAILED) == 1


async def test_a_rule_saying_no_in_any_command_becomes_its_reply(h):
    from bot.services import ServiceError

    async def refuse(ctx):
        raise ServiceError("这件事现在不能办：示例原因")

    with privacy_command_replaced_by(h, refuse):
        await h.say("阳光花园业主1群", "张三", "隐私")
    assert h.texts_to("阳光花园业主1群")[-1] == "这件事现在不能办：示例原因"
    assert await count_inbound(h, status=InboundStatus.HANDLED) == 1


async def test_a_rule_saying_no_in_a_text_hook_ends_the_message_there(h):
    from bot.services import ServiceError

    hook = h.bot.table.text_hooks[0]
    original, params = hook.handler, hook.params

    async def refuse(ctx):
        raise ServiceError("示例：暂时不能受理")

    object.__setattr__(hook, "handler", refuse)
    object.__setattr__(hook, "params", ("ctx",))
    try:
        await h.say("阳光花园业主1群", "张三", "3号楼电梯坏了三天了没人修")
    finally:
        object.__setattr__(hook, "handler", original)
        object.__setattr__(hook, "params", params)
    assert h.texts_to("阳光花园业主1群")[-1] == "示例：暂时不能受理"
    assert await count_inbound(h, status=InboundStatus.HANDLED) == 1


async def test_failed_message_can_be_retried(h):
    async def boom(ctx):
        raise RuntimeError("kaput")

    with privacy_command_replaced_by(h, boom):
        await h.say("阳光花园业主1群", "张三", "隐私")
    results = await h.bot.retry_failed()
    await h.drain()
    assert [status for _, status in results] == ["handled"]
    assert "隐私说明" in h.texts_to("阳光花园业主1群")[-1]


async def test_privacy_notice_says_retention(h):
    await h.dm("张三", "隐私")
    assert "7天后自动删除" in h.texts_to("张三")[-1]


async def test_display_name_never_grants_a_role(h):
    await h.say("阳光花园业主1群", "李书记", "绑定 阳光花园", sender_id="wxid_impostor")
    assert "需要" in h.texts_to("阳光花园业主1群")[-1]


async def test_unbound_group_stays_silent_for_non_secretary_binding(h):
    await h.say("新群", "张三", "绑定 阳光花园")
    assert h.texts_to("新群") == []


async def test_first_messages_of_a_new_sender_arriving_together_are_all_handled(h):
    import asyncio

    from bot.transports.base import Incoming

    messages = [Incoming(account="sim", message_id=f"burst-{i}", sender_id="wxid_newcomer", sender_name="新邻居",
                         text="帮助", sent_at=h.now, chat_id="room-yg-1", chat_topic="阳光花园业主1群")
                for i in range(5)]
    await asyncio.gather(*(h.bot.on_message(m) for m in messages))
    await h.drain()
    assert await count_inbound(h, status=InboundStatus.FAILED) == 0
    assert len(h.texts_to("阳光花园业主1群")) == 5


async def test_message_stored_but_not_processed_before_a_crash_is_handled_after_restart(h):
    from bot.transports.base import Incoming

    incoming = Incoming(account="sim", message_id="crash-1", sender_id="wxid_zhangsan", sender_name="张三",
                        text="帮助", sent_at=h.now, chat_id="room-yg-1", chat_topic="阳光花园业主1群")
    await h.bot.dispatcher.store(h.bot.dispatcher._values(incoming))  # stored, then the process died
    await h.restart()
    assert TC.HELP_HEADER in h.texts_to("阳光花园业主1群")[-1]
    assert await count_inbound(h, status=InboundStatus.HANDLED) == 1


async def test_burst_of_first_time_senders_larger_than_the_connection_pool_is_all_handled(h):
    """Hundreds of concurrent first messages (new people written, gates asked, chatter statuses
    flushed mid-burst) finish without a session waiting on another: no deadlock, nothing lost."""
    import asyncio

    from bot.transports.base import Incoming

    texts = ["早上好", "收到", "今天几点团购", "👍"]
    messages = [Incoming(account="sim", message_id=f"wave-{i}", sender_id=f"wxid_wave_{i}", sender_name=f"邻居{i}",
                         text=texts[i % len(texts)], sent_at=h.now, chat_id="room-yg-1",
                         chat_topic="阳光花园业主1群") for i in range(260)]
    await asyncio.wait_for(asyncio.gather(*(h.bot.on_message(m) for m in messages)), timeout=60)
    await h.bot.dispatcher.flush_chatter()
    assert await count_inbound(h) == 260
    assert await count_inbound(h, status=InboundStatus.CHATTER) == 260



async def test_a_handled_message_is_marked_handled_and_kept(h):
    await h.say("阳光花园业主1群", "张三", "3号楼2单元楼道灯坏了好几天了")
    async with h.session() as s:
        row = (await s.execute(select(InboundMessage))).scalar_one()
    assert (row.status, row.keep) == (InboundStatus.HANDLED, True) and row.handled_at is not None


async def test_chatter_is_marked_chatter_and_not_kept(h):
    await h.say("阳光花园业主1群", "张三", "早上好")
    await h.bot.dispatcher.flush_chatter()
    async with h.session() as s:
        row = (await s.execute(select(InboundMessage))).scalar_one()
    assert (row.status, row.keep) == (InboundStatus.CHATTER, False)
