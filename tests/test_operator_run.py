"""`zhibu run` and `zhibu demo` as an operator starts them (subprocesses)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from conftest_gateway import free_port

ROOT = Path(__file__).resolve().parent.parent


def operator_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WECHATY_", "ZHIBU_")) and k != "DATABASE_URL"}
    (tmp / "zhibu.toml").write_text("", encoding="utf-8")
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'zhibu.db'}", ZHIBU_CONFIG=str(tmp / "zhibu.toml"),
               ZHIBU_WEB__PORT=str(free_port()), PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def test_run_without_a_gateway_refuses_and_points_to_the_demo(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=operator_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "zhibu demo" in proc.stderr and "--web-chat" in proc.stderr
    assert not (tmp_path / "zhibu.db").exists()


async def test_demo_on_a_non_loopback_host_warns_loudly(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "demo", "--empty", cwd=tmp_path,
        env=operator_env(tmp_path, ZHIBU_WEB__HOST="0.0.0.0"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    lines: list[str] = []
    try:
        while not any(mark in line for line in lines for mark in ("WARNING", "支部助手已启动", "启动失败")):
            line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
            if not line:
                break
            lines.append(line)
    finally:
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()
    output = "".join(lines)
    assert "WARNING: the demo listens on 0.0.0.0" in output and "警告" in output, output
