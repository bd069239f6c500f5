"""The booking journey in a real browser at phone size: a resident books a slot, site
staff check them in and record the dose, the slot shows as used and the public page's
free count drops; a resident cancels their booking with a code and the place is free."""

import os
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from epidispatch.sites.services import _book
from epidispatch.vaccination.models import Dose, VaccineProduct

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import current_slot
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


def free_places(page, site_code: str):
    return page.locator(f'[data-site="{site_code}"] [data-figure="free"]')


def test_a_resident_books_on_a_phone_and_the_site_checks_them_in_and_records_the_dose(
    browser, live_server, tree, session, resident, site_staff, outbox
):
    slot = current_slot(session)
    resident_phone = browser.new_context(viewport=PHONE, is_mobile=True)
    page = resident_phone.new_page()
    page.goto(f"{live_server.url}/sites/")
    page.get_by_label("乡镇/街道").select_option(tree.town.code)
    page.get_by_role("button", name="查看接种点").click()
    free_before = int(free_places(page, tree.site.code).inner_text())
    page.locator(f'[data-site="{tree.site.code}"]').get_by_role("link", name="预约").click()
    page.get_by_label("身份证号码").fill(id_number(1))
    page.get_by_role("button", name="发送验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送")
    code = re.search(r"\b(\d{6})\b", outbox[0].text).group(1)
    page.get_by_label("手机收到的验证码").fill(code)
    page.get_by_label("时间").select_option(str(slot.pk))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "resident-booking-phone.png", full_page=True)
    page.get_by_role("button", name="预约").click()
    expect(page.locator("[data-booked]")).to_contain_text("预约成功")
    page.goto(f"{live_server.url}/sites/?town={tree.town.code}")
    expect(free_places(page, tree.site.code)).to_have_text(str(free_before - 1))

    staff_phone = browser.new_context(viewport=PHONE, is_mobile=True)
    desk = staff_phone.new_page()
    desk.goto(f"{live_server.url}/accounts/login/")
    desk.get_by_label("用户名").fill(site_staff.username)
    desk.get_by_label("密码").fill(PASSWORD)
    desk.get_by_role("button", name="登录").click()
    desk.goto(f"{live_server.url}/sites/{tree.site.code}/desk/")
    desk.get_by_label("身份证号码").fill(id_number(1))
    desk.get_by_role("button", name="签到").click()
    expect(desk).to_have_url(re.compile(rf"/sites/{tree.site.code}/doses/new/$"))
    expect(desk.locator(".message.success")).to_contain_text("张三")
    page.reload()
    expect(page.locator(f'[data-site="{tree.site.code}"] [data-figure="waiting"]')).to_have_text(
        "1"
    )
    desk.get_by_label("身份证号码").fill(id_number(1))
    desk.locator("select[name=product]").select_option(
        str(VaccineProduct.objects.get(code="coronavac").pk)
    )
    desk.get_by_role("button", name="登记").click()
    expect(desk.locator(".message.success")).to_contain_text("张三")

    desk.goto(f"{live_server.url}/sites/{tree.site.code}/desk/")
    row = desk.locator(f'[data-slot="{slot.starts_at:%H:%M}"]')
    expect(row.locator('[data-figure="used"]')).to_have_text("1")
    assert desk.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    desk.screenshot(path=SCREENSHOTS / "site-desk-phone.png", full_page=True)
    page.reload()
    expect(free_places(page, tree.site.code)).to_have_text(str(free_before - 1))
    expect(page.locator(f'[data-site="{tree.site.code}"] [data-figure="waiting"]')).to_have_text(
        "0"
    )
    assert Dose.objects.filter(resident=resident, site=tree.site).count() == 1
    resident_phone.close()
    staff_phone.close()


def test_a_resident_cancels_their_booking_on_a_phone(
    browser, live_server, tree, session, resident, outbox
):
    slot = current_slot(session)
    appointment = _book(slot=slot, resident=resident, by=None)
    phone = browser.new_context(viewport=PHONE, is_mobile=True)
    page = phone.new_page()
    page.goto(f"{live_server.url}/sites/?town={tree.town.code}")
    free_before = int(free_places(page, tree.site.code).inner_text())
    page.get_by_role("link", name="取消我的预约").click()
    page.get_by_label("身份证号码").fill(id_number(1))
    page.get_by_role("button", name="发送验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送")
    code = re.search(r"\b(\d{6})\b", outbox[-1].text).group(1)
    page.get_by_label("手机收到的验证码").fill(code)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("button", name="取消预约").click()
    expect(page.locator("[data-cancelled]")).to_contain_text(
        f"{slot.starts_at:%H:%M} · {tree.site.name}"
    )
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "resident-cancel-phone.png", full_page=True)
    page.goto(f"{live_server.url}/sites/?town={tree.town.code}")
    expect(free_places(page, tree.site.code)).to_have_text(str(free_before + 1))
    appointment.refresh_from_db()
    assert appointment.state == "cancelled"
    phone.close()
