"""User journeys in a real browser: Playwright driving Debian's Chromium."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from epidispatch.demo import generator

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("EPIDISPATCH_DATA_DIR", "var")) / "screenshots"


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; the live server's ORM
    # calls happen in its own thread, the test's in this one.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def demo_county(transactional_db):
    generator.load_units()
    generator.load_users()
    generator.load_residents(200)


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(generator.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_dispatcher_logs_in_and_drills_down_the_org_tree(browser, live_server, demo_county):
    page = browser.new_page(locale="en-US")
    log_in(page, live_server.url, "dispatcher")
    expect(page.get_by_role("heading", name="欢迎，县防控办调度员")).to_be_visible()

    page.get_by_role("navigation", name="模块").get_by_role("link", name="组织机构").click()
    expect(page.get_by_role("heading", name="通渭县")).to_be_visible()
    expect(page.locator('[data-figure="residents"]')).to_have_text("200")

    page.get_by_role("link", name="平襄镇", exact=True).click()
    expect(page.get_by_role("heading", name="平襄镇")).to_be_visible()
    expect(page.locator('[data-figure="grids"]')).to_have_text("57")

    page.get_by_role("link", name="北关社区").click()
    page.get_by_role("link", name="北关社区第1网格").click()
    expect(page.get_by_role("heading", name="北关社区第1网格")).to_be_visible()
    breadcrumb = page.get_by_role("navigation", name="导航路径")
    expect(breadcrumb.get_by_role("link", name="通渭县")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "dispatcher-grid.png", full_page=True)


def test_grid_worker_on_a_phone_sees_only_their_grid_without_sideways_scrolling(
    browser, live_server, demo_county
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server.url, "grid_worker")
    page.get_by_role("link", name="北关社区第1网格").click()
    expect(page.get_by_role("heading", name="北关社区第1网格")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    response = page.goto(f"{live_server.url}/units/621121/")
    assert response.status == 404
    context.close()


def test_town_official_table_becomes_cards_on_a_phone(browser, live_server, demo_county):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server.url, "town_pingxiang")
    page.goto(f"{live_server.url}/units/621121100000/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    header_display = page.evaluate(
        "getComputedStyle(document.querySelector('table.units thead')).display"
    )
    assert header_display == "none"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "town-phone.png", full_page=True)
    context.close()
