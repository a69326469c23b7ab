"""The README's "上线步骤 / Going live" runbook, command for command, against the real Node gateway
(puppet-mock standing in for the WeChat account): it ends with a resident's report answered in the group."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest_gateway import free_port, gateway_factory  # noqa: F401

pytestmark = pytest.mark.gateway

ZHIBU = str(Path(sys.executable).with_name("zhibu"))
# The account as WeChat has it: ids the roster does not know (people link by code, groups by 绑定).
WORLD = {
    "self": {"key": "bot", "name": "支部助手"},
    "contacts": [{"key": "li", "name": "李书记"}, {"key": "zhangsan", "name": "张三"}],
    "rooms": [{"key": "yg1", "topic": "阳光花园业主1群", "members": ["li", "zhangsan"]}],
}
# The district's roster: 微信号 left empty, as it usually is.
ROSTER = ("街道,社区,小区,姓名,电话,楼,单元,室,角色,微信号,群\n"
          "兰山街道,兰新社区,阳光花园,李书记,13800000001,1,1,101,书记,,阳光花园业主1群\n"
          "兰山街道,兰新社区,阳光花园,张三,,4,2,302,居民,,\n")


def operator_env(tmp: Path, endpoint: str, token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHATY_", "ZHIBU_")) and k != "DATABASE_URL"}
    (tmp / "zhibu.toml").write_text("", encoding="utf-8")
    env.update({
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'zhibu.db'}",
        "WECHATY_PUPPET_SERVICE_ENDPOINT": endpoint, "WECHATY_PUPPET_SERVICE_TOKEN": token,
        "ZHIBU_CONFIG": str(tmp / "zhibu.toml"), "ZHIBU_WEB__PORT": str(free_port()),
        "ZHIBU_OUTBOX__MIN_INTERVAL_SECONDS": "0", "ZHIBU_OUTBOX__JITTER_SECONDS": "0",
    })
    return env


async def test_going_live_ends_with_a_residents_report_answered_in_the_group(gateway_factory, tmp_path):
    # 1. the gateway holds the bot's WeChat account
    gw = gateway_factory(WORLD)
    env = operator_env(tmp_path, gw.endpoint, gw.token)
    (tmp_path / "district.csv").write_text(ROSTER, encoding="utf-8")

    def zhibu(*args: str) -> str:
        proc = subprocess.run([ZHIBU, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"zhibu {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
        return proc.stdout

    # 2. database and roster; the import says which account the groups belong to
    zhibu("db", "upgrade")
    assert "账号“default”" in zhibu("import", "org", "district.csv")
    # 3. a one-time code for the secretary
    code = re.search(r"验证码：(\w{6})", zhibu("invite", "secretary", "阳光花园", "李书记")).group(1)
    # 4. zhibu run
    run = await asyncio.create_subprocess_exec(ZHIBU, "run", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
                                               stderr=asyncio.subprocess.STDOUT)
    output: list[str] = []
    try:
        while not any("支部助手已启动" in line for line in output):
            line = (await asyncio.wait_for(run.stdout.readline(), 120)).decode()
            assert line, "zhibu run stopped:\n" + "".join(output)
            output.append(line)
        # 5. the secretary sends the code privately to the bot
        li = gw.contact_id("li")
        gw.say("li", code)
        await gw.wait_sent(lambda s: s["to_id"] == li and "身份确认成功" in s["text"], timeout=60)
        # 6. 绑定 in each group
        room = gw.room_id("yg1")
        gw.say("li", "绑定 阳光花园", room="yg1")
        await gw.wait_sent(lambda s: s["room_id"] == room and "阳光花园" in s["text"], timeout=60)
        # 7. a resident's report is answered in the group
        since = len(gw.sent())
        gw.say("zhangsan", "4号楼门口积水好几天了，没人管", room="yg1")
        answer = await gw.wait_sent(lambda s: s["room_id"] == room, since=since, timeout=60)
        assert "工单" in answer["text"], answer["text"]
        # 8. zhibu doctor finds nothing wrong
        doctor = await asyncio.to_thread(subprocess.run, [ZHIBU, "doctor"], cwd=tmp_path, env=env,
                                         capture_output=True, text=True, timeout=120)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    finally:
        if run.returncode is None:
            run.terminate()
        await run.wait()
