"""The dashboard in real headless Chromium (Debian's ``chromium`` driven by Playwright).

One browser per module; each test gets a fresh bot (``bot.testing``) and web server. Skipped
when /usr/bin/chromium is missing, except in CI (``CI`` set), where that is a failure.
Screenshots of the main pages go to tests/screenshots/ (ignored by git).
"""
from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.testing import BotHarness
from bot.web.testing import PASSWORD, WebKit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parent / "screenshots"
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


def _require_chromium() -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "the playwright package is not installed (pip install playwright)"
    else:
        if os.path.exists(CHROMIUM):
            return
        message = f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser():
    _require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="module")
async def site(browser):
    """A bot on the sample district, its web server, and a logged-out browser page."""
    async with BotHarness() as h, WebKit(h) as w:
        await w.add_user("li", "secretary", compounds=["阳光花园"], person="李书记", display_name="李书记")
        context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = await context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        yield h, w, page, errors
        await context.close()


async def _login(page, base: str, user: str = "li") -> None:
    await page.goto(f"{base}/dashboard/")
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/dashboard/$"))


async def _shot(page, name: str, full: bool = True) -> None:
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


async def test_secretary_assigns_and_resolves_a_ticket_reported_in_a_group(site):
    h, w, page, errors = site
    await h.say("阳光花园业主1群", "张三", "4号楼门口下水道堵了，积水很深走不了路")
    h.new_sent()
    await _login(page, w.base_url)
    await _shot(page, "home")
    await page.click("nav >> text=工单")
    await page.wait_for_selector("#ticket-board")
    await _shot(page, "tickets")
    await page.click("#ticket-board >> text=下水道")
    await page.wait_for_selector("#ticket-text")
    assert "积水很深" in await page.inner_text("#ticket-text")
    await page.select_option("#act-assign select[name=kind]", "property")
    await page.click("#do-assign")
    await page.wait_for_selector(".flash >> text=已派单给物业")
    assert "物业" in await page.inner_text("#ticket-assignee")
    await h.drain()
    assert any("派单" in t for t in h.texts_to("周经理"))
    await page.fill("#act-resolve textarea[name=note]", "已联系物业疏通下水道")
    await page.click("#do-resolve")
    await page.wait_for_selector(".flash >> text=已办结")
    assert "已办结待确认" in await page.inner_text("#ticket-state")
    await _shot(page, "ticket")
    await h.drain()
    asks = [s for s in h.new_sent() if s.group == "阳光花园业主1群" and "已办结" in s.text]
    assert asks and "张三" in asks[0].mentions and "满意" in asks[0].text
    await h.say("阳光花园业主1群", "张三", "满意")
    await page.reload()
    assert "已完结" in await page.inner_text("#ticket-state")
    assert not errors, errors


async def test_a_residents_script_is_shown_as_text(site):
    h, w, page, errors = site
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    evil = "3号楼水管爆了<script>alert('xss')</script><img src=x onerror=alert(2)>"
    await h.say("阳光花园业主1群", "李四", evil)
    await _login(page, w.base_url)
    await page.goto(f"{w.base_url}/dashboard/tickets")
    await page.click("#ticket-board >> text=水管爆了")
    await page.wait_for_selector("#ticket-text")
    assert "<script>alert('xss')</script>" in await page.inner_text("#ticket-text")
    assert await page.locator("main script").count() == 0 and await page.locator("main img").count() == 0
    assert dialogs == []
    await page.goto(f"{w.base_url}/dashboard/stats")
    await _shot(page, "stats")
    await h.dm("王奶奶", "微心愿 帮忙修一下轮椅的刹车")
    await page.goto(f"{w.base_url}/dashboard/wishes")
    await _shot(page, "wishes")
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto(f"{w.base_url}/dashboard/tickets")
    await _shot(page, "tickets_desktop", full=False)
    assert not [e for e in errors if "404" not in e], errors


async def test_secretary_composes_and_schedules_a_notice(site):
    h, w, page, errors = site
    base = w.base_url
    await _login(page, base)
    await page.click("nav >> text=通知")
    await page.click("text=写通知")
    await page.select_option("select[name=scope]", "compound")
    await page.select_option("select[name=compound_id]", "1")
    await page.wait_for_function("document.getElementById('target-count').textContent.includes('2 个群')")
    await page.fill("textarea[name=text]", "本周六上午9点小区议事日，地点党群服务站。")
    await page.fill("input[name=send_at]", "2026-12-01T10:00")
    await _shot(page, "notice_compose")
    await page.click("button:has-text('预览')")
    await page.wait_for_selector("#confirm-notice")
    assert "待确认" in await page.inner_text("#notice-state")
    await page.click("#confirm-notice")
    await page.wait_for_selector("#notice-state:has-text('已定时')")
    await _shot(page, "notice_scheduled")
    await h.advance(hours=1, minutes=10, step=timedelta(minutes=10))
    assert any("议事日" in t for t in h.texts_to("阳光花园业主1群"))
    await page.reload()
    assert "已发送" in await page.inner_text("#notice-state")
    assert await page.locator("#deliveries .badge.green").count() == 2
    await page.goto(f"{base}/dashboard/notices")
    await _shot(page, "notices")
    assert not errors, errors


async def test_roster_import_shows_progress_and_row_errors(site, tmp_path):
    h, w, page, errors = site
    await _login(page, w.base_url)
    await page.goto(f"{w.base_url}/dashboard/people/import")
    bad = tmp_path / "名册.csv"
    bad.write_text("街道,社区,小区,姓名,电话,角色\n兰山街道,兰新社区,阳光花园,王五,12345,党员\n", encoding="utf-8")
    await page.set_input_files("input[type=file]", str(bad))
    await page.click("button:has-text('上传并导入')")
    await page.wait_for_selector("#import-problems")
    assert "电话号码" in await page.inner_text("#import-problems")
    await _shot(page, "import_errors")
    good = tmp_path / "good.csv"
    good.write_text("街道,社区,小区,姓名,电话,角色\n兰山街道,兰新社区,阳光花园,王五,13900000001,党员\n", encoding="utf-8")
    await page.goto(f"{w.base_url}/dashboard/people/import")
    await page.set_input_files("input[type=file]", str(good))
    await page.click("button:has-text('上传并导入')")
    await page.wait_for_selector("text=导入完成")
    await page.goto(f"{w.base_url}/dashboard/people")
    assert "王五" in await page.content()
    await _shot(page, "people")
    await page.goto(f"{w.base_url}/dashboard/groups")
    await _shot(page, "groups")
    assert not errors, errors
