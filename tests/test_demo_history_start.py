"""``zhibu demo``'s first start (bot/demo_start.py): the sample history is generated on a thread
of its own while the demo serves, and a database whose generation was interrupted is found at
the next start and made again, never served half-made."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot import db
from bot.config import SAMPLE_ORG, Settings
from bot.demo_marker import discard_half_made, is_incomplete, mark_incomplete
from bot.demo_start import HistoryJob, begin_demo
from bot.models import Event
from bot.models.tickets import Ticket
from test_demo_history import UNTIL

ROOT = Path(__file__).resolve().parent.parent
DAYS = 3  # a short history: the start is tested here, the history itself in test_demo_history.py.
# Three days before UNTIL stay in one month: a history reaching into the month before also
# plans that whole month's property complaints in the other compounds (the ranking's rules).


def _settings(directory: Path, **extra) -> Settings:  # noqa: ANN003
    return Settings.model_validate({"database_url": f"sqlite+aiosqlite:///{directory / 'demo.db'}",
                                    "org_file": str(SAMPLE_ORG), **extra})


# The demo's answers on the real clock, without the account's safe spacing between sends.
UNSPACED = {"outbox": {"min_interval_seconds": 0, "jitter_seconds": 0}}


@asynccontextmanager
async def _engine(settings: Settings):  # noqa: ANN202
    engine = db.create_engine(settings.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _counts(settings: Settings) -> tuple[int, int]:
    engine = db.create_engine(settings.database_url)
    try:
        async with db.session_factory(engine)() as session:
            tickets = (await session.execute(select(func.count()).select_from(Ticket))).scalar_one()
            events = (await session.execute(select(func.count()).select_from(Event))).scalar_one()
    finally:
        await engine.dispose()
    return tickets, events


async def _generate(directory: Path) -> HistoryJob:
    job = await begin_demo(_settings(directory), until=UNTIL, days=DAYS)
    assert job is not None
    job.serving()  # no page to wait for here
    await job.wait_finished()
    return job


@pytest.mark.asyncio
async def test_history_is_complete_on_disk_before_its_marker_goes(tmp_path):
    job = await _generate(tmp_path)
    assert job.error is None, job.error
    assert not await is_incomplete(_settings(tmp_path))
    assert job.status() == {"finished": True, "failed": False, "percent": 100, "text": job.status()["text"]}
    assert "已生成完毕" in job.status()["text"]
    assert (await _counts(_settings(tmp_path)))[0] > 0


@pytest.mark.asyncio
async def test_an_interrupted_generation_keeps_its_marker_and_reports_the_failure(tmp_path, monkeypatch):
    def interrupt(self, days=1):  # noqa: ANN001, ANN202 (the generator stopped part-way, as by Ctrl-C)
        raise KeyboardInterrupt

    monkeypatch.setattr(HistoryJob, "update", interrupt)
    job = await _generate(tmp_path)
    assert isinstance(job.error, KeyboardInterrupt)
    assert await is_incomplete(_settings(tmp_path))
    assert job.status()["failed"] and "失败" in job.status()["text"]


@pytest.mark.asyncio
async def test_a_half_made_database_is_generated_again_whole_at_the_next_start(tmp_path, monkeypatch):
    whole = tmp_path / "whole"
    whole.mkdir()
    await _generate(whole)
    half = tmp_path / "half"
    half.mkdir()
    with monkeypatch.context() as patch:
        patch.setattr(HistoryJob, "update", lambda self, days=1: (_ for _ in ()).throw(KeyboardInterrupt))
        await _generate(half)
    assert await _counts(_settings(half)) != await _counts(_settings(whole))

    job = await _generate(half)  # the next start

    assert job.error is None and not await is_incomplete(_settings(half))
    assert await _counts(_settings(half)) == await _counts(_settings(whole))


@pytest.mark.asyncio
async def test_a_database_without_a_marker_is_kept(tmp_path):
    settings = _settings(tmp_path)
    assert await discard_half_made(settings) is False
    assert not (tmp_path / "demo.db").exists()  # looking for the marker creates no database
    job = await _generate(tmp_path)
    assert job.error is None
    assert await discard_half_made(settings) is False
    assert (await _counts(settings))[0] > 0


@pytest.mark.asyncio
async def test_a_demo_started_empty_still_discards_a_half_made_database(tmp_path):
    settings = _settings(tmp_path)
    await mark_incomplete(settings)
    async with _engine(settings) as engine, engine.begin() as conn:
        await conn.execute(text("INSERT INTO web_settings (key, value) VALUES ('half', 'made')"))
    assert await begin_demo(settings, empty=True) is None
    assert not await is_incomplete(settings)
    assert not (tmp_path / "demo.db").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()
    except OSError:
        return None


def test_a_killed_first_start_is_regenerated_by_the_next(tmp_path):
    """zhibu demo killed while it generates (no clean stop at all): the next start finds the
    marker, deletes the half-made database and generates the whole history again."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
           "ZHIBU_WEB__PORT": str(port), "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "demo"], cwd=tmp_path, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120  # a bound for a stuck process, not a timing assumption
        while _get(f"http://127.0.0.1:{port}/demo/progress") is None:
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, "the demo never answered"
            time.sleep(0.1)
        status = _get(f"http://127.0.0.1:{port}/demo/progress")
        page = _get(f"http://127.0.0.1:{port}/")
        assert page is not None and b"demo-progress" in page
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        log.close()
    if b'"finished": true' in status:
        pytest.skip("the history was complete before the kill: nothing half-made to test")
    import asyncio

    assert asyncio.run(is_incomplete(_settings(tmp_path)))
    job = asyncio.run(_generate(tmp_path))
    assert job.error is None and not asyncio.run(is_incomplete(_settings(tmp_path)))


@pytest.mark.asyncio
async def test_a_message_typed_while_the_history_is_generated_is_handled_and_answered_when_complete(tmp_path,
                                                                                                   monkeypatch):
    """It is handled after the history (so the sample's ticket numbers are those of a demo
    nobody typed in), then answered."""
    import asyncio
    import threading
    from datetime import datetime, timezone

    from bot.app import BotApp
    from bot.demo_start import serve_when_complete
    from bot.models import ChatGroup, Identity, Person
    from bot.transports.base import Incoming
    from bot.transports.fake import FakeTransport

    halfway, typed = threading.Event(), threading.Event()
    original = HistoryJob.update

    def pause_halfway(self, days=1):  # noqa: ANN001, ANN202 (the generator waits mid-history for the message)
        original(self, days)
        if self.done_days >= DAYS // 2 and not halfway.is_set():
            halfway.set()
            typed.wait(timeout=60)

    untouched = tmp_path / "untouched"
    untouched.mkdir()
    await _generate(untouched)
    monkeypatch.setattr(HistoryJob, "update", pause_halfway)
    settings = _settings(tmp_path, **UNSPACED)
    job = await begin_demo(settings, until=UNTIL, days=DAYS)
    await job.wait_ready()
    transport = FakeTransport(account="sim")
    app = BotApp(settings, transports=[transport])  # the demo, on the real clock
    await app.open(recover=False)
    await transport.start(job.sink(app))
    job.serving()
    background = asyncio.create_task(serve_when_complete(app, job))
    try:
        await asyncio.to_thread(halfway.wait, 60)
        assert not job.finished
        assert re.fullmatch(r"示例历史生成中：已完成 \d\d%….*", job.status()["text"])
        async with app.sessions() as session:
            zhang = (await session.execute(select(Identity.platform_id).join(Person, Person.id == Identity.person_id)
                                           .where(Person.name == "张三"))).scalar_one()
            room = (await session.execute(select(ChatGroup.platform_id)
                                          .where(ChatGroup.topic == "阳光花园业主1群"))).scalar_one()
        await transport.sink.on_message(Incoming(
            account="sim", message_id="typed-1", sender_id=zhang, sender_name="张三",
            text="12号楼电梯又坏了，困了两个老人在里面", chat_id=room, chat_topic="阳光花园业主1群",
            sent_at=datetime.now(timezone.utc)))
        assert not await _typed_tickets(app)  # it waits for the history
        typed.set()
        await background
        assert job.error is None and not await is_incomplete(settings)
        mine = await _typed_tickets(app)
        assert len(mine) == 1
        sample = await _sample_numbers(settings)
        assert sample == await _sample_numbers(_settings(untouched))  # as if nobody had typed
        assert mine[0].number == max(n for cid, n, _ in sample if cid == mine[0].compound_id) + 1
        deadline = time.monotonic() + 60  # a bound for a stuck sender, not a timing assumption
        while not [s for s in transport.sent if s.to.platform_id == room]:
            assert time.monotonic() < deadline, "the answer was never sent"
            await asyncio.sleep(0.05)
    finally:
        typed.set()
        background.cancel()
        await app.stop()


async def _typed_tickets(app) -> list[Ticket]:  # noqa: ANN001
    async with app.sessions() as session:
        return list((await session.execute(select(Ticket).where(Ticket.text.contains("困了两个老人")))).scalars())


async def _sample_numbers(settings: Settings) -> list[tuple[int, int, str]]:
    async with _engine(settings) as engine, engine.connect() as conn:
        rows = await conn.execute(select(Ticket.compound_id, Ticket.number, Ticket.text)
                                  .where(~Ticket.text.contains("困了两个老人")).order_by(Ticket.id))
        return [tuple(row) for row in rows]


class _Killed(Exception):
    """Stands for the process being killed part-way (a KeyboardInterrupt would stop the test's loop)."""


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_an_interrupted_first_start_on_postgresql_is_found_and_generated_again(empty_pg_url, monkeypatch):
    import bot.demo_history as DH
    from bot.models import Compound

    settings = Settings.model_validate({"database_url": empty_pg_url, "org_file": str(SAMPLE_ORG)})
    with monkeypatch.context() as patch:  # the sample organisation is loaded, then the start is interrupted
        patch.setattr(DH._History, "_plan", lambda self: (_ for _ in ()).throw(_Killed()))
        with pytest.raises(_Killed):
            await begin_demo(settings, until=UNTIL, days=2)
    assert await is_incomplete(settings)
    async with _engine(settings) as engine, engine.begin() as conn:  # a row the whole history would not have
        await conn.execute(text("INSERT INTO web_settings (key, value) VALUES ('half', 'made')"))

    assert await begin_demo(settings, until=UNTIL, days=2) is None  # the next start: in the foreground

    assert not await is_incomplete(settings)
    async with _engine(settings) as engine, engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM web_settings WHERE key = 'half'"))).scalar_one() == 0
        assert (await conn.execute(select(func.count()).select_from(Compound))).scalar_one() > 30
        assert (await conn.execute(select(func.count()).select_from(Ticket))).scalar_one() > 0


@pytest.mark.asyncio
async def test_a_message_held_longer_than_the_replay_limit_is_still_acted_on():
    """On a very busy machine the history may take longer than ``replay_max_age_seconds``: a
    message typed meanwhile is no replay and must not be stored as one."""
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    from bot.clock import FakeClock
    from bot.demo_start import HeldMessages
    from bot.transports.base import Incoming

    now = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)
    handed: list[Incoming] = []

    async def on_message(incoming: Incoming) -> None:
        handed.append(incoming)

    app = SimpleNamespace(settings=Settings(), clock=FakeClock(now), on_message=on_message)
    held = HeldMessages(app)
    limit = app.settings.replay_max_age_seconds
    typed = [Incoming(account="sim", message_id=f"typed-{n}", sender_id="wx", sender_name="张三", text=text,
                      sent_at=now - timedelta(seconds=age)) for n, (text, age) in enumerate(
                          (("早上打的", limit + 100), ("刚打的", 5)))]
    for incoming in typed:
        await held.on_message(incoming)
    assert handed == []
    assert await held.release() == 2
    assert [i.text for i in handed] == ["早上打的", "刚打的"]
    assert all((now - i.sent_at).total_seconds() < limit for i in handed)
    assert handed[1].sent_at == typed[1].sent_at  # a message within the limit keeps its time
    await held.on_message(typed[1])  # after the release: straight through
    assert len(handed) == 3


@pytest.mark.asyncio
async def test_a_held_message_that_fails_holds_back_neither_the_others_nor_later_ones():
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from bot.clock import FakeClock
    from bot.demo_start import HeldMessages
    from bot.transports.base import Incoming

    now = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)
    handed: list[str] = []

    async def on_message(incoming: Incoming) -> None:
        if incoming.text == "坏的":
            raise RuntimeError("database is locked")
        handed.append(incoming.text)

    held = HeldMessages(SimpleNamespace(settings=Settings(), clock=FakeClock(now), on_message=on_message))
    for n, text in enumerate(("坏的", "好的")):
        await held.on_message(Incoming(account="sim", message_id=f"typed-{n}", sender_id="wx", sender_name="张三",
                                       text=text, sent_at=now))
    assert await held.release() == 2
    assert handed == ["好的"] and not held.holding
    await held.on_message(Incoming(account="sim", message_id="later", sender_id="wx", sender_name="张三",
                                   text="之后的", sent_at=now))
    assert handed == ["好的", "之后的"]
