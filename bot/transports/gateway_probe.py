"""A read-only look at a Wechaty gateway for `zhibu doctor`: reachable, token accepted, logged in, rooms.

Unary gRPC calls only: opening the event stream would take the held messages away from the
running bot, so the doctor never does.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from wechaty_grpc.wechaty import PuppetStub

ROOM_TOPICS_MAX = 200  # topics are fetched one call per room: enough to match imported groups


@dataclass
class GatewayProbe:
    endpoint: str
    reachable: bool = False
    token_ok: bool | None = None
    logged_in: bool | None = None
    rooms: dict[str, str] = field(default_factory=dict)  # room id → topic ("" when not fetched)
    error: str | None = None


def _split(endpoint: str) -> tuple[str, int]:
    for prefix in ("grpc://", "http://", "https://"):
        endpoint = endpoint.removeprefix(prefix)
    host, _, port = endpoint.rstrip("/").rpartition(":")
    return host or "127.0.0.1", int(port)


async def probe_gateway(endpoint: str, token: str, *, timeout: float = 5.0,
                        topics_for: set[str] | None = None) -> GatewayProbe:
    """``topics_for``: fetch topics only of rooms not in this set (ids the database already knows)."""
    result = GatewayProbe(endpoint)
    try:
        host, port = _split(endpoint)
    except ValueError:
        result.error = "endpoint is not host:port"
        return result
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        result.error = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        return result
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()
    result.reachable = True
    channel = Channel(host, port)
    stub = PuppetStub(channel, metadata={"authorization": f"Wechaty {token}"}, timeout=timeout)
    try:
        await stub.ding(data="zhibu-doctor")
        result.token_ok = True
        try:
            ids = list((await stub.room_list()).ids)
        except GRPCError as exc:
            if "login" in (exc.message or "").lower():
                result.logged_in = False
                return result
            raise
        result.logged_in = True
        known = topics_for or set()
        fetched = 0
        for room_id in ids:
            topic = ""
            if room_id not in known and fetched < ROOM_TOPICS_MAX:
                fetched += 1
                with contextlib.suppress(GRPCError):
                    topic = (await stub.room_payload(id=room_id)).topic
            result.rooms[room_id] = topic
    except GRPCError as exc:
        if exc.status in (Status.UNAUTHENTICATED, Status.PERMISSION_DENIED):
            result.token_ok = False
        else:
            result.error = f"gRPC {exc.status.name}: {(exc.message or '').splitlines()[0] if exc.message else ''}"
    except (OSError, asyncio.TimeoutError, StreamTerminatedError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        channel.close()
    return result
