"""zhibu demo's first start in real headless Chromium: while the sample history is generated the
chat page already lists the sample groups and says how far the history is; when it is complete
the line says so. Skipped without Chromium, except in CI."""
from __future__ import annotations

import asyncio
import threading

import pytest
from aiohttp.test_utils import TestServer

from bot.app import BotApp
from bot.demo_start import HistoryJob, begin_demo, serve_when_complete
from bot.runner import build_transports, build_web
from test_browser_dashboard import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from test_demo_history_start import DAYS, UNTIL, _settings

pytestmark = [pytest.mark.browser, pytest.mark.asyncio]


async def test_the_chat_page_shows_the_history_progress_while_it_is_generated(tmp_path, monkeypatch):
    _require_chromium()
    from playwright.async_api import async_playwright

    halfway, seen = threading.Event(), threading.Event()
    original = HistoryJob.update

    def pause_halfway(self, days=1):  # noqa: ANN001, ANN202 (the generator waits until the page has looked)
        original(self, days)
        if self.done_days >= DAYS // 2 and not halfway.is_set():
            halfway.set()
            seen.wait(timeout=60)

    monkeypatch.setattr(HistoryJob, "update", pause_halfway)
    settings = _settings(tmp_path)
    job = await begin_demo(settings, until=UNTIL, days=DAYS)
    await job.wait_ready()
    app = BotApp(settings, transports=build_transports(settings, demo=True))
    await app.open(recover=False)
    for transport in app.transports.values():
        await transport.start(app)
    web_app = build_web(app)
    web_app.add_routes(job.routes())
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    job.serving()
    background = asyncio.create_task(serve_when_complete(app, job))
    try:
        await asyncio.to_thread(halfway.wait, 60)
        async with async_playwright() as playwright:
            chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await chromium.new_page(locale="zh-CN")
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(str(server.make_url("/")))
            line = page.locator("#demo-progress")
            await line.wait_for(state="visible")
            running = await line.inner_text()
            await page.locator("#groups .chat").first.wait_for()
            groups = await page.locator("#groups").inner_text()
            seen.set()
            await page.wait_for_function(
                "document.getElementById('demo-progress').dataset.finished === '1'", timeout=120_000)
            finished = await line.inner_text()
            await chromium.close()
        assert running.startswith("示例历史生成中：已完成 ") and "%…" in running, running
        assert "阳光花园业主1群" in groups
        assert "已生成完毕" in finished
        assert not errors, errors
    finally:
        seen.set()
        background.cancel()
        await server.close()
        await app.stop()
