"""A bot process for tests/test_outbox_crash.py: queues one text and blocks inside the
transport's send (so the parent can kill -9 it mid-send), or restarts and delivers.

    python outbox_crash_child.py DB LOG first urgent|group   # prints IN_SEND, then blocks
    python outbox_crash_child.py DB LOG restart              # recovers, drains, prints statuses

Every send the transport receives is appended to LOG (and fsynced) before anything else, so
the parent counts what "reached WeChat" whatever happens to the process afterwards.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import BotApp
from bot.clock import FakeClock
from bot.config import SAMPLE_ORG, Settings
from bot.models import ChatGroup, OutboxMessage, Person, Priority
from bot.transports.fake import FakeTransport


class RecordingTransport(FakeTransport):
    def __init__(self, log: Path, block: bool, **kw) -> None:  # noqa: ANN003
        super().__init__(**kw)
        self.log, self.block = log, block

    async def send_text(self, to, text, mention_ids=()):  # noqa: ANN001, ANN201
        with self.log.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"to": to.platform_id, "text": text}, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if self.block:
            print("IN_SEND", flush=True)
            await asyncio.Event().wait()  # the parent kills us here
        return await super().send_text(to, text, mention_ids)


async def main(db: str, log: str, mode: str, kind: str = "") -> None:
    # Each run starts later on the same fake timeline, as a real restart would.
    clock = FakeClock(datetime(2026, 12, 1, 9, 0) + timedelta(minutes=0 if mode == "first" else 1))
    transport = RecordingTransport(Path(log), block=mode == "first", account="sim", now=clock.now)
    app = BotApp(Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{db}", "org_file": SAMPLE_ORG}),
                 transports=[transport], clock=clock)
    await app.open()
    if mode == "first":
        async with app.sessions() as s:
            if kind == "urgent":
                pid = (await s.execute(select(Person.id).where(Person.name == "王网格"))).scalar_one()
                app.outbox.enqueue(s, "【紧急】5号楼电梯困人", person_id=pid, priority=Priority.URGENT)
            else:
                gid = (await s.execute(select(ChatGroup.id).where(ChatGroup.topic == "阳光花园业主1群"))).scalar_one()
                app.outbox.enqueue(s, "收到，已转支部处理", group_id=gid)
            await s.commit()
    await app.sender.drain()
    async with app.sessions() as s:
        rows = (await s.execute(select(OutboxMessage.status, OutboxMessage.text))).all()
    print(json.dumps([list(r) for r in rows], ensure_ascii=False), flush=True)
    await app.stop()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
