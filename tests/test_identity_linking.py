"""Staff are linked by one-time codes; roles never come from display names."""
from __future__ import annotations

from datetime import timedelta

from bot.cli import main


async def make_invite(h, role="secretary", compound="兰亭水岸", name="新书记"):
    from sqlalchemy import select

    from bot.invites import create_invite
    from bot.models import Person

    async with h.session() as s:
        person = (await s.execute(select(Person).where(Person.name == name))).scalars().first()
        if person is None:
            person = Person(name=name, compound_id=h.bot.org.find(compound).id, on_roster=True,
                            created_at=h.now, roles=[])
            s.add(person)
            await s.flush()
        invite = await create_invite(s, person, role, h.now, 72, compound_id=h.bot.org.find(compound).id)
        await s.commit()
        return invite.code


async def test_code_sent_privately_links_identity_and_role(h):
    code = await make_invite(h)
    await h.dm("微信昵称小花", code)
    assert "身份确认成功：新书记，支部书记" in h.texts_to("新书记")[-1]
    await h.say("兰亭水岸新群", "微信昵称小花", "绑定 兰亭水岸")
    assert "已绑定到“兰亭水岸”" in h.texts_to("兰亭水岸新群")[0]


async def test_code_is_single_use(h):
    code = await make_invite(h)
    await h.dm("甲", code)
    await h.dm("乙", code)
    assert "已被使用" in h.texts_to("乙")[-1]


async def test_expired_code_is_refused(h):
    code = await make_invite(h)
    await h.advance(hours=73, step=timedelta(hours=1))
    await h.dm("甲", code)
    assert "无效或已过期" in h.texts_to("甲")[-1]


async def test_code_in_group_is_not_redeemed(h):
    code = await make_invite(h)
    await h.say("阳光花园业主1群", "甲", code)
    assert h.texts_to("甲") == []


async def test_renaming_to_a_secretary_name_grants_nothing(h):
    await h.say("阳光花园业主1群", "李书记", "我的身份", sender_id="wxid_fake_li")
    assert "居民身份" in h.texts_to("阳光花园业主1群")[-1]


async def test_my_roles_lists_roster_roles(h):
    await h.dm("李书记", "我的身份")
    assert "支部书记（阳光花园）" in h.texts_to("李书记")[-1]


def test_cli_invite_prints_a_code(tmp_path, capsys):
    from bot.config import SAMPLE_ORG

    toml = tmp_path / "z.toml"
    toml.write_text(f'database_url = "sqlite+aiosqlite:///{tmp_path / "z.db"}"\norg_file = "{SAMPLE_ORG}"\n',
                    encoding="utf-8")
    assert main(["--config", str(toml), "invite", "secretary", "阳光花园", "新来的书记"]) == 0
    assert "验证码：" in capsys.readouterr().out
    assert main(["--config", str(toml), "invite", "chief", "阳光花园", "某人"]) == 2
    assert "未知角色" in capsys.readouterr().err
