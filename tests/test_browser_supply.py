"""Supply journeys in a real browser (Playwright, Chromium): site staff scan a pack on a
phone and record a dose; the supply officer transfers stock between sites."""

import os
from datetime import date

import pytest
from playwright.sync_api import expect, sync_playwright

from epidispatch.registry.services import resident_create
from epidispatch.supply.models import StockBalance
from epidispatch.vaccination.models import Dose

from .dose_files import id_number
from .supply_fixtures import *  # noqa: F403 - the fixtures
from .supply_fixtures import PACK_CODES
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


def logged_in(browser, live_server, user, viewport):
    context = browser.new_context(viewport=viewport, is_mobile=viewport == PHONE)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return context, page


def test_site_staff_scan_a_pack_record_a_dose_and_the_stock_drops_by_one(
    browser, live_server, tree, stocked, staff
):
    number = id_number(date(1958, 4, 4))
    resident_create(name="王建国", id_number=number, grid=tree.grid)
    context, page = logged_in(browser, live_server, staff, PHONE)
    page.goto(f"{live_server.url}/supply/")
    site_row = page.locator(f'[data-holder="{tree.site.code}"][data-lot="202105A"]')
    expect(site_row.locator('[data-figure="on_hand"]')).to_have_text("6")

    page.goto(f"{live_server.url}/sites/{tree.site.code}/doses/new/")
    page.get_by_label("ID number").fill(number)
    page.get_by_label("Scan the pack").fill("81234569999999999999")
    page.get_by_label("Scan the pack").press("Enter")
    expect(page.locator("[data-scan-result]")).to_contain_text("Unknown code")
    page.get_by_label("Scan the pack").fill(PACK_CODES[0])
    page.get_by_label("Scan the pack").press("Enter")
    expect(page.locator("[data-scan-result]")).to_contain_text("202105A")
    expect(page.get_by_label("Lot number")).to_have_value("202105A")
    expect(page.get_by_label("Trace code")).to_have_value(PACK_CODES[0])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "site-scan-pack-phone.png", full_page=True)
    page.get_by_role("button", name="Record the dose").click()
    expect(page.locator(".message.success")).to_contain_text("王建国")

    page.goto(f"{live_server.url}/supply/")
    expect(site_row.locator('[data-figure="on_hand"]')).to_have_text("5")
    dose = Dose.objects.get()
    assert (dose.lot_number, dose.trace_code) == ("202105A", PACK_CODES[0])
    context.close()


def test_the_supply_officer_transfers_stock_and_sees_both_sites(
    browser, live_server, tree, stocked, officer
):
    context, page = logged_in(browser, live_server, officer, {"width": 1280, "height": 900})
    modules = page.get_by_role("navigation", name="Modules")
    modules.get_by_role("link", name="Vaccine supply").click()
    form = page.locator("form", has=page.get_by_role("button", name="Transfer"))
    form.get_by_label("From").select_option(value=str(tree.site.pk))
    form.get_by_label("To").select_option(value=str(tree.other_site.pk))
    form.get_by_label("Lot").select_option(index=1)
    form.get_by_label("Quantity").fill("2")
    form.get_by_role("button", name="Transfer").click()

    expect(page.locator(".message.success")).to_contain_text("202105A")
    for holder, figure in ((tree.site, "4"), (tree.other_site, "2"), (tree.county, "4")):
        row = page.locator(f'[data-holder="{holder.code}"][data-lot="202105A"]')
        expect(row.locator('[data-figure="on_hand"]')).to_have_text(figure)
    page.screenshot(path=SCREENSHOTS / "supply-transfer.png", full_page=True)
    assert StockBalance.objects.get(holder=tree.other_site).on_hand == 2
    context.close()
