"""亮身份: apply, approve or reject; secretaries add people; rosters; names never grant rights."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.models import Identity, Person, Role
from bot.models.members import IdentityRequest

G = "阳光花园业主1群"


async def _roles(h, name: str) -> set[tuple[str, int | None]]:
    async with h.session() as session:
        person = (await session.execute(select(Person).where(Person.name == name))).scalars().first()
        return {(r.name, r.compound_id) for r in person.roles}


async def _request(h, request_id: int = 1) -> IdentityRequest:
    async with h.session() as session:
        return await session.get(IdentityRequest, request_id)


async def test_application_is_pending_and_the_secretary_told_privately(h):
    await h.say(G, "李四", "亮身份 党员 3号楼1单元")
    assert "R1" in h.texts_to(G)[-1] and "确认之前" in h.texts_to(G)[-1]
    told = h.texts_to("李书记")
    assert len(told) == 1 and "李四" in told[0] and "同意 R1" in told[0] and "3号楼1单元" in told[0]
    assert not h.texts_to("孙书记")  # another compound's secretary hears nothing
    assert ("party_member", 1) not in await _roles(h, "李四")
    assert (await _request(h)).state == "pending"


async def test_approval_grants_the_role_and_shows_identity_in_the_group(h):
    await h.say(G, "李四", "亮身份 党员 3号楼1单元")
    await h.dm("李书记", "同意 R1")
    assert "已同意 R1" in h.texts_to("李书记")[-1]
    assert "申请已通过" in h.texts_to("李四")[-1]
    assert "【亮身份】李四（3号楼）" in h.texts_to(G)[-1]
    async with h.session() as session:
        compound = (await session.execute(select(Person.compound_id).where(Person.name == "李书记"))).scalar_one()
    assert ("party_member", compound) in await _roles(h, "李四")
    await h.dm("李四", "我的身份")
    assert "党员（阳光花园）" in h.texts_to("李四")[-1]


async def test_single_pending_request_can_be_approved_without_its_number(h):
    await h.dm("李四", "亮身份 志愿者 阳光花园")
    await h.dm("李书记", "同意")
    assert "已同意 R1" in h.texts_to("李书记")[-1]


async def test_rejection_needs_a_reason_and_tells_the_applicant(h):
    await h.say(G, "李四", "亮身份 楼长 3号楼")
    await h.dm("李书记", "拒绝 R1")
    assert "原因" in h.texts_to("李书记")[-1]
    assert (await _request(h)).state == "pending"
    await h.dm("李书记", "拒绝 R1 3号楼已有楼长")
    assert "3号楼已有楼长" in h.texts_to("李四")[-1]
    assert (await _request(h)).state == "rejected"
    await h.dm("李书记", "同意 R1")
    assert "已经拒绝过了" in h.texts_to("李书记")[-1]


async def test_display_name_change_cannot_take_over_a_role(h):
    await h.say(G, "李四", "亮身份 党员 3号楼1单元")
    # 李四 renames themself "李书记": same WeChat contact id, new display name.
    await h.say(G, "李书记", "同意 R1", sender_id="wxid_lisi")
    assert "需要" in h.texts_to(G)[-1] and "支部书记" in h.texts_to(G)[-1]
    await h.say(G, "李书记", "设岗 假岗位 时间：每天 9:00", sender_id="wxid_lisi")
    assert "需要" in h.texts_to(G)[-1]
    await h.say(G, "李书记", "表彰 本月", sender_id="wxid_lisi")
    assert "需要" in h.texts_to(G)[-1]
    assert (await _request(h)).state == "pending"
    assert await _roles(h, "李四") == {("resident", 1)}
    async with h.session() as session:
        ident = (await session.execute(select(Identity).where(Identity.platform_id == "wxid_lisi"))).scalar_one()
        assert ident.display_name == "李书记"  # shown, never trusted
        assert (await session.get(Person, ident.person_id)).name == "李四"


async def test_secretary_of_another_compound_cannot_decide(h):
    await h.say(G, "李四", "亮身份 党员 3号楼1单元")
    await h.dm("孙书记", "同意 R1")
    assert "阳光花园" in h.texts_to("孙书记")[-1] and "支部书记" in h.texts_to("孙书记")[-1]
    assert (await _request(h)).state == "pending"


async def test_appointed_roles_cannot_be_applied_for(h):
    await h.say(G, "李四", "亮身份 书记")
    assert "不能自己申请" in h.texts_to(G)[-1]
    async with h.session() as session:
        assert (await session.execute(select(IdentityRequest))).scalars().all() == []


async def test_repeated_application_is_told_it_is_pending(h):
    await h.say(G, "李四", "亮身份 党员 3号楼1单元")
    await h.say(G, "李四", "亮身份 党员")
    assert "R1" in h.texts_to(G)[-1] and "等支部书记确认" in h.texts_to(G)[-1]
    await h.say(G, "张党员", "亮身份 党员")
    assert "已经是" in h.texts_to(G)[-1]


async def test_secretary_adds_a_new_person_who_links_with_a_private_code(h):
    await h.say(G, "李书记", "添加 王五 党员 5号楼2单元 13900002222")
    assert "已为王五登记" in h.texts_to(G)[-1]
    code_text = h.texts_to("李书记")[-1]
    assert "验证码" in code_text
    code = code_text.split("验证码 ")[1][:6]
    assert code not in "".join(h.texts_to(G))
    await h.dm("老王", code)
    assert "身份确认成功" in h.new_sent()[-1].text
    await h.dm("老王", "我的身份")
    assert "党员（阳光花园）" in h.sent[-1].text


async def test_secretary_adding_an_existing_roster_member_tells_them(h):
    await h.dm("李书记", "添加 张三 志愿者")
    assert "已为张三登记" in h.texts_to("李书记")[-1]
    assert "志愿者" in h.texts_to("张三")[-1]
    assert ("volunteer", 1) in await _roles(h, "张三")


async def test_chat_display_name_is_never_matched_when_adding(h):
    await h.say(G, "赵六", "大家好")  # a chat-only person named 赵六
    await h.dm("李书记", "添加 赵六 党员")
    async with h.session() as session:
        people = (await session.execute(select(Person).where(Person.name == "赵六"))).scalars().all()
    assert len(people) == 2  # a new roster person, linked only by the code
    chat_person = next(p for p in people if not p.on_roster)
    assert chat_person.roles == []


async def test_secretary_removes_a_role(h):
    await h.dm("李书记", "添加 张三 志愿者")
    await h.dm("李书记", "移除 张三 志愿者")
    assert "已移除" in h.texts_to("李书记")[-1]
    assert ("volunteer", 1) not in await _roles(h, "张三")


async def test_roster_lists_members_by_building(h):
    await h.dm("李书记", "党员名单")
    roster = h.texts_to("李书记")[-1]
    assert roster.index("3号楼") < roster.index("张党员") < roster.index("4号楼") < roster.index("赵楼长")
    assert "王网格" not in roster
    await h.dm("李书记", "成员 4号楼")
    roster = h.texts_to("李书记")[-1]
    assert "赵楼长" in roster and "楼长" in roster and "张党员" not in roster
    await h.say(G, "李书记", "党员名单")
    assert "私聊" in h.texts_to(G)[-1]


@pytest.mark.parametrize("building", ["4#楼", "4#", "四号楼", "4栋"])
async def test_roster_accepts_every_building_form(h, building):
    await h.dm("李书记", f"成员 {building}")
    roster = h.texts_to("李书记")[-1]
    assert "赵楼长" in roster and "张党员" not in roster


async def test_member_chooses_whether_to_be_named(h):
    await h.dm("张党员", "不公开")
    async with h.session() as session:
        assert (await session.execute(select(Person.consent_named).where(Person.name == "张党员"))).scalar_one() is False
    await h.dm("张党员", "公开")
    async with h.session() as session:
        assert (await session.execute(select(Person.consent_named).where(Person.name == "张党员"))).scalar_one() is True


@pytest.mark.parametrize("sender, text, expected", [
    ("李四", "亮身份", "用法"),
    ("李四", "亮身份 大官", "用法"),
    ("李书记", "同意 abc", "用法"),
    ("李书记", "同意 R99", "没有找到申请 R99"),
    ("李书记", "拒绝", "用法"),
    ("李书记", "添加", "用法"),
    ("李书记", "添加 王五 大官", "不认识"),
    ("李书记", "添加 " + "名" * 20 + " 党员", "姓名"),
    ("李书记", "添加 王五 书记", "社区工作人员"),
    ("李书记", "表彰 明年", "月份"),
    ("李书记", "移除 王五", "用法"),
])
async def test_malformed_member_commands_are_answered_with_usage(h, sender, text, expected):
    await h.dm(sender, text)
    assert expected in h.texts_to(sender)[-1]


async def test_community_staff_may_appoint_a_secretary(h):
    await h.dm("陈社区", "添加 钱主任 书记 阳光花园")
    assert "已为钱主任登记" in h.texts_to("陈社区")[-1]
    assert ("secretary", 1) in await _roles(h, "钱主任")
    async with h.session() as session:
        roles = (await session.execute(select(Role).where(Role.name == "secretary"))).scalars().all()
    assert len(roles) == 4
