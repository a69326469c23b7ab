"""Acknowledgements as people write them, and who has not replied to a notice."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.services.acks import is_ack
from bot.texts import notices as T

LABELLED = Path(__file__).resolve().parents[1] / "bot" / "data" / "acks.tsv"


def labelled_lines() -> list[tuple[bool, str]]:
    out = []
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            assert label in ("ack", "other"), line
            out.append((label == "ack", text))
    return out


def test_recogniser_precision_and_recall_on_the_labelled_lines():
    lines = labelled_lines()
    assert len(lines) >= 150
    hits = [(truth, is_ack(text)) for truth, text in lines]
    tp = sum(1 for t, p in hits if t and p)
    fp = sum(1 for t, p in hits if not t and p)
    fn = sum(1 for t, p in hits if t and not p)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    # (the old fixed word list reached a recall of about 0.13 on these lines)
    assert precision >= 0.98 and recall >= 0.95, (precision, recall)


async def send_notice(h):  # noqa: ANN001
    await h.dm("李书记", "通知 明天上午停水，请提前储水")
    await h.dm("李书记", "确认")
    await h.advance(minutes=1)


async def test_everyday_acknowledgements_are_all_counted(h):
    await send_notice(h)
    await h.say("阳光花园业主1群", "张三", "收到👍")
    await h.say("阳光花园业主1群", "李四", "3-1-201收到")
    await h.say("阳光花园业主1群", "王奶奶", "收到啦，谢谢支部")
    await h.say("阳光花园业主2群", "赵楼长", "已收到")
    await h.say("阳光花园业主2群", "张党员", "[强]")
    await h.dm("李书记", "通知详情 1")
    assert "收到回复：5人" in h.texts_to("李书记")[-1]


async def test_questions_and_denials_about_receiving_are_not_counted(h):
    await send_notice(h)
    await h.say("阳光花园业主1群", "张三", "收到快递了吗")
    await h.say("阳光花园业主1群", "李四", "没收到通知")
    await h.dm("李书记", "通知详情 1")
    assert "收到回复：0人" in h.texts_to("李书记")[-1]


async def test_private_ack_while_a_notice_is_open_is_counted_and_answered(h):
    await send_notice(h)
    await h.dm("张三", "收到")
    assert h.texts_to("张三")[-1].startswith(T.ACK_PRIVATE.split("#")[0])
    await h.dm("李书记", "通知详情 1")
    assert "收到回复：1人" in h.texts_to("李书记")[-1]


async def test_group_ack_gets_no_reply_in_the_group(h):
    await send_notice(h)
    before = len(h.texts_to("阳光花园业主1群"))
    await h.say("阳光花园业主1群", "张三", "4-2-302张三收到")
    assert len(h.texts_to("阳光花园业主1群")) == before


async def test_non_responders_are_listed_by_building(h):
    await send_notice(h)
    await h.say("阳光花园业主1群", "张三", "收到")
    await h.dm("李书记", "通知详情 1 未回复")
    reply = h.texts_to("李书记")[-1]
    lines = reply.splitlines()
    assert lines[0].startswith("通知#1") and "未回复" in lines[0]
    assert any(line.startswith("· 2号楼") and "王奶奶" in line for line in lines)
    assert any(line.startswith("· 3号楼") and "李四" in line and "张党员" in line for line in lines)
    assert any(line.startswith("· 4号楼") and "赵楼长" in line for line in lines)
    assert "张三" not in reply           # replied
    assert "李书记" not in reply and "周经理" not in reply  # the author; staff are not counted


async def test_detail_says_how_many_have_not_replied(h):
    await send_notice(h)
    await h.say("阳光花园业主1群", "张三", "收到")
    await h.dm("李书记", "通知详情 1")
    assert T.DETAIL_SILENT_HINT.format(count=4, id=1) in h.texts_to("李书记")[-1]


async def test_building_leader_is_sent_their_buildings_non_responders(h):
    await send_notice(h)
    await h.dm("李书记", "通知详情 1 提醒楼长")
    await h.drain()
    to_leader = h.texts_to("赵楼长")[-1]
    assert to_leader.startswith("【未回复提醒】通知#1") and "张三（2单元302）" in to_leader
    assert "李四" not in to_leader  # another building
    reply = h.texts_to("李书记")[-1]
    assert "4号楼 赵楼长" in reply and "3号楼" in reply  # 3号楼 has no leader on the roster


async def test_residents_cannot_read_the_non_responders(h):
    await send_notice(h)
    await h.dm("张三", "通知详情 1 未回复")
    assert "王奶奶" not in h.texts_to("张三")[-1]


STEP = timedelta(minutes=30)


async def set_leader_reminder(h, hours: int) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from bot.models import Compound

    async with h.session() as session:
        compound = (await session.execute(select(Compound).where(Compound.name == "阳光花园"))).scalar_one()
        compound.settings = {**(compound.settings or {}), "remind_leaders_after_hours": hours}
        await session.commit()
    await h.bot.refresh_org()


async def test_leaders_are_reminded_by_themselves_when_the_compound_asks_for_it(h):
    await set_leader_reminder(h, 4)
    await send_notice(h)
    await h.advance(hours=3, step=STEP)
    assert not [t for t in h.texts_to("赵楼长") if t.startswith("【未回复提醒】")]
    await h.advance(hours=8, step=STEP)
    reminders = [t for t in h.texts_to("赵楼长") if t.startswith("【未回复提醒】")]
    assert len(reminders) == 1 and "张三" in reminders[0]


async def test_leaders_are_not_reminded_unless_the_compound_asks_for_it(h):
    await send_notice(h)
    await h.advance(hours=12, step=STEP)
    assert not [t for t in h.texts_to("赵楼长") if t.startswith("【未回复提醒】")]


async def test_private_ack_from_an_assignee_is_left_to_the_assignment(h):
    await h.say("阳光花园业主1群", "张三", "4号楼门口积水了，好几天了")
    await h.dm("李书记", "派单 1 张党员")
    await send_notice(h)
    await h.dm("张党员", "收到")
    assert not h.texts_to("张党员")[-1].startswith(T.ACK_PRIVATE.split("#")[0])
    await h.dm("李书记", "通知详情 1")
    assert "收到回复：0人" in h.texts_to("李书记")[-1]
