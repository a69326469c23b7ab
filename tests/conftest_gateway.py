"""Fixtures for end-to-end tests against the real Node Wechaty gateway (puppet-mock).

Imported by tests/conftest.py (``from conftest_gateway import gateway, gateway_factory``). The gateway's
node_modules come from ``npm ci --prefix gateway``. Without them the gateway tests skip
locally, but fail loudly when ``CI`` is set.

    def test_x(gateway):                       # one gateway per test module, standard world
        gateway.say("wang", "你好", room="r1")
        await gateway.wait_sent(lambda s: "收到" in s["text"])

    def test_y(gateway_factory):               # a gateway of your own (restart, new ids, …)
        gw = gateway_factory(world, id_style="web")
        gw.restart()
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from bot.transports.base import Incoming, LoggedIn, RoomJoined, RoomLeft, RoomTopicChanged

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_DIR = ROOT / "gateway"
GATEWAY_SCRIPT = GATEWAY_DIR / "server.js"
GATEWAY_TOKEN = "zhibu-test-token"
READY_PREFIX = "ZHIBU_GATEWAY_READY "
START_TIMEOUT = 30.0

# The standard world: the bot, three people and one room.
STANDARD_WORLD: dict[str, Any] = {
    "self": {"key": "bot", "name": "支部助手"},
    "contacts": [
        {"key": "wang", "name": "王书记"},
        {"key": "li", "name": "李阿姨"},
        {"key": "zhao", "name": "赵师傅"},
    ],
    "rooms": [
        {"key": "r1", "topic": "幸福小区1号楼", "members": ["wang", "li"]},
        {"key": "r2", "topic": "新建的群", "members": ["li", "zhao"], "bot_in": False},
    ],
}


def gateway_missing_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (GATEWAY_DIR / "node_modules" / "wechaty-puppet-service").is_dir():
        return "gateway/node_modules is missing: run `npm ci --prefix gateway`"
    return None


def require_gateway() -> None:
    """Skip without the gateway's dependencies, except in CI, where that is a failure."""
    reason = gateway_missing_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"gateway tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GatewayError(RuntimeError):
    pass


class Gateway:
    """One Node gateway process (PuppetServer over puppet-mock) and its control channel."""

    def __init__(self, workdir: Path, world: dict[str, Any] | None = None, *, token: str = GATEWAY_TOKEN,
                 id_style: str | None = None, port: int | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.world = world or STANDARD_WORLD
        self.token = token
        self.id_style = id_style
        self.options = options or {}  # more server.js flags, e.g. {"queue-max-events": 2}
        self.port = port or free_port()
        self.world_file = workdir / "world.json"
        self.state_file = workdir / "state.json"
        self.world_file.write_text(json.dumps(self.world, ensure_ascii=False), encoding="utf-8")
        self.process: subprocess.Popen | None = None
        self.control = ""
        self.self_id = ""
        self.starts = 0
        self.start_seconds: list[float] = []

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_text(self) -> str:
        parts = []
        for name in sorted(self.workdir.glob("gateway-*.log")):
            parts.append(f"--- {name.name}\n{name.read_text(encoding='utf-8', errors='replace')[-4000:]}")
        return "\n".join(parts)

    def start(self, *, id_style: str | None = None) -> Gateway:
        if self.process is not None:
            raise GatewayError("gateway already running")
        if id_style is not None:
            self.id_style = id_style
        self.starts += 1
        out = self.workdir / f"gateway-{self.starts}.out"
        err = self.workdir / f"gateway-{self.starts}.log"
        cmd = ["node", str(GATEWAY_SCRIPT), "--mock", "--token", self.token, "--host", "127.0.0.1",
               "--port", str(self.port), "--world", str(self.world_file), "--state", str(self.state_file),
               "--state-dir", str(self.workdir), "--exit-with-parent"]
        if self.id_style:
            cmd += ["--id-style", self.id_style]
        for flag, value in self.options.items():
            cmd += [f"--{flag}", str(value)]
        env = dict(os.environ, WECHATY_LOG="warn", NODE_NO_WARNINGS="1")
        started = time.monotonic()
        with open(out, "w") as out_f, open(err, "w") as err_f:
            self.process = subprocess.Popen(cmd, cwd=GATEWAY_DIR, stdout=out_f, stderr=err_f, env=env,
                                            start_new_session=True)
        deadline = started + START_TIMEOUT
        while time.monotonic() < deadline:
            text = out.read_text(encoding="utf-8") if out.exists() else ""
            for line in text.splitlines():
                if line.startswith(READY_PREFIX):
                    info = json.loads(line[len(READY_PREFIX):])
                    self.control = info["control"]
                    self.self_id = info.get("self_id", "")
                    self.start_seconds.append(time.monotonic() - started)
                    return self
            code = self.process.poll()
            if code is not None:
                self.process = None
                raise GatewayError(f"gateway exited with {code}:\n{self.log_text}")
            time.sleep(0.05)
        self.stop()
        raise GatewayError(f"gateway did not start within {START_TIMEOUT:.0f}s:\n{self.log_text}")

    def stop(self, *, hard: bool = False) -> None:
        """Stop the process (SIGTERM, or SIGKILL when ``hard``: a crash)."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with _suppress():
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def restart(self, *, id_style: str | None = None, hard: bool = False) -> Gateway:
        self.stop(hard=hard)
        return self.start(id_style=id_style)

    # ------------------------------------------------------------------ control channel
    def _call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        if not self.control:
            raise GatewayError("gateway not running")
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.control + path, data=data, method="GET" if data is None else "POST",
                                         headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"{path}: {exc.read().decode('utf-8', 'replace')}") from None

    def state(self) -> dict[str, Any]:
        return self._call("/state")

    def contact_id(self, key: str) -> str:
        return self.state()["contacts"][key]["id"]

    def room_id(self, key: str) -> str:
        return self.state()["rooms"][key]["id"]

    def say(self, sender: str, text: str, *, room: str | None = None, to: str | None = None,
            mentions: list[str] | None = None, mention_bot: bool = False, mention_list: bool = True,
            age_seconds: float = 0, deliveries: int = 1, type: int | None = None) -> str:  # noqa: A002
        """``sender`` (a contact key) says ``text`` in ``room`` (a room key) or privately to the bot;
        ``type`` is a puppet message type (image, recall, …; text when omitted)."""
        body: dict[str, Any] = {"from": sender, "text": text, "mentions": mentions or [],
                                "mention_bot": mention_bot, "mention_list": mention_list,
                                "age_seconds": age_seconds, "deliveries": deliveries}
        if room:
            body["room"] = room
        if to:
            body["to"] = to
        if type is not None:
            body["type"] = type
        return self._call("/say", body)["message_id"]

    def queue(self) -> list[dict[str, Any]]:
        """Events the gateway holds until a bot acknowledges them (oldest first)."""
        return self._call("/queue")["pending"]

    async def wait_queue(self, predicate: Callable[[list[dict[str, Any]]], bool], *,
                         timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the gateway's held events satisfy ``predicate``; returns them."""
        deadline = time.monotonic() + timeout
        pending: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            pending = await asyncio.to_thread(self.queue)
            if predicate(pending):
                return pending
            await asyncio.sleep(0.05)
        raise AssertionError(f"the gateway's queue did not get there within {timeout}s: {pending}")

    def sent(self, since: int = 0) -> list[dict[str, Any]]:
        return self._call(f"/sent?since={since}")["sent"]

    def room_add(self, room: str, members: list[str], by: str | None = None) -> None:
        self._call("/room/add", {"room": room, "members": members, "by": by})

    def room_remove(self, room: str, members: list[str], by: str | None = None) -> None:
        self._call("/room/remove", {"room": room, "members": members, "by": by})

    def room_topic(self, room: str, topic: str, by: str | None = None) -> None:
        self._call("/room/topic", {"room": room, "topic": topic, "by": by})

    def fail_sends(self, text: str, count: int = 1) -> None:
        self._call("/fail", {"text": text, "count": count})

    def hold_sends(self, on: bool = True) -> None:
        """While on, the bot's sends reach the gateway and wait there: neither sent nor failed."""
        self._call("/hold", {"on": on})

    def held_sends(self) -> int:
        return self._call("/held")["held"]

    async def wait_sent(self, predicate: Callable[[dict[str, Any]], bool], *, since: int = 0,
                        timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the bot sent a text matching ``predicate``; returns it."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen = await asyncio.to_thread(self.sent, since)
            for item in seen:
                if predicate(item):
                    return item
            await asyncio.sleep(0.05)
        raise AssertionError(f"no matching text from the bot within {timeout}s; sent: "
                             f"{[s['text'] for s in seen]}")


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


class Recorder:
    """A tiny EventSink that remembers every event and lets tests wait for them."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._changed = asyncio.Condition()

    async def _add(self, event: object) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def on_message(self, incoming: Incoming) -> None:
        await self._add(incoming)

    async def on_login(self, event: LoggedIn) -> None:
        await self._add(event)

    async def on_room_joined(self, event: RoomJoined) -> None:
        await self._add(event)

    async def on_room_left(self, event: RoomLeft) -> None:
        await self._add(event)

    async def on_room_topic(self, event: RoomTopicChanged) -> None:
        await self._add(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    async def wait_for(self, kind: type, count: int = 1, timeout: float = 3.0) -> list:
        async def ready() -> list:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.of(kind)) >= count)
                return self.of(kind)
        return await asyncio.wait_for(ready(), timeout)

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    """One gateway with the standard world for the whole test module."""
    require_gateway()
    workdir = Path(tempfile.mkdtemp(prefix="zhibu-gateway-"))
    gw = Gateway(workdir)
    try:
        gw.start()
        yield gw
    finally:
        gw.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Start gateways of your own; every one is stopped at the end of the test."""
    require_gateway()
    started: list[Gateway] = []

    def make(world: dict[str, Any] | None = None, **kwargs: Any) -> Gateway:
        gw = Gateway(tmp_path / f"gw{len(started)}", world, **kwargs)
        started.append(gw)
        return gw.start()

    try:
        yield make
    finally:
        for gw in started:
            gw.stop()


__all__ = ["Gateway", "Recorder", "GatewayError", "STANDARD_WORLD", "GATEWAY_TOKEN", "gateway", "gateway_factory",
           "free_port", "require_gateway"]
