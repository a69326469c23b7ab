"""kill -9 during a send, then restart: a group text goes out at most once (the doubt is
recorded), an urgent alert at least once (the repeat is marked)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).with_name("outbox_crash_child.py")
ROOT = CHILD.parent.parent


def run_child(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)


def crash_then_restart(tmp_path: Path, kind: str) -> tuple[list[dict], list[list[str]]]:
    db, log = tmp_path / "bot.db", tmp_path / "sends.jsonl"
    first = run_child(str(db), str(log), "first", kind)
    line = first.stdout.readline()  # blocks until the send is inside the transport
    assert line.strip() == "IN_SEND", first.stderr.read()
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    second = run_child(str(db), str(log), "restart")
    out, err = second.communicate()
    assert second.returncode == 0, err
    sends = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    return sends, json.loads(out.strip().splitlines()[-1])


def test_group_text_killed_mid_send_is_not_sent_again_and_is_marked_uncertain(tmp_path):
    sends, rows = crash_then_restart(tmp_path, "group")
    assert [s["text"] for s in sends] == ["收到，已转支部处理"]
    assert rows == [["uncertain", "收到，已转支部处理"]]


def test_urgent_alert_killed_mid_send_is_sent_again_marked_as_a_repeat(tmp_path):
    sends, rows = crash_then_restart(tmp_path, "urgent")
    assert [s["text"] for s in sends] == ["【紧急】5号楼电梯困人", "（重发）【紧急】5号楼电梯困人"]
    assert rows == [["sent", "（重发）【紧急】5号楼电梯困人"]]
