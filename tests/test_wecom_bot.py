"""The WeCom intelligent bot, driven through real encrypted callbacks against a fake WeCom."""
from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.invites import create_invite
from bot.models import Identity, InboundMessage, Person
from bot.models.messages import OutboxMessage, OutboxStatus
from fake_wecom import AES_KEY, TOKEN, FakeWecom, WecomHarness, fake  # noqa: F401  (fake: the server fixture)

# WeCom's published test vector (a self-built app's callback: receive id = CorpID).
CORP_ID = "wx5823bf96d3bd56c7"
VECTOR = {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
          "nonce": "263014780",
          "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="}
BOT = {"name": "staff", "token": TOKEN, "encoding_aes_key": AES_KEY}


@pytest.fixture
async def wh(fake):
    async with WecomHarness(fake, {"bot": BOT, "corp_id": "ww-corp", "agent_id": 1000002,
                                   "agent_secret": "agent-secret"}) as harness:
        yield harness


async def link(h, userid: str, name: str = "李书记", compound: str = "阳光花园") -> None:
    """The roster person ``name`` links their WeCom account with a one-time code, privately."""
    async with h.session() as s:
        person = (await s.execute(select(Person).where(Person.name == name))).scalars().one()
        invite = await create_invite(s, person, "secretary", h.now, 72, compound_id=h.bot.org.find(compound).id)
        await s.commit()
    await h.callback(h.message(userid, invite.code))


def replies(fake: FakeWecom) -> list[str]:
    return [body["markdown"]["content"] for path, _q, body in fake.calls if path.startswith("/response/")]


async def test_url_verification_answers_the_official_vector(fake):
    bot = {**BOT, "receive_id": CORP_ID}
    async with WecomHarness(fake, {"bot": bot}) as h:
        async with aiohttp.ClientSession() as client:
            async with client.get(h.callback_url, params=VECTOR) as response:
                assert response.status == 200
                assert await response.text() == "1616140317555161061"


async def test_url_verification_with_a_wrong_signature_is_refused(wh):
    async with aiohttp.ClientSession() as client:
        async with client.get(wh.callback_url, params={**VECTOR, "msg_signature": "0" * 40}) as response:
            assert response.status == 403


async def test_a_callback_with_a_forged_signature_is_not_stored(wh):
    encrypted = wh.crypto.encrypt('{"msgid": "forged", "msgtype": "text", "text": {"content": "工单"}}')
    async with aiohttp.ClientSession() as client:
        async with client.post(wh.callback_url, params={**wh.signed(encrypted), "msg_signature": "f" * 40},
                               json={"encrypt": encrypted}) as response:
            assert response.status == 403
    async with wh.session() as s:
        assert (await s.execute(select(func.count()).select_from(InboundMessage))).scalar_one() == 0


async def test_invite_code_sent_privately_in_wecom_links_the_roster_person(wh, fake):
    await link(wh, "LiShuJi")
    assert "身份确认成功：李书记" in replies(fake)[-1]
    async with wh.session() as s:
        ident = (await s.execute(select(Identity).where(Identity.account == "wecom:staff"))).scalars().one()
        person = await s.get(Person, ident.person_id)
    assert (ident.platform_id, person.name) == ("wecom:LiShuJi", "李书记")


async def test_secretary_command_in_an_internal_group_is_answered_through_the_reply_url(wh, fake):
    await link(wh, "LiShuJi")
    await wh.callback(wh.message("LiShuJi", "@支部助手 绑定 阳光花园", chatid="wrInternal01"))
    assert "已绑定到“阳光花园”" in replies(fake)[-1]
    await wh.say("阳光花园业主1群", "张三", "4号楼门口积水好几天了，没人管")
    await wh.callback(wh.message("LiShuJi", "@支部助手 工单", chatid="wrInternal01"))
    assert "未办结工单 1 件" in replies(fake)[-1] and "4号楼" in replies(fake)[-1]
    assert len(fake.used_reply_urls) == 3  # every answer used its own callback's URL


async def test_a_repeated_callback_is_handled_once(wh, fake):
    await link(wh, "LiShuJi")
    before = len(replies(fake))
    payload = wh.message("LiShuJi", "帮助", msgid="dup-1")
    first = await wh.callback(payload)
    second = await wh.callback(payload)
    assert (first.status, second.status) == (200, 200)
    assert len(replies(fake)) == before + 1
    async with wh.session() as s:
        stored = (await s.execute(select(func.count()).select_from(InboundMessage).where(
            InboundMessage.platform_message_id == "dup-1"))).scalar_one()
    assert stored == 1


async def test_a_private_text_without_a_valid_reply_url_goes_through_the_app(wh, fake):
    await link(wh, "LiShuJi")
    await wh.advance(minutes=61)  # the code's reply URL has been used; any other would have expired
    async with wh.session() as s:
        person_id = (await s.execute(select(Person.id).where(Person.name == "李书记"))).scalar_one()
        wh.bot.outbox.enqueue(s, "明天上午9点议事", person_id=person_id, account="wecom:staff")
        await s.commit()
    await wh.drain()
    sent = fake.calls_to("/cgi-bin/message/send")
    assert sent[-1]["touser"] == "LiShuJi" and sent[-1]["text"]["content"] == "明天上午9点议事"


async def test_an_expired_reply_url_is_not_used(wh, fake):
    await link(wh, "LiShuJi")
    await wh.callback(wh.message("LiShuJi", "@支部助手 绑定 阳光花园", chatid="wrInternal01"))
    url_calls = len(replies(fake))
    # A message whose answer is queued behind an hour's delay: its URL is dead by then.
    transport = wh.transport_of("wecom:staff")
    transport._accept(wh.message("LiShuJi", "随便说说", chatid="wrInternal01"))  # noqa: SLF001
    wh.clock.set(wh.now + timedelta(minutes=61))
    async with wh.session() as s:
        from bot.models import ChatGroup

        group_id = (await s.execute(select(ChatGroup.id).where(
            ChatGroup.platform_id == "wrInternal01"))).scalar_one()
        wh.bot.outbox.enqueue(s, "迟到的回复", group_id=group_id)
        await s.commit()
    await wh.drain()
    assert len(replies(fake)) == url_calls
    async with wh.session() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.text == "迟到的回复"))).scalar_one()
    assert row.status == OutboxStatus.PENDING and "1小时" in row.error


async def test_a_person_on_wechat_and_wecom_is_answered_where_they_just_wrote(wh, fake):
    await wh.advance(minutes=50)
    await link(wh, "LiShuJi")
    await wh.advance(minutes=20)
    await wh.dm("李书记", "帮助")            # on WeChat: that identity is now the most recently seen
    await wh.advance(minutes=10)
    sim_texts = len(wh.texts_to("李书记"))
    await wh.callback(wh.message("LiShuJi", "我的身份"))
    assert "支部书记" in replies(fake)[-1]
    assert len(wh.texts_to("李书记")) == sim_texts
