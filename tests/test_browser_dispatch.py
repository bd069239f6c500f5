"""User journeys through the dispatch pages in a real browser (Playwright, Chromium): the
dispatcher reads the rankings and takes the bulletin away as .docx; the leader drills the
dashboard down from the county to a grid."""

import os
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from epidispatch.accounts.models import Role
from epidispatch.dispatch.services import snapshot_backfill
from epidispatch.figures.rollups import rollups_recount

from .test_browser import CHROMIUM, SCREENSHOTS
from .test_dispatch_pages import adults

pytestmark = pytest.mark.browser

PASSWORD = "secret-pass-1"  # conftest's make_user


@pytest.fixture(scope="module")
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def campaign(tree):
    """Two towns behind each other, a few days of cutoffs."""
    rollups_recount()
    today = timezone.localdate()
    adults(tree.grid, 6, 5, today - timedelta(days=4))
    adults(tree.sibling_grid, 3, 1, today - timedelta(days=4))
    adults(tree.other_grid, 5, 2, today - timedelta(days=4))
    for days_ago in (3, 2, 1):
        snapshot_backfill(day=today - timedelta(days=days_ago))
    return tree


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_dispatcher_reads_the_ranking_and_downloads_the_bulletin(
    browser, live_server, campaign, make_user, tmp_path
):
    make_user(Role.DISPATCHER, campaign.county, username="county-dispatcher")
    page = browser.new_page(accept_downloads=True)
    log_in(page, live_server.url, "county-dispatcher")
    page.get_by_role("navigation", name="模块").get_by_role("link", name="调度").click()
    page.locator('nav.tabs a[href="/dispatch/rankings/"]').click()

    towns = page.locator('[data-group="towns"] table.ranking[data-measure="coverage"]')
    expect(towns.locator("tbody tr")).to_have_count(2)
    expect(towns.locator("tbody tr").first).to_have_attribute("data-code", campaign.town.code)
    expect(towns.locator(f'tr[data-code="{campaign.other_town.code}"]')).to_have_class("bottom")
    expect(page.locator("#chart-ranking-towns-coverage canvas")).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "dispatcher-rankings.png", full_page=True)

    with page.expect_download() as download_info:
        page.locator('.bulletin a[href$=".docx"]').click()
    saved = tmp_path / "bulletin.docx"
    download_info.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"
    with zipfile.ZipFile(saved) as docx:
        assert "word/document.xml" in docx.namelist()


def test_leader_drills_the_dashboard_down_to_a_grid(browser, live_server, campaign, make_user):
    make_user(Role.LEADER, campaign.county, username="county-leader")
    page = browser.new_page()
    log_in(page, live_server.url, "county-leader")
    page.get_by_role("navigation", name="模块").get_by_role("link", name="调度").click()

    expect(page).to_have_url(f"{live_server.url}/dispatch/units/{campaign.county.code}/")
    expect(page.locator('[data-figure="coverage"] .value')).to_have_text("57.1%")  # 8 of 14
    for chart in ("chart-bands", "chart-trend", "chart-children", "chart-to-clear"):
        expect(page.locator(f"#{chart} canvas")).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "leader-dashboard.png", full_page=True)

    for unit in (campaign.town, campaign.village, campaign.grid):
        page.locator(f'tr[data-code="{unit.code}"] a').click()
        expect(page).to_have_url(f"{live_server.url}/dispatch/units/{unit.code}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(unit.name)
    expect(page.locator('[data-figure="coverage"] .value')).to_have_text("83.3%")  # 5 of 6
    expect(page.locator("#chart-bands canvas")).to_have_count(1)
    breadcrumb = page.get_by_role("navigation", name="导航路径")
    expect(breadcrumb.locator("a")).to_have_count(3)
    breadcrumb.get_by_role("link", name=campaign.county.name).click()
    expect(page).to_have_url(f"{live_server.url}/dispatch/units/{campaign.county.code}/")
