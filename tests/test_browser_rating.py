"""The rating pages in real headless Chromium: the district computes, reviews (as community
staff would) and approves a quarter; the star chart and the compound's items render; the
secretary fills the property form. Screenshots go to tests/screenshots/."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
import pytest_asyncio

from bot.testing import BotHarness
from bot.web.testing import WebKit
from test_browser_dashboard import CHROMIUM, CHROMIUM_ARGS, PHONE, SHOTS, _login, _require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser():
    _require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def test_a_quarter_is_computed_reviewed_approved_and_drilled_down_in_the_browser(browser):
    async with BotHarness() as h, WebKit(h) as w:
        await w.add_user("han", "district_staff", person="区办小韩", display_name="区办小韩")
        await w.add_user("chen", "community_staff", communities=["兰新社区"], person="陈社区", display_name="陈社区")
        await h.say("阳光花园业主1群", "张三", "5号楼电梯又坏了，物业一直没人修")
        h.clock.set(datetime(2027, 1, 2, 10, 0).replace(tzinfo=h.clock.tz))   # the fourth quarter has ended
        context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = await context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: dialog.accept())
        base = w.base_url
        await _login(page, base, "han")
        await page.click("nav.nav >> text=评星")
        await page.wait_for_url(re.compile(r".*/dashboard/rating$"))
        await page.click("#do-compute")
        await page.wait_for_selector("#run-status")
        assert "待社区审核" in await page.inner_text("#run-status")
        assert await page.locator("#chart-stars svg").count() == 1
        assert await page.locator("#results tbody tr").count() == 3
        SHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SHOTS / "rating.png"), full_page=True)

        await page.click("#results >> text=阳光花园")
        await page.wait_for_selector("#aspect-deliberation")
        assert "议事日 0 次 → 本季度至少 1 次" in await page.inner_text("#advice")
        complaints = page.locator("#property-complaints")
        assert "1 件" in await complaints.inner_text()
        await complaints.locator("a").first.click()
        await page.wait_for_url(re.compile(r".*/dashboard/tickets/\d+$"))
        await page.go_back()
        await page.screenshot(path=str(SHOTS / "rating_compound.png"), full_page=True)

        await context.clear_cookies()
        await _login(page, base, "chen")
        await page.goto(f"{base}/dashboard/rating")
        await page.click("#do-review")
        await page.wait_for_selector("#review-progress:has-text('已审核 2/3')")
        await context.clear_cookies()
        await _login(page, base, "han")
        await page.goto(f"{base}/dashboard/rating")
        await page.click("#do-review")                     # the district reviews the compound left
        await page.wait_for_selector("#run-status:has-text('待区审定')")
        await page.click("#do-approve")
        await page.wait_for_selector("#run-status:has-text('已审定')")
        await page.click("#do-publish")
        await page.wait_for_selector("#run-status:has-text('已审定并发布')")
        assert not errors, errors
        await context.close()
