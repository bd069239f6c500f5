"""An inspection from the phone to the office's report, in a real browser (Playwright,
Chromium): the inspector records a problem with a photo at a mall, the mall's
responsible unit submits its rectification with a photo, the inspector sends it back
once and then verifies it, and the office finds the case closed in the period report."""

import os

import pytest
from docx import Document
from playwright.sync_api import expect, sync_playwright

from epidispatch.inspection.models import Problem, ProblemState, Rectification

from .fieldwork_fixtures import JPEG
from .inspection_fixtures import *  # noqa: F403 - the fixtures
from .inspection_fixtures import items_of
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


def log_in(browser, live_server, user, viewport=PHONE):
    context = browser.new_context(viewport=viewport, is_mobile=viewport == PHONE, has_touch=True)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return context, page


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def submit_rectification(page, live_server, problem, photo, note):
    page.goto(f"{live_server.url}/inspection/problems/{problem.pk}/")
    page.get_by_label("What was done").fill(note)
    page.get_by_label("Photo or video of the rectification").set_input_files(photo)
    page.get_by_role("button", name="Submit rectification").click()
    expect(page.locator(".message.success")).to_contain_text("submitted")


def test_a_problem_at_a_mall_is_rectified_sent_back_once_verified_and_reported_closed(
    browser, live_server, tree, mall, team, inspector, town_official, office, tmp_path
):
    first_item = items_of(mall)[0]
    photo = tmp_path / "IMG_20210806_093000.jpg"
    photo.write_bytes(JPEG)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # The inspector, on a phone, at the mall (暗访).
    context, page = log_in(browser, live_server, inspector)
    page.get_by_role("navigation", name="Modules").get_by_role("link", name="Inspections").click()
    page.locator(f'[data-place="{mall.pk}"]').get_by_role("link", name="Inspect").click()
    expect(page.get_by_role("heading", name="平襄商厦")).to_be_visible()
    page.get_by_label("Unannounced inspection").check()
    page.get_by_label("Person on duty").fill("李四")
    for item in items_of(mall):
        block = page.locator(f'[data-item="{item.pk}"]')
        block.get_by_label("Not met" if item == first_item else "Met", exact=True).check()
    block = page.locator(f'[data-item="{first_item.pk}"]')
    block.get_by_label("Problem found").fill("入口无人扫码查验")
    block.get_by_label("Photo or video").set_input_files(photo)
    assert fits_the_screen(page)
    page.screenshot(path=SCREENSHOTS / "inspector-checklist-phone.png", full_page=True)
    page.get_by_role("button", name="Save inspection").click()
    expect(page.locator(".message.success")).to_contain_text("1 problems")
    problem = Problem.objects.get()
    assert (problem.description, problem.person_on_duty) == ("入口无人扫码查验", "李四")

    # The mall's responsible unit (平襄镇) rectifies, on a phone.
    unit_context, unit_page = log_in(browser, live_server, town_official)
    unit_page.goto(f"{live_server.url}/inspection/")
    unit_page.locator(f'[data-problem="{problem.pk}"]').get_by_role("link").click()
    expect(unit_page.locator("h1")).to_have_text("入口无人扫码查验")
    expect(unit_page.get_by_role("button", name="Verify")).to_have_count(0)
    submit_rectification(unit_page, live_server, problem, photo, "已安排专人值守")

    # The inspector sends it back once, with a reason.
    page.goto(f"{live_server.url}/inspection/problems/{problem.pk}/")
    expect(page.locator(".evidence img")).to_have_count(2)
    page.get_by_label("Reason for sending it back").fill("照片看不清值守人员")
    page.get_by_role("button", name="Send back").click()
    expect(page.locator(".message.success")).to_contain_text("sent back")
    expect(page.locator('[data-field="reason"]')).to_have_text("照片看不清值守人员")

    # The unit submits again; the inspector verifies.
    submit_rectification(unit_page, live_server, problem, photo, "值守人员在岗，已重新拍照")
    page.reload()
    page.get_by_role("button", name="Verify").click()
    expect(page.locator('[data-field="state"]')).to_contain_text("Verified")
    assert fits_the_screen(page)
    page.screenshot(path=SCREENSHOTS / "inspector-verified-phone.png", full_page=True)
    assert [r.outcome for r in Rectification.objects.order_by("pk")] == ["sent_back", "verified"]
    assert Problem.objects.get().state == ProblemState.VERIFIED
    unit_context.close()
    context.close()

    # The office downloads the period report: the case is closed (已整改到位).
    office_context, office_page = log_in(
        browser, live_server, office, viewport={"width": 1280, "height": 900}
    )
    office_page.goto(f"{live_server.url}/inspection/units/{tree.county.code}/report/")
    expect(office_page.locator('[data-category="商场"]')).to_be_visible()
    with office_page.expect_download() as download:
        office_page.get_by_role("link", name="Download .docx").click()
    document = Document(str(download.value.path()))
    office_context.close()
    closed = document.tables[2]
    rows = [[cell.text for cell in row.cells] for row in closed.rows]
    assert rows[0][0] == "场所" and rows[1][:3] == ["平襄商厦", "入口无人扫码查验", "平襄镇"]
    assert rows[1][4]  # verified at
