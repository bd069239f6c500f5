"""Correcting and deleting a dose in a real browser (issue 20, "Done when"): the site's
staff, on a 390×844 phone, correct a dose's date and delete a wrong dose; the county's
dashboard moves at once and the audit trail shows both, with their reasons. Then every
demo role walks its pages at desktop size and on the phone."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from epidispatch.accounts.models import User
from epidispatch.demo import generator
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, VaccineProduct
from epidispatch.vaccination.services import dose_record

from .dose_files import id_number
from .test_browser import SCREENSHOTS, browser, log_in  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
DEMO_GRID = "621121100001001"
DEMO_SITE = "621121970003"
COUNTY = "621121"


@pytest.fixture
def county(transactional_db):
    """The demo tree and users; 牛建国's dose was entered with the wrong day, and a dose was
    recorded today for 漆秀兰 by mistake (it was someone else's)."""
    generator.load_units()
    generator.load_users()
    grid = OrgUnit.objects.get(code=DEMO_GRID)
    site = OrgUnit.objects.get(code=DEMO_SITE)
    staff = User.objects.get(username="site_staff")
    coronavac = VaccineProduct.objects.get(code="coronavac")
    wrong_day = resident_create(name="牛建国", id_number=id_number(date(1958, 4, 2)), grid=grid)
    wrong_person = resident_create(name="漆秀兰", id_number=id_number(date(1962, 7, 9)), grid=grid)
    today = timezone.localdate()
    late = dose_record(
        resident=wrong_day,
        product=coronavac,
        given_on=today - timedelta(days=3),
        site=site,
        by=staff,
    )
    wrong = dose_record(
        resident=wrong_person, product=coronavac, given_on=today, site=site, by=staff
    )
    return late, wrong


def context_page(browser, viewport):  # noqa: F811 - the module-scoped browser fixture
    context = browser.new_context(
        viewport=viewport, is_mobile=viewport == PHONE, has_touch=viewport == PHONE
    )
    return context, context.new_page()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def card(page, key: str):
    return page.locator(f'[data-figure="{key}"] .value')


def test_site_staff_correct_a_date_and_delete_a_wrong_dose_and_the_county_sees_both(
    browser,  # noqa: F811
    live_server,
    county,
):
    late, wrong = county
    office, desk = context_page(browser, DESKTOP)
    log_in(desk, live_server.url, "dispatcher")
    desk.goto(f"{live_server.url}/dispatch/units/{COUNTY}/")
    expect(card(desk, "doses")).to_have_text("2")
    to_clear_before = int(card(desk, "to_clear").inner_text().replace(",", ""))

    phone_context, phone = context_page(browser, PHONE)
    log_in(phone, live_server.url, "site_staff")
    # The dose with the wrong day: found on the site's register of that day.
    phone.goto(f"{live_server.url}/units/{DEMO_SITE}/")
    phone.get_by_label("日期").fill(f"{late.given_on:%Y-%m-%d}")
    phone.get_by_role("button", name="查看").click()
    row = phone.locator(f'tr[data-dose="{late.pk}"]')
    expect(row).to_contain_text("牛建国")
    assert fits(phone)
    row.get_by_role("link", name="更正").click()
    expect(phone.get_by_role("heading", name="更正接种记录")).to_be_visible()
    assert fits(phone)
    right_day = late.given_on - timedelta(days=4)
    phone.get_by_label("接种日期").fill(f"{right_day:%Y-%m-%d}")
    phone.get_by_label("原因").fill("补录时日期填错")
    phone.screenshot(path=SCREENSHOTS / "dose-correct-phone.png", full_page=True)
    phone.get_by_role("button", name="保存更正").click()
    expect(phone.locator(".message.success, .message").first).to_contain_text("已更正")
    expect(phone.locator(f'tr[data-dose="{late.pk}"]')).to_contain_text(f"{right_day:%Y-%m-%d}")

    # The wrong dose of today: deleting asks to confirm first.
    phone.goto(f"{live_server.url}/units/{DEMO_SITE}/")
    phone.locator(f'tr[data-dose="{wrong.pk}"]').get_by_role("link", name="删除").click()
    expect(phone.get_by_role("heading", name="删除接种记录")).to_be_visible()
    expect(phone.get_by_text("仅删除录错的剂次")).to_be_visible()
    assert Dose.objects.filter(pk=wrong.pk).exists()
    phone.get_by_role("button", name="确认删除此剂次").click()
    expect(phone.get_by_text("此项为必填项")).to_be_visible()
    assert Dose.objects.filter(pk=wrong.pk).exists()
    phone.get_by_label("原因").fill("录错人")
    assert fits(phone)
    phone.get_by_role("button", name="确认删除此剂次").click()
    expect(phone.locator(".message").first).to_contain_text("已删除")
    expect(phone.locator(f'tr[data-dose="{wrong.pk}"]')).to_have_count(0)
    phone.screenshot(path=SCREENSHOTS / "dose-deleted-phone.png", full_page=True)
    phone_context.close()

    desk.reload()
    expect(card(desk, "doses")).to_have_text("1")
    expect(card(desk, "to_clear")).to_have_text(str(to_clear_before + 1))
    desk.goto(f"{live_server.url}/audit/")
    corrected = desk.locator("tr[data-entry]", has_text="更正接种记录")
    deleted = desk.locator("tr[data-entry]", has_text="删除接种记录")
    expect(corrected).to_contain_text("补录时日期填错")
    expect(corrected).to_contain_text("平襄镇卫生院接种人员")
    expect(deleted).to_contain_text("录错人")
    change = desk.locator("tr[data-entry]", has_text="接种记录 · 修改").first
    expect(change).to_contain_text(f"{late.given_on:%Y-%m-%d} → {right_day:%Y-%m-%d}")
    desk.screenshot(path=SCREENSHOTS / "dose-changes-audit.png", full_page=True)
    office.close()


#: (demo user, whether they may change the site's dose) — the others get 403 or 404.
ROLES = [
    (demo.username, demo.username in ("site_staff", "dispatcher"))
    for demo in generator.demo_users()
]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_demo_role_walks_its_pages_and_only_the_right_ones_change_a_dose(
    browser,  # noqa: F811
    live_server,
    county,
    viewport,
):
    late, _wrong = county
    # One browser context for all the roles, each logged in on a clean slate (no cookie, no
    # stored draft): the context keeps the static files in its cache from role to role.
    context, page = context_page(browser, viewport)
    for username, may in ROLES:
        log_in(page, live_server.url, username)
        modules = page.get_by_role("navigation", name="模块")
        expect(modules).to_be_visible()
        hrefs = modules.get_by_role("link").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        for href in [*hrefs, f"/doses/{late.pk}/correct/", f"/doses/{late.pk}/delete/"]:
            answer = page.goto(f"{live_server.url}{href}")
            if href.startswith("/doses/"):
                assert (answer.status == 200) == may, (username, href, answer.status)
                assert answer.status in (200, 403, 404), (username, href)
            else:
                assert answer.status == 200, (username, href)
            assert fits(page) or viewport != PHONE, (username, href)
            assert not re.search(r"\b(Correct|Delete|Reason)\b", page.locator("main").inner_text())
        context.clear_cookies()
        page.evaluate("localStorage.clear()")
    context.close()
    assert Dose.objects.filter(pk=late.pk, given_on=late.given_on).exists()
