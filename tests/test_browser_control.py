"""Key persons in a real browser (Playwright, Chromium): the grid worker's check-in on a
phone (390×844) moving the board at once, and the officer confirming two contacts.

The pages are read in English (the language switch's cookie), so the tests hold whatever
the Chinese catalogue later says."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from epidispatch.control.models import ControlCase, HealthCheck
from epidispatch.control.services import Stop, key_person_resolve, positive_record
from epidispatch.fieldwork.services import checkpoint_record_create

from .control_fixtures import *  # noqa: F403 - the fixtures
from .control_fixtures import register
from .test_browser import CHROMIUM, SCREENSHOTS
from .test_registry_pages import id_number

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


def logged_in(browser, live_server, user, viewport):
    context = browser.new_context(viewport=viewport, is_mobile=viewport == PHONE, has_touch=True)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return context, page


def test_a_grid_worker_records_a_check_in_and_the_board_counts_change_at_once(
    browser, live_server, tree, worker, officer
):
    today = timezone.localdate()
    case = register(sequence=1, grid=tree.grid, reference=today - timedelta(days=2),
                    registered=today, name="李四")  # fmt: skip
    board_context, board = logged_in(browser, live_server, officer, {"width": 1280, "height": 900})
    board.goto(f"{live_server.url}/control/units/{tree.town.code}/")
    expect(board.locator('[data-figure="checked_in"]')).to_have_text("0")
    expect(board.locator('[data-figure="centralized_isolation"]')).to_have_text("1")

    context, phone = logged_in(browser, live_server, worker, PHONE)
    phone.get_by_role("navigation", name="Modules").get_by_role("link", name="Key persons").click()
    expect(phone.get_by_role("heading", name=tree.grid.name)).to_be_visible()
    expect(phone.locator('[data-figure="checked_in"]')).to_have_text("0")
    card = phone.locator(f'[data-case="{case.pk}"]')
    expect(card).to_contain_text("李四")
    card.get_by_label("Temperature (°C)").fill("36.8")
    card.get_by_label("Symptoms").fill("无")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=SCREENSHOTS / "control-check-in-phone.png", full_page=True)
    card.get_by_role("button", name="Save check-in").click()
    expect(phone.locator(".message.success")).to_contain_text("Check-in of 李四 saved")
    expect(phone.locator('[data-figure="checked_in"]')).to_have_text("1")
    context.close()

    board.reload()
    expect(board.locator('[data-figure="checked_in"]')).to_have_text("1")
    board_context.close()
    assert HealthCheck.objects.get().recorded_by == worker


def test_the_officer_confirms_two_contacts_from_a_positive_cases_candidates(
    browser, live_server, tree, officer, resident_a
):
    seen = timezone.now() - timedelta(days=1)
    for sequence in (1, 2, 3):
        checkpoint_record_create(
            unit=tree.county, place="万达广场", seen_at=seen + timedelta(minutes=10 * sequence),
            id_number=id_number(sequence), name=f"顾客{sequence}", by=officer,
        )  # fmt: skip
    person = key_person_resolve(name="病例一", id_number=id_number(100), grid=tree.grid)
    positive = positive_record(
        person=person, found_on=timezone.localdate(),
        trajectory=[Stop("万达广场", seen, seen + timedelta(hours=1))], by=officer,
    )  # fmt: skip
    context, page = logged_in(browser, live_server, officer, PHONE)
    page.goto(f"{live_server.url}/control/positives/{positive.pk}/")
    expect(page.locator('[data-figure="candidates"]')).to_have_text("3")
    page.get_by_label("Confirm 张三 as").select_option("close_contact")
    page.get_by_label("Confirm 顾客2 as").select_option("close_contact")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="Confirm contacts").click()
    expect(page.locator(".message.success")).to_contain_text("2 contacts")
    expect(page.locator('[data-state="confirmed"]')).to_have_count(2)
    page.locator('[data-step="trace"]').get_by_role("button", name="Done now").click()
    expect(page.locator('[data-step="trace"] .badge')).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "control-contacts-phone.png", full_page=True)
    context.close()
    assert sorted(ControlCase.objects.values_list("person__name", flat=True)) == ["张三", "顾客2"]


def test_the_officer_draws_raises_and_lifts_an_area_on_a_phone_and_the_dashboard_follows(
    browser, live_server, tree, officer, dispatcher
):
    """The area edit flow at 390×844: draw an address area from the board, record a new
    case, lift it; the dispatch dashboard shows it while in force, and not after."""
    today = timezone.localdate().isoformat()
    context, phone = logged_in(browser, live_server, officer, PHONE)
    phone.goto(f"{live_server.url}/control/units/{tree.village.code}/")
    phone.get_by_role("link", name="All control areas").click()
    expect(phone.locator('[data-figure="high"]')).to_have_text("0")
    phone.get_by_role("link", name="Draw a control area").click()
    phone.get_by_label("Name").fill("北关路18号楼")
    phone.get_by_label("Level").select_option("high")
    phone.get_by_label("Started on").fill(today)
    phone.get_by_label("Addresses").fill("北关路18号\n北关路18号\n北关路20号")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.get_by_role("button", name="Save").click()
    expect(phone.locator(".message.success")).to_contain_text("北关路18号楼 is drawn")
    expect(phone.locator('[data-figure="high"]')).to_have_text("1")
    card = phone.locator("li.area", has_text="北关路18号楼")
    expect(card).to_contain_text("北关路18号、北关路20号")

    desk_context, desk = logged_in(browser, live_server, dispatcher, {"width": 1280, "height": 900})
    desk.goto(f"{live_server.url}/dispatch/units/{tree.county.code}/")
    panel = desk.locator('[data-panel="control-areas"]')
    expect(panel.locator('[data-figure="areas"]')).to_have_text("1")
    expect(panel).to_contain_text("北关路18号楼")

    card.get_by_role("link", name="北关路18号楼").click()
    phone.get_by_label("Name").fill("北关路18号楼（扩大）")
    phone.get_by_role("button", name="Save").click()
    expect(phone.locator(".message.success")).to_contain_text("北关路18号楼（扩大） is saved")
    phone.locator("li.area", has_text="北关路18号楼（扩大）").get_by_role("link").click()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=SCREENSHOTS / "control-area-edit-phone.png", full_page=True)
    phone.get_by_role("button", name="Lift the area").click()
    expect(phone.locator(".message.success")).to_contain_text("is lifted")
    expect(phone.locator('[data-figure="high"]')).to_have_text("0")
    expect(phone.locator('li.area[data-level="lifted"]')).to_have_count(1)
    context.close()

    desk.reload()
    expect(panel.locator('[data-figure="areas"]')).to_have_text("0")
    expect(panel).not_to_contain_text("北关路18号楼")
    desk_context.close()
