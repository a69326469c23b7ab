"""WeCom group robot webhooks as send-only outbox destinations for staff groups."""
from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.models import ChatGroup
from bot.models.messages import OutboxMessage, OutboxStatus, Priority
from bot.transports.wecom.hook import split_utf8
from fake_wecom import HOOK_KEY, FakeWecom, WecomHarness, fake  # noqa: F401  (fake: the server fixture)
from bot.testing import fixed_part
from bot.texts import digests as DT

ACCOUNT = "wecom-hook:duty"
HOOK = {"name": "duty", "key": HOOK_KEY, "topic": "阳光花园值班群", "compound": "阳光花园"}


@pytest.fixture
async def wh(fake):
    async with WecomHarness(fake, {"hooks": [HOOK]}) as harness:
        yield harness


async def post_to_duty_group(h, text: str, priority: int = Priority.URGENT) -> None:
    async with h.session() as s:
        group_id = (await s.execute(select(ChatGroup.id).where(ChatGroup.account == ACCOUNT))).scalar_one()
        h.bot.outbox.enqueue(s, text, group_id=group_id, priority=priority)
        await s.commit()
    await h.drain()


def hook_texts(fake: FakeWecom) -> list[str]:
    return [b["text"]["content"] for b in fake.calls_to("/cgi-bin/webhook/send")]


async def row(h, text: str) -> OutboxMessage:
    async with h.session() as s:
        return (await s.execute(select(OutboxMessage).where(OutboxMessage.text == text))).scalar_one()


async def test_the_robot_group_is_bound_to_its_compound_at_start(wh):
    async with wh.session() as s:
        group = (await s.execute(select(ChatGroup).where(ChatGroup.account == ACCOUNT))).scalar_one()
    assert (group.topic, group.compound_id, group.active) == ("阳光花园值班群", wh.bot.org.find("阳光花园").id, True)


async def test_a_text_for_the_duty_group_is_posted_through_the_webhook(wh, fake):
    await post_to_duty_group(wh, "【紧急】3号楼电梯困人")
    assert hook_texts(fake) == ["【紧急】3号楼电梯困人"]
    assert fake.calls[-1][1]["key"] == HOOK_KEY


async def test_frequency_limit_pauses_the_robot_and_the_text_goes_out_after_the_pause(wh, fake):
    fake.hook_errors[HOOK_KEY].append(45009)
    await post_to_duty_group(wh, "【紧急】地下车库进水")
    assert (await row(wh, "【紧急】地下车库进水")).status == OutboxStatus.PENDING
    refused_at = wh.now
    limiter = wh.bot.sender.limiter(ACCOUNT)
    assert (limiter.paused_until - refused_at).total_seconds() == pytest.approx(60)
    await wh.advance(minutes=2)
    sent = await row(wh, "【紧急】地下车库进水")
    assert sent.status == OutboxStatus.SENT and hook_texts(fake) == ["【紧急】地下车库进水"] * 2
    assert (sent.sent_at.replace(tzinfo=refused_at.tzinfo) - refused_at).total_seconds() >= 60

async def test_an_invalid_webhook_disables_the_group_and_records_why(wh, fake, caplog):
    fake.hook_errors[HOOK_KEY].append(93000)
    with caplog.at_level(logging.INFO):
        await post_to_duty_group(wh, "今日简报")
        await post_to_duty_group(wh, "第二条")
    failed = await row(wh, "今日简报")
    assert failed.status == OutboxStatus.FAILED and "93000" in failed.error and "duty" in failed.error
    assert (await row(wh, "第二条")).status == OutboxStatus.FAILED
    assert len(fake.calls_to("/cgi-bin/webhook/send")) == 1  # nothing more was tried
    async with wh.session() as s:
        assert (await s.execute(select(ChatGroup.active).where(ChatGroup.account == ACCOUNT))).scalar_one() is False
    assert "93000" in caplog.text and HOOK_KEY not in caplog.text


async def test_a_long_text_is_split_into_pieces_of_at_most_2048_utf8_bytes(wh, fake):
    text = "\n".join(f"{i}号楼：楼道灯不亮，已报物业维修，请留意。" for i in range(1, 60))
    assert len(text) < wh.settings.outbox.text_limit and len(text.encode()) > 2048
    await post_to_duty_group(wh, text)
    pieces = hook_texts(fake)
    assert len(pieces) > 1 and all(len(p.encode()) <= 2048 for p in pieces)
    assert "\n".join(pieces) == text


async def test_content_too_long_is_sent_again_in_smaller_pieces(wh, fake):
    fake.hook_errors[HOOK_KEY].append(40058)
    text = "甲\n" * 300
    await post_to_duty_group(wh, text.strip())
    pieces = hook_texts(fake)
    assert len(pieces) == 3  # the refused piece, then its two halves
    assert "\n".join(pieces[1:]) == text.strip()


def test_splitting_never_cuts_inside_a_character():
    pieces = split_utf8("积水" * 1000, 2048)
    assert all(len(p.encode()) <= 2048 for p in pieces) and "".join(pieces) == "积水" * 1000


def test_the_webhook_key_is_not_shown_in_the_transport_or_settings_repr(wh):
    assert HOOK_KEY not in repr(wh.bot.transports[ACCOUNT]) and HOOK_KEY not in repr(wh.settings)


async def test_an_urgent_report_is_also_posted_to_the_compounds_robot_group(wh, fake):
    await wh.say("阳光花园业主1群", "李四", "5号楼电梯困人了！快来人")
    alerts = [t for t in hook_texts(fake) if t.startswith("【紧急】")]
    assert len(alerts) == 1 and "电梯" in alerts[0]
    assert any(t.startswith("【紧急】") for t in wh.texts_to("李书记"))  # people are told as before


async def test_the_daily_digest_is_also_posted_to_the_compounds_robot_group(fake):
    async with WecomHarness(fake, {"hooks": [HOOK]}, start=datetime(2026, 12, 1, 7, 0)) as wh:
        await wh.say("阳光花园业主1群", "李四", "4号楼门口积水好几天了，没人管")
        await wh.advance(hours=1, minutes=31)  # digests go out at 08:30
        assert any(fixed_part(DT.DAILY_HEADER) in t for t in wh.texts_to("李书记"))
    digests = [t for t in hook_texts(fake) if fixed_part(DT.DAILY_HEADER) in t]
    assert len(digests) == 1 and digests[0].startswith("【阳光花园每日简报】")


async def test_a_robot_never_posts_more_than_its_per_minute_limit(fake):
    async with WecomHarness(fake, {"hooks": [{**HOOK, "per_minute": 2}]}) as wh:
        start = wh.now
        for text in ("第一条", "第二条", "第三条"):
            await post_to_duty_group(wh, text)
        await wh.advance(minutes=2)
        third = await row(wh, "第三条")
    assert hook_texts(fake) == ["第一条", "第二条", "第三条"]  # nothing refused, nothing lost
    assert (third.sent_at.replace(tzinfo=start.tzinfo) - start).total_seconds() >= 60


async def test_a_community_robot_receives_the_urgent_alerts_of_each_of_its_compounds(fake):
    hook = {"name": "lx-duty", "key": HOOK_KEY, "topic": "兰新社区值班群", "community": "兰新社区"}
    async with WecomHarness(fake, {"hooks": [hook]}) as wh:
        async with wh.session() as s:
            bound = set((await s.execute(select(ChatGroup.compound_id).where(
                ChatGroup.account == "wecom-hook:lx-duty"))).scalars())
        assert wh.bot.org.find("阳光花园").id in bound and len(bound) > 1
        await wh.say("阳光花园业主1群", "李四", "5号楼电梯困人了！快来人")
    assert [t for t in hook_texts(fake) if t.startswith("【紧急】")]


async def test_residents_notices_do_not_go_into_the_duty_group(fake):
    hook = {"name": "lx-duty", "key": HOOK_KEY, "topic": "兰新社区值班群", "community": "兰新社区"}
    async with WecomHarness(fake, {"hooks": [hook]}) as wh:
        await wh.dm("李书记", "通知 本周六上午9点小区消杀，请关好门窗")
        await wh.dm("李书记", "确认")
        assert any("小区消杀" in t for t in wh.texts_to("阳光花园业主1群"))
    assert not [t for t in hook_texts(fake) if "小区消杀" in t]
