"""A screening round on phones (390×844), in a real browser (Playwright, Chromium): a
collector fills a 10-person tube by scanning (typed barcodes stand in for the camera), the
lab's result marks it positive, the ten appear on their grid worker's retest list."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from epidispatch.screening.imports import results_import
from epidispatch.screening.models import Tube

from .dose_files import write_table
from .screening_fixtures import *  # noqa: F403 - the fixtures
from .screening_fixtures import RESULT_HEADERS, person
from .test_browser import CHROMIUM, SCREENSHOTS

pytestmark = pytest.mark.browser

PASSWORD = "secret-pass-1"  # conftest's make_user
PHONE = {"width": 390, "height": 844}


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


def _phone(browser, live_server, user):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return context, page


def test_a_collected_tube_found_positive_puts_its_ten_on_the_grid_workers_retest_list(
    browser, live_server, tree, collector, worker, county_round, tmp_path
):
    context, page = _phone(browser, live_server, collector)
    page.get_by_role("navigation", name="Modules").get_by_role("link", name="Screening").click()
    page.get_by_role("link", name=county_round.name).click()
    page.get_by_role("link", name="Collect samples").click()
    for sequence in range(1, 11):
        if sequence == 1:
            page.get_by_label("Tube barcode").fill("P0001")
            page.get_by_label("Tube barcode").press("Enter")  # the scanner's Enter
        expect(page.get_by_label("ID number")).to_be_focused()
        page.get_by_label("ID number").fill(person(sequence))
        page.get_by_role("button", name="Add to tube").click()
        expect(page.locator(".message.success")).to_contain_text(f"({sequence} of 10)")
    expect(page.locator(".message.info")).to_contain_text("P0001 is full and closed")
    expect(page.get_by_label("Tube barcode")).to_have_value("")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "screening-collect-phone.png", full_page=True)
    context.close()
    tube = Tube.objects.get(barcode="P0001")
    assert (tube.members, tube.closed_at is not None) == (10, True)

    lab_file = write_table(
        tmp_path / "lab",
        RESULT_HEADERS,
        [
            [
                "P0001",
                "阳性",
                f"{timezone.localtime() + timedelta(minutes=5):%Y-%m-%d %H:%M}",
                "定西市疾控中心",
            ]
        ],
        "utf-8",
    )
    assert results_import(county_round, lab_file).stored == 1

    context, page = _phone(browser, live_server, worker)
    page.get_by_role("navigation", name="Modules").get_by_role("link", name="Screening").click()
    page.get_by_role("link", name=county_round.name).click()
    expect(page.locator('[data-figure="retest_pending"] .value')).to_have_text("10")
    page.get_by_role("link", name="Retest list").click()
    expect(page.locator('[data-list="retests"] [data-resident]')).to_have_count(10)
    expect(page.get_by_text("居民01", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=SCREENSHOTS / "screening-retests-phone.png", full_page=True)
    context.close()


def test_an_industry_grid_worker_adds_a_member_on_the_phone_and_sees_them_due_today(
    browser, live_server, tree, officer, make_user, population
):
    """重点人群定期检测: the industry grid's worker keeps the group on a phone; a new member
    with no negative sample is due on the day they join, the group's card counts them."""
    from epidispatch.accounts.models import Role
    from epidispatch.screening.services import group_create

    group = group_create(
        unit=tree.industry_grid, name="客运站工作人员", kind="transport", every_days=2, by=officer
    )
    keeper = make_user(Role.GRID_WORKER, tree.industry_grid, username="worker-transport")
    context, page = _phone(browser, live_server, keeper)
    page.goto(f"{live_server.url}/screening/groups/")
    page.get_by_role("link", name="客运站工作人员").click()
    page.get_by_label("ID number").fill(person(3))
    page.get_by_label("Employer").fill("通渭汽车站")
    page.get_by_role("button", name="Add to the group").click()
    expect(page.locator(".message.success")).to_contain_text("居民03")
    expect(page.locator('[data-list="members"] [data-state="due"]')).to_have_count(1)
    expect(page.locator('[data-figure="due"]').first).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "screening-group-phone.png", full_page=True)
    page.goto(f"{live_server.url}/screening/")
    expect(page.locator(f'[data-group="{group.pk}"] [data-figure="due"]')).to_contain_text("1")
    context.close()
