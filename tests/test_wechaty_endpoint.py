"""An endpoint that accepts TCP but is not a Wechaty gateway is named as such, at once."""
from __future__ import annotations

import asyncio

import pytest

from bot.transports.wechaty import WechatyStartError, WechatyTransport
from conftest_gateway import Recorder


async def _serve(reply: bytes):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        if reply:
            writer.write(reply)
            await writer.drain()
            writer.close()
        else:
            await reader.read()  # hold the connection, say nothing

    return await asyncio.start_server(handle, "127.0.0.1", 0)


@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",  # a web server
    b"",                                                                                # a silent service
], ids=["http", "silent"])
async def test_a_tcp_endpoint_that_is_not_a_gateway_is_named_not_a_gateway(reply) -> None:
    server = await _serve(reply)
    port = server.sockets[0].getsockname()[1]
    transport = WechatyTransport("default", f"127.0.0.1:{port}", "t0ken", qr_printer=None,
                                 login_timeout=30, handshake_timeout=1.0, connect_retries=1)
    try:
        with pytest.raises(WechatyStartError) as info:
            await asyncio.wait_for(transport.start(Recorder()), timeout=15)
    finally:
        server.close()
    assert "不是微信网关" in str(info.value) and "not a Wechaty gateway" in str(info.value)
    assert "没有登录微信" not in str(info.value)


async def test_zhibu_run_against_a_non_gateway_exits_non_zero_saying_so(tmp_path) -> None:
    from test_wechaty_bot import operator_env, run_zhibu

    server = await _serve(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    port = server.sockets[0].getsockname()[1]
    env = operator_env(tmp_path, None, WECHATY_PUPPET_SERVICE_ENDPOINT=f"127.0.0.1:{port}",
                       WECHATY_PUPPET_SERVICE_TOKEN="t0ken")
    try:
        code, output = await asyncio.to_thread(run_zhibu, tmp_path, env)
    finally:
        server.close()
    assert code != 0, output
    assert "不是微信网关" in output and "没有登录微信" not in output
