"""Site staff on a phone: a refrigerator reading out of range is flagged at once and on
the dispatcher's load view; the roster page refuses a nurse whose qualification has
expired, in Chinese, and takes a qualified one; the desk cancels a booking and marks a
person who did not come."""

import re
from datetime import date, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from epidispatch.audit.models import Change
from epidispatch.sites.models import RosterEntry, StaffRole
from epidispatch.sites.services import _book, qualification_record

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import equipment, residents, staff_member
from .test_browser import SCREENSHOTS
from .test_browser_sites import PASSWORD, PHONE, browser  # noqa: F401

pytestmark = pytest.mark.browser


def log_in(context, live_server, user):
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    return page


def test_site_staff_flag_a_warm_fridge_and_roster_only_the_qualified_on_a_phone(
    browser,  # noqa: F811
    live_server,
    tree,
    site_staff,
    dispatcher,
):
    today = timezone.localdate()
    fridge = equipment(tree.site, dispatcher)
    qualified = staff_member(tree, dispatcher, name="李护士")
    expired = staff_member(tree, dispatcher, name="牛玉梅")
    for member, until in (
        (qualified, today + timedelta(days=90)),
        (expired, today - timedelta(days=1)),
    ):
        qualification_record(
            staff=member,
            role=StaffRole.VACCINATOR,
            passed_on=date(2025, 1, 1),
            expires_on=until,
            by=dispatcher,
        )
    phone = browser.new_context(viewport=PHONE, is_mobile=True)
    page = log_in(phone, live_server, site_staff)
    page.goto(f"{live_server.url}/sites/{tree.site.code}/equipment/")
    card = page.locator(f'[data-equipment="{fridge.pk}"]')
    card.get_by_label("温度（°C）").fill("9.3")
    card.get_by_label("备注").fill("冰箱门未关严")
    card.get_by_role("button", name="登记检查").click()
    expect(page.locator(".message.warning")).to_contain_text("1号冰箱超出范围")
    expect(card.locator('[data-flag="out_of_range"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "site-equipment-phone.png", full_page=True)

    page.get_by_role("link", name="排班").first.click()
    expect(page).to_have_url(re.compile(rf"/sites/{tree.site.code}/roster/"))
    page.get_by_label("医护人员").select_option(str(expired.pk))
    page.get_by_label("岗位").select_option(StaffRole.VACCINATOR)
    page.get_by_label("开始时间").fill("08:00")
    page.get_by_label("结束时间").fill("12:00")
    page.get_by_role("button", name="排班", exact=True).click()
    expect(page.locator(".message.error")).to_contain_text("牛玉梅")
    expect(page.locator(".message.error")).to_contain_text("没有有效的接种员培训合格证明")
    assert not RosterEntry.objects.exists()
    page.get_by_label("医护人员").select_option(str(qualified.pk))
    page.get_by_label("岗位").select_option(StaffRole.VACCINATOR)
    page.get_by_label("开始时间").fill("08:00")
    page.get_by_label("结束时间").fill("12:00")
    page.get_by_role("button", name="排班", exact=True).click()
    expect(page.locator(".message.success")).to_contain_text("已为李护士排班")
    expect(page.locator("ul.posts")).to_contain_text("08:00–12:00")
    expect(page.locator('[data-figure="staffed"]')).to_have_text("80")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=SCREENSHOTS / "site-roster-phone.png", full_page=True)
    phone.close()

    desktop = browser.new_context(viewport={"width": 1280, "height": 900})
    load = log_in(desktop, live_server, dispatcher)
    load.goto(f"{live_server.url}/sites/load/")
    expect(load.locator("[data-alerts]")).to_contain_text("平襄镇卫生院接种点 · 1号冰箱")
    expect(load.locator(f'[data-site="{tree.site.code}"] [data-figure="staffed"]')).to_contain_text(
        "80"
    )
    desktop.close()


def test_site_staff_cancel_a_booking_and_mark_a_no_show_on_a_phone(
    browser,  # noqa: F811
    live_server,
    tree,
    session,
    site_staff,
):
    """The desk's buttons at 390×844: the cancelled booking frees its place, the person
    who did not come keeps it, and both land on the trail under the staff member."""
    early = session.slots.get(starts_at=time(0))
    first, second = residents(tree, 2)
    cancelled = _book(slot=early, resident=first, by=None)
    missed = _book(slot=early, resident=second, by=None)
    phone = browser.new_context(viewport=PHONE, is_mobile=True)
    page = log_in(phone, live_server, site_staff)
    page.goto(f"{live_server.url}/sites/{tree.site.code}/desk/")
    row = page.locator(f'[data-appointment="{cancelled.pk}"]')
    expect(row).to_contain_text(first.name)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "site-desk-bookings-phone.png", full_page=True)
    row.get_by_role("button", name="取消预约").click()
    expect(page.locator(".message.success")).to_contain_text(f"已取消{first.name}的预约")
    expect(page.locator(f'[data-appointment="{cancelled.pk}"]')).to_have_attribute(
        "data-state", "cancelled"
    )
    expect(page.locator(f'[data-appointment="{cancelled.pk}"] button')).to_have_count(0)
    page.locator(f'[data-appointment="{missed.pk}"]').get_by_role("button", name="标记爽约").click()
    expect(page.locator(".message.success")).to_contain_text(f"已将{second.name}标记为爽约")
    missed_row = page.locator(f'[data-appointment="{missed.pk}"]')
    expect(missed_row).to_have_attribute("data-state", "no_show")
    expect(missed_row).to_contain_text("爽约")
    expect(
        page.locator(f'[data-slot="{early.starts_at:%H:%M}"] [data-figure="booked"]')
    ).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.close()
    states = dict(
        Change.objects.filter(content_type__model="appointment", actor=site_staff).values_list(
            "object_id", "changes__state"
        )
    )
    assert states == {cancelled.pk: ["booked", "cancelled"], missed.pk: ["booked", "no_show"]}
