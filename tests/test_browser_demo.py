"""The demo's dashboard in real headless Chromium: a fresh demo (six months of sample history)
draws every chart on the statistics page. Skipped without Chromium, except in CI.
The screenshot goes to tests/screenshots/demo_stats.png (docs/demo-dashboard.png is a copy)."""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import BotApp
from bot.clock import FakeClock
from bot.transports.fake import FakeTransport
from bot.web.testing import PASSWORD, WebKit
from test_browser_dashboard import CHROMIUM, CHROMIUM_ARGS, SHOTS, _require_chromium
from test_demo_history import UNTIL, demo_database

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
CHARTS = ("chart-categories", "chart-resolve", "chart-satisfaction", "chart-overdue", "chart-hotline", "ranking")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser():
    _require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def demo_app():
    directory = Path(tempfile.mkdtemp(prefix="zhibu-demo-browser-"))
    settings, _ = await demo_database(directory)
    app = BotApp(settings, transports=[FakeTransport(account="sim")], clock=FakeClock(UNTIL))
    await app.open()
    yield app
    await app.stop()
    shutil.rmtree(directory, ignore_errors=True)


class _Shim:
    def __init__(self, app: BotApp) -> None:
        self.bot, self.clock = app, app.clock


async def test_a_fresh_demo_draws_every_chart_on_the_statistics_page(browser, demo_app):
    async with WebKit(_Shim(demo_app)) as w:
        await w.add_user("demo", "district_staff", admin=True, display_name="演示管理员")
        context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                            timezone_id="Asia/Shanghai")
        page = await context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{w.base_url}/dashboard/")
        await page.fill("input[name=username]", "demo")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(re.compile(r".*/dashboard/$"))
        assert await page.get_attribute("#demo-chat-link", "href") == "/"
        await page.goto(f"{w.base_url}/dashboard/stats")
        drawn = {chart: await page.locator(f"#{chart} svg.chart").count() for chart in CHARTS}
        empty = await page.locator(".chart-empty").count()
        SHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SHOTS / "demo_stats.png"), full_page=False)
        await context.close()
    assert all(drawn.values()) and empty == 0, drawn
    assert not errors, errors
