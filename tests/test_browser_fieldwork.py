"""A grid worker's round on a phone (390×844), in a real browser (Playwright, Chromium).

The pages are read in English (the language switch's cookie), so the tests hold whatever
the Chinese catalogue later says."""

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from epidispatch.fieldwork.models import Visit
from epidispatch.registry.models import Resident, ResidentStatus

from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import JPEG
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


@pytest.fixture
def phone(browser, live_server, worker):
    """A logged-in grid worker's phone."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(worker.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    yield context, page
    context.close()


def test_a_grid_worker_records_a_visit_with_a_proof_photo_and_the_resident_leaves_the_list(
    phone, live_server, tree, resident, tmp_path
):
    _context, page = phone
    page.get_by_role("navigation", name="Modules").get_by_role("link", name="Field work").click()
    expect(page.get_by_role("heading", name=tree.grid.name)).to_be_visible()
    expect(page.locator('[data-figure="clearance"]')).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    card = page.locator(f'[data-list="clearance"] [data-resident="{resident.pk}"]')
    card.get_by_role("link", name="Record visit").click()
    expect(page.get_by_role("heading", name="张三")).to_be_visible()
    expect(page.get_by_label("Proof (photo or PDF)")).to_be_hidden()
    page.get_by_label("Vaccinated elsewhere").check()
    photo = tmp_path / "IMG_20210806_101500.jpg"
    photo.write_bytes(JPEG)
    page.get_by_label("Proof (photo or PDF)").set_input_files(photo)
    page.get_by_label("Note").fill("在兰州接种，已拍接种凭证")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "grid-worker-visit-phone.png", full_page=True)
    page.get_by_role("button", name="Save visit").click()

    expect(page.locator(".message.success")).to_contain_text("Visit saved")
    expect(page.locator('[data-figure="clearance"]')).to_have_text("0")
    expect(page.locator(f'[data-resident="{resident.pk}"]')).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "grid-worker-round-phone.png", full_page=True)
    visit = Visit.objects.get()
    assert visit.proof_content_type == "image/jpeg"
    assert visit.note == "在兰州接种，已拍接种凭证"
    assert Resident.objects.get().status == ResidentStatus.AWAY


def test_what_a_worker_typed_survives_a_lost_signal_and_a_reload(
    phone, live_server, tree, resident
):
    context, page = phone
    page.goto(f"{live_server.url}/field/residents/{resident.pk}/visit/")
    page.get_by_label("Contraindicated").check()
    page.get_by_label("Contraindication").fill("妊娠期，医生建议暂缓")
    page.get_by_label("Note").fill("下午再来")

    context.set_offline(True)
    page.get_by_role("button", name="Save visit").click()
    expect(page.locator("[data-offline-kept]")).to_be_visible()
    assert not Visit.objects.exists()

    context.set_offline(False)
    page.reload()
    expect(page.locator("[data-draft-restored]")).to_be_visible()
    expect(page.get_by_label("Contraindicated")).to_be_checked()
    expect(page.get_by_label("Contraindication")).to_have_value("妊娠期，医生建议暂缓")
    expect(page.get_by_label("Note")).to_have_value("下午再来")
    page.get_by_role("button", name="Save visit").click()

    expect(page.locator(".message.success")).to_contain_text("Visit saved")
    visit = Visit.objects.get()
    assert (visit.outcome, visit.reason) == ("contraindicated", "妊娠期，医生建议暂缓")
    # The draft is dropped once the server has the visit.
    page.wait_for_function("() => localStorage.length === 0", timeout=5000)
