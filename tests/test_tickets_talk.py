"""Tickets as people talk in WeChat: quotes of the bot's ticket message, photos around a
report, recalls, the reporter's roster address, and assignees answering in plain words."""
from __future__ import annotations

from sqlalchemy import select

from bot.models import Compound, InboundMessage
from bot.models.tickets import Ticket, TicketMedia, TicketState
from bot.testing import BotHarness
from bot.texts import tickets as T

G1 = "阳光花园业主1群"
LIGHT = "3号楼2单元楼道灯坏了好几天了"
NO_PLACE = "楼道灯坏了好几天了，晚上黑乎乎的"


async def ticket(h, number: int = 1) -> Ticket:
    async with h.session() as s:
        return (await s.execute(select(Ticket).where(Ticket.number == number).order_by(Ticket.id))).scalars().first()


async def ticket_count(h) -> int:
    async with h.session() as s:
        return len((await s.execute(select(Ticket.id))).all())


async def set_setting(h, compound: str, **values) -> None:
    async with h.session() as s:
        row = (await s.execute(select(Compound).where(Compound.name == compound))).scalar_one()
        row.settings = {**(row.settings or {}), **values}
        await s.commit()
    await h.bot.refresh_org()


def ack_of(h, group: str):
    return [s for s in h.sent if s.group == group and "工单 #" in s.text][-1]


# --------------------------------------------------------------------------- quotes
async def test_quote_of_ticket_ack_adds_to_that_ticket_instead_of_a_new_one(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "还没修好，晚上黑漆漆的楼道灯还是坏的", quote=ack_of(h, G1))
    assert await ticket_count(h) == 1
    assert h.texts_to(G1)[-1].endswith(T.QUOTE_NOTED.format(short="#0001"))
    assert (await ticket(h)).reporters_count == 2
    assert any("有居民补充（李四）" in t for t in h.texts_to("李书记"))


async def test_quote_of_resolved_ticket_reopens_it(h):
    await h.say(G1, "张三", LIGHT)
    ack = ack_of(h, G1)
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("周经理", "办结 0001 已更换楼道灯")
    assert (await ticket(h)).state == TicketState.RESOLVED
    await h.say(G1, "张三", "还没修好", quote=ack)
    assert (await ticket(h)).state == TicketState.ASSIGNED
    assert T.QUOTE_REOPENED.format(short="#0001") in h.texts_to(G1)[-1]


async def test_quote_found_by_code_in_quoted_text_when_platform_gives_no_id(h):
    await h.say(G1, "张三", LIGHT)
    quoted_text = ack_of(h, G1).text
    await h.say(G1, "王奶奶", "还没修好", quote=quoted_text)
    assert await ticket_count(h) == 1
    assert "王奶奶" in [n for n in await _reporter_names(h)]


async def _reporter_names(h) -> list[str]:
    from bot.models import Person
    from bot.models.tickets import TicketReporter

    async with h.session() as s:
        return list((await s.execute(select(Person.name).join(TicketReporter, TicketReporter.person_id == Person.id)
                                     )).scalars())


# --------------------------------------------------------------------------- photos
async def test_photo_posted_after_report_is_attached_to_the_ticket(h):
    await h.say(G1, "张三", LIGHT)
    await h.advance(minutes=2)
    await h.photo(G1, "张三", b"jpeg-bytes-after")
    async with h.session() as s:
        [media] = (await s.execute(select(TicketMedia))).scalars().all()
    assert media.ticket_id == (await ticket(h)).id
    assert (h.bot.settings.media_dir / media.path).read_bytes() == b"jpeg-bytes-after"


async def test_photo_posted_before_report_is_attached_when_the_report_comes(h):
    await h.photo(G1, "张三", b"jpeg-bytes-before")
    await h.advance(minutes=1)
    await h.say(G1, "张三", LIGHT)
    async with h.session() as s:
        [media] = (await s.execute(select(TicketMedia))).scalars().all()
    assert media.ticket_id == (await ticket(h)).id


async def test_photo_of_someone_else_is_not_attached(h):
    await h.say(G1, "张三", LIGHT)
    await h.photo(G1, "李四", b"unrelated")
    async with h.session() as s:
        [media] = (await s.execute(select(TicketMedia))).scalars().all()
    assert media.ticket_id is None


async def test_photo_larger_than_the_limit_is_not_stored():
    async with BotHarness(settings={"media_max_bytes": 10}) as h:
        await h.say(G1, "张三", LIGHT)
        await h.photo(G1, "张三", b"x" * 11)
        async with h.session() as s:
            assert (await s.execute(select(TicketMedia))).scalars().all() == []


async def test_secretary_ticket_view_shows_the_photo(h):
    await h.say(G1, "张三", LIGHT)
    await h.photo(G1, "张三")
    await h.dm("李书记", "工单 0001")
    assert T.DETAIL_MEDIA.format(count=1, kinds="照片") in h.texts_to("李书记")[-1]


async def test_unclaimed_photo_is_deleted_at_the_next_report_after_the_window(h):
    await h.photo(G1, "李四", b"just-a-dog")
    async with h.session() as s:
        [media] = (await s.execute(select(TicketMedia))).scalars().all()
    path = h.bot.settings.media_dir / media.path
    await h.advance(minutes=h.bot.settings.media_window_minutes + 1)
    await h.say(G1, "张三", LIGHT)
    assert not path.exists()


async def test_unclaimed_photo_is_deleted_after_the_window(h):
    await h.photo(G1, "李四", b"just-a-cat")
    async with h.session() as s:
        [media] = (await s.execute(select(TicketMedia))).scalars().all()
    path = h.bot.settings.media_dir / media.path
    assert path.exists()
    await h.advance(minutes=h.bot.settings.media_window_minutes + 1)
    await h.photo(G1, "王奶奶", b"another")  # the next photo sweeps the stale waiting ones
    assert not path.exists()


# --------------------------------------------------------------------------- recalls
async def test_recall_of_untouched_report_withdraws_the_ticket(h):
    await h.say(G1, "张三", LIGHT, message_id="m-light")
    await h.recall(G1, "张三", "m-light")
    assert (await ticket(h)).state == TicketState.REJECTED
    assert any("已自动撤销" in t for t in h.texts_to("李书记"))
    assert "已撤销" in h.texts_to("张三")[-1]


async def test_recall_of_report_already_assigned_tells_the_secretary_and_keeps_it(h):
    await h.say(G1, "张三", LIGHT, message_id="m-light")
    await h.dm("李书记", "派单 0001 物业")
    await h.recall(G1, "张三", "m-light")
    assert (await ticket(h)).state == TicketState.ASSIGNED
    assert "未自动撤销" in h.texts_to("李书记")[-1]


async def test_recalled_chatter_is_deleted_at_once(h):
    await h.say(G1, "张三", "今天天气真好啊大家", message_id="m-chat")
    await h.recall(G1, "张三", "m-chat")
    async with h.session() as s:
        found = (await s.execute(select(InboundMessage).where(
            InboundMessage.platform_message_id == "m-chat"))).scalars().all()
    assert found == []


async def test_recalled_message_the_bot_answered_keeps_its_record_but_loses_its_words(h):
    await h.say(G1, "张三", "@支部助手 我家电话13812345678你记一下", message_id="m-hello", mention=True)
    await h.recall(G1, "张三", "m-hello")
    async with h.session() as s:
        row = (await s.execute(select(InboundMessage).where(
            InboundMessage.platform_message_id == "m-hello"))).scalar_one()
    assert row.text == ""


async def test_recall_of_someone_elses_message_does_nothing(h):
    await h.say(G1, "张三", LIGHT, message_id="m-light")
    await h.recall(G1, "李四", "m-light")
    assert (await ticket(h)).state == TicketState.NEW


async def test_recalled_photo_is_removed_from_the_ticket(h):
    await h.say(G1, "张三", LIGHT)
    photo = await h.photo(G1, "张三", b"oops-wrong-photo")
    async with h.session() as s:
        [media] = (await s.execute(select(TicketMedia))).scalars().all()
    path = h.bot.settings.media_dir / media.path
    await h.recall(G1, "张三", photo)
    async with h.session() as s:
        assert (await s.execute(select(TicketMedia))).scalars().all() == []
    assert not path.exists()


# --------------------------------------------------------------------------- location from the roster
async def test_report_without_place_carries_reporters_roster_address(h):
    await h.say(G1, "张三", NO_PLACE)
    t = await ticket(h)
    assert t.location == "" and t.reporter_address == "4号楼2单元"
    await h.dm("李书记", "工单 0001")
    assert T.DETAIL_ADDRESS.format(address="4号楼2单元") in h.texts_to("李书记")[-1]


async def test_report_with_a_place_keeps_it_and_no_roster_address(h):
    await h.say(G1, "张三", LIGHT)
    t = await ticket(h)
    assert t.location.startswith("3号楼") and t.reporter_address is None


async def test_report_without_place_from_unknown_resident_asks_where(h):
    await h.say(G1, "路人甲", NO_PLACE)
    assert h.texts_to(G1)[-1].endswith(T.ASK_LOCATION)


async def test_answer_to_where_fills_the_location(h):
    await h.say(G1, "路人甲", NO_PLACE)
    await h.say(G1, "路人甲", "5号楼1单元")
    t = await ticket(h)
    assert t.location.startswith("5号楼")
    assert T.LOCATED_OK.format(location=t.location, short="#0001") in h.texts_to(G1)[-1]


async def test_ticket_list_shows_a_short_excerpt(h):
    await h.say(G1, "张三", NO_PLACE)
    await h.dm("李书记", "工单")
    assert "“楼道灯坏了好几天了，晚上黑乎乎" in h.texts_to("李书记")[-1]


# --------------------------------------------------------------------------- assignees
async def test_assignment_message_tells_the_assignee_to_just_reply(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 物业")
    assert "有进展直接回复我即可" in h.texts_to("周经理")[-1]


async def test_assignees_plain_private_reply_becomes_a_progress_note(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("周经理", "收到，明天上午安排电工师傅去换")
    assert h.texts_to("周经理")[-1] == T.ASSIGNEE_NOTED.format(code="阳光花园-0001")
    assert T.REPORTER_PROGRESS.format(code="阳光花园-0001", note="收到，明天上午安排电工师傅去换") \
        in h.texts_to("张三")


async def test_assignee_reporting_a_problem_elsewhere_opens_a_new_ticket(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("周经理", "6号楼地下车库有一处漏水挺严重的")
    assert await ticket_count(h) == 2


async def test_assignee_with_two_tickets_is_asked_which_and_the_number_files_the_note(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "5号楼门口垃圾桶满了好几天没人清理，臭气熏天")
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("李书记", "派单 0002 物业")
    await h.dm("周经理", "明天上午处理")
    assert "回复编号即可" in h.texts_to("周经理")[-1]
    await h.dm("周经理", "0002")
    assert h.texts_to("周经理")[-1] == T.ASSIGNEE_NOTED.format(code="阳光花园-0002")
    assert any("明天上午处理" in t for t in h.texts_to("李四"))


async def test_assignee_quoting_the_assignment_notes_that_ticket(h):
    await h.say(G1, "张三", LIGHT)
    await h.say(G1, "李四", "5号楼门口垃圾桶满了好几天没人清理，臭气熏天")
    await h.dm("李书记", "派单 0001 物业")
    await h.dm("李书记", "派单 0002 物业")
    assignment = [s for s in h.sent if s.person == "周经理" and "0002" in s.text][-1]
    await h.dm("周经理", "已联系保洁", quote=assignment)
    assert h.texts_to("周经理")[-1] == T.ASSIGNEE_NOTED.format(code="阳光花园-0002")


async def test_reporter_hears_of_the_assignment(h):
    await h.say(G1, "张三", LIGHT)
    await h.dm("李书记", "派单 0001 物业")
    assert any("已交给物业办理" in t for t in h.texts_to("张三"))


async def test_reporters_not_told_when_the_compound_turns_it_off(h):
    await h.say(G1, "张三", LIGHT)
    await set_setting(h, "阳光花园", tell_reporters=False)
    await h.dm("李书记", "派单 0001 物业")
    assert not any("已交给" in t for t in h.texts_to("张三"))


# --------------------------------------------------------------------------- the dashboard
async def test_dashboard_ticket_page_shows_the_photo_and_serves_it(h):
    from bot.web.testing import WebKit

    await h.say(G1, "张三", LIGHT)
    await h.photo(G1, "张三", b"\xff\xd8\xff\xe0dashboard-photo")
    t = await ticket(h)
    async with WebKit(h) as w:
        await w.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        await w.login("li")
        page = await (await w.get(f"/dashboard/tickets/{t.id}")).text()
        async with h.session() as s:
            [media] = (await s.execute(select(TicketMedia))).scalars().all()
        url = f"/dashboard/tickets/{t.id}/media/{media.id}"
        assert f'src="{url}"' in page
        response = await w.get(url)
        assert response.status == 200 and await response.read() == b"\xff\xd8\xff\xe0dashboard-photo"


async def test_dashboard_does_not_serve_a_photo_under_another_ticket(h):
    from bot.web.testing import WebKit

    await h.say(G1, "张三", LIGHT)
    await h.photo(G1, "张三")
    await h.say(G1, "李四", "5号楼门口垃圾桶满了好几天没人清理，臭气熏天")
    other = await ticket(h, 2)
    async with WebKit(h) as w:
        await w.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        await w.login("li")
        async with h.session() as s:
            [media] = (await s.execute(select(TicketMedia))).scalars().all()
        response = await w.get(f"/dashboard/tickets/{other.id}/media/{media.id}")
        assert response.status == 404


async def test_photo_run_again_from_its_stored_row_is_attached(h):
    from bot.models import InboundMessage

    await h.say(G1, "张三", LIGHT)
    photo = await h.photo(G1, "张三", b"late-bytes")
    h.transport.media.pop(photo)  # first time round the platform could not hand it out
    async with h.session() as s:
        for row in (await s.execute(select(TicketMedia))).scalars():
            await s.delete(row)
        await s.commit()
    h.transport.media[photo] = b"late-bytes"
    async with h.session() as s:
        row_id = (await s.execute(select(InboundMessage.id).where(
            InboundMessage.platform_message_id == photo))).scalar_one()
    await h.bot.dispatcher.retry(row_id)
    async with h.session() as s:
        [media] = (await s.execute(select(TicketMedia))).scalars().all()
    assert media.ticket_id == (await ticket(h)).id


async def test_recall_run_again_from_its_stored_row_still_withdraws(h):
    from bot.models import InboundMessage

    await h.say(G1, "张三", LIGHT, message_id="m-light")
    await h.recall(G1, "张三", "m-light")
    async with h.session() as s:
        t = await s.get(Ticket, (await ticket(h)).id)
        t.state = TicketState.NEW  # as if the first run had not happened
        row_id = (await s.execute(select(InboundMessage.id).where(
            InboundMessage.platform_message_id == "recall-m-light"))).scalar_one()
        await s.commit()
    await h.bot.dispatcher.retry(row_id)
    assert (await ticket(h)).state == TicketState.REJECTED
