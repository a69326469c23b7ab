"""``zhibu run`` / ``zhibu demo``: the bot, its transports and the web server in one process."""
from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from aiohttp import web

from bot import heap
from bot.app import BotApp
from bot.config import LOOPBACK_HOSTS, Settings
from bot.transports.base import StartupError, Transport
from bot.transports.simulator import SimulatorTransport
from bot.web import accounts, security
from bot.web.app import mount_dashboard

log = logging.getLogger(__name__)


def build_transports(settings: Settings, demo: bool, web_chat: bool = False) -> list[Transport]:
    """The demo: the web chat alone, open to whoever reaches the loopback page. Production: the
    configured WeChat accounts, plus the web chat behind a dashboard login when asked for."""
    if demo:
        return [SimulatorTransport(bot_name=settings.wechaty.bot_name)]
    transports: list[Transport] = []
    if settings.wechaty.all_accounts():
        from bot.transports.wechaty import build_wechaty_transports

        transports += build_wechaty_transports(settings)
    if web_chat or not transports:
        transports.append(SimulatorTransport(bot_name=settings.wechaty.bot_name, require_login=True))
    if settings.wecom.configured():  # WeCom for staff, beside WeChat (docs/wecom.md)
        from bot.transports.wecom.setup import build_wecom_transports

        transports += build_wecom_transports(settings)
    return transports


def build_web(app: BotApp) -> web.Application:
    """The simulator page (when present), the dashboard and the API on one aiohttp app."""
    web_app = web.Application(client_max_size=20 * 1024 * 1024)
    for transport in app.transports.values():
        if isinstance(transport, SimulatorTransport):
            web_app.add_routes(transport.routes())
    if app.settings.wecom.configured():  # WeCom's callback; robot and customer groups bound at start
        from bot.transports.wecom.setup import mount_wecom

        mount_wecom(web_app, app)
    mount_dashboard(web_app, app)
    return web_app


def demo_exposure_warning(host: str) -> str | None:
    """The demo's web chat lets anyone speak as anyone: say so loudly when it is reachable."""
    if host in LOOPBACK_HOSTS:
        return None
    return (f"警告：演示模式监听在 {host}，同一网络中的任何人都能打开网页聊天、冒充任何人发言并看到名册。"
            f"演示请只用 127.0.0.1（web.host）。\n"
            f"WARNING: the demo listens on {host}: anyone on the network can use the web chat as anyone "
            f"and read the roster. Keep web.host = 127.0.0.1 for demos.")


def warn_if_demo_exposed(settings: Settings) -> None:
    if warning := demo_exposure_warning(settings.web.host):
        bar = "!" * 72
        print(f"{bar}\n{warning}\n{bar}", flush=True)


async def serve(settings: Settings, demo: bool = False, web_chat: bool = False, history: Any = None) -> int:
    """``history``: the demo's sample history still being generated (``bot.demo_start``): serve the
    page at once, start the outbox sender and schedules when it is complete."""
    app = BotApp(settings, transports=build_transports(settings, demo, web_chat))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover (Windows)
            pass
    runner: web.AppRunner | None = None
    background: asyncio.Task | None = None
    try:
        if history is None:
            await app.open()
            heap.ready_to_serve(app.services["nlp"])
            await app.start()
        else:
            await history.wait_ready()  # the sample district is in the database
            await app.open(recover=False)
            sink = history.sink(app)  # the chat page works meanwhile; messages are handled once it is complete
            for transport in app.transports.values():
                await transport.start(sink)
        web_app = build_web(app)
        if history is not None:
            from bot.demo_start import serve_when_complete

            web_app.add_routes(history.routes())
            async def serve_history() -> None:
                await serve_when_complete(app, history)
                heap.ready_to_serve(app.services["nlp"])  # the generator's leftovers are garbage by now

            background = asyncio.create_task(serve_history(), name="demo-history")
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.web.host, settings.web.port)
        try:
            await site.start()
        finally:
            if history is not None:
                history.serving()  # its generation goes on now
        url = f"http://{settings.web.host}:{settings.web.port}"
        accounts = ", ".join(app.transports)
        print(f"支部助手已启动（账号：{accounts}）。网页：{url}/  管理后台：{url}/dashboard/  按 Ctrl+C 停止。", flush=True)
        if history is None and (waiting := [a for a in app.transports if a not in app.leases.held]):
            print(f"账号 {', '.join(waiting)} 正由其他进程服务：本进程待命，对方失联（租约过期）后自动接管。", flush=True)
        if demo:
            warn_if_demo_exposed(settings)  # again beside the address people copy
            password = await demo_login(app)
            print(f"演示管理后台登录：用户名 demo，密码 {password}（仅本机演示；每次启动演示都会重设）", flush=True)
        await stop.wait()
        return 0
    except StartupError as exc:
        print(f"启动失败：{exc}", flush=True)
        return 1
    except OSError as exc:
        print(f"启动失败：无法监听 {settings.web.host}:{settings.web.port}（{exc.strerror}）", flush=True)
        return 1
    finally:
        if background is not None:
            background.cancel()
        if runner is not None:
            await runner.cleanup()
        await app.stop()


async def demo_login(app: BotApp) -> str:
    """The demo's dashboard login: created on first start, its password reset at each demo start
    (a local demo has no other way to tell the newcomer a password they may have missed)."""
    async with app.sessions() as session:
        password = await accounts.ensure_demo_account(session, app.org, app.clock.now())
        if password is None:
            user = await accounts.get_user(session, "demo")
            if user is None:
                await session.rollback()
                return "（已有其他账号，请用 zhibu user add 创建）"
            password = security.new_token(9)
            await accounts.set_password(session, user, password, app.clock.now(), by="demo")
        await session.commit()
    return password
