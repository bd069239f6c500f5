"""What county officials met on the pages (issue 19), on a 390×844 phone in Chinese, in a
real browser: the words of the visit and checkpoint forms, calling a resident from the
visit form, links that never lead to a 403, and table cards and forms that fit."""

from datetime import date

import pytest
from playwright.sync_api import expect

from epidispatch.accounts.models import User
from epidispatch.audit.models import AuditAction, AuditEntry
from epidispatch.demo import generator
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record

from .dose_files import id_number
from .test_browser import SCREENSHOTS, browser, log_in  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DEMO_GRID = "621121100001001"
DEMO_SITE = "621121970003"
MOBILE = "13812345678"


@pytest.fixture
def county(transactional_db):
    """The demo tree and users, and one resident of the grid worker's grid with a phone
    and a dose given at the demo site."""
    generator.load_units()
    generator.load_users()
    grid = OrgUnit.objects.get(code=DEMO_GRID)
    person = resident_create(
        name="牛建国", id_number=id_number(date(1958, 4, 2)), phone=MOBILE, grid=grid
    )
    unvaccinated = resident_create(
        name="漆秀兰", id_number=id_number(date(1962, 7, 9)), phone="13987654321", grid=grid
    )
    dose_record(
        resident=person,
        product=VaccineProduct.objects.get(code="coronavac"),
        given_on=date(2021, 5, 1),
        site=OrgUnit.objects.get(code=DEMO_SITE),
        by=User.objects.get(username="site_staff"),
    )
    return person, unvaccinated


@pytest.fixture
def phone(browser):  # noqa: F811 - the module-scoped browser of test_browser
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_grid_worker_calls_the_resident_from_the_visit_form_in_chinese(
    phone, live_server, county
):
    _person, resident = county
    log_in(phone, live_server.url, "grid_worker")
    phone.goto(f"{live_server.url}/field/")
    card = phone.locator(f'[data-list="clearance"] [data-resident="{resident.pk}"]')
    card.get_by_role("link", name="登记核查").click()

    expect(phone.get_by_text("未找到本人")).to_be_visible()
    assert "页面不存在" not in phone.content()
    expect(phone.locator('[data-field="place"]')).to_have_text("平襄镇 北关社区 北关社区第1网格")
    expect(phone.locator('[data-field="phone"]')).to_contain_text("139****4321")
    phone.get_by_role("button", name="显示号码以便拨打").click()
    call = phone.get_by_role("link", name="拨打 13987654321")
    expect(call).to_have_attribute("href", "tel:13987654321")
    unmasks = AuditEntry.objects.exclude(action=AuditAction.LOGIN)
    assert unmasks.filter(unit_path__endswith=f"{DEMO_GRID}/").count() == 1
    assert fits(phone)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=SCREENSHOTS / "visit-call-phone.png", full_page=True)

    phone.get_by_text("未找到本人").click()
    phone.get_by_role("button", name="保存核查").click()
    expect(phone.get_by_text("核查已保存")).to_be_visible()
    phone.goto(f"{live_server.url}/residents/{resident.pk}/")
    expect(phone.locator('[data-list="visits"]')).to_contain_text("未找到本人")

    phone.goto(f"{live_server.url}/field/checkpoint/")
    expect(phone.get_by_label("场所")).to_be_visible()
    assert "名次" not in phone.content()
    assert fits(phone)


@pytest.mark.parametrize(
    ("username", "audit_log", "bulletins"),
    [
        ("dispatcher", True, True),
        ("leader", False, True),
        ("supply", False, False),
        ("control", False, False),
    ],
)
def test_navigation_and_tabs_offer_only_pages_the_user_may_open(
    phone, live_server, county, username, audit_log, bulletins
):
    log_in(phone, live_server.url, username)
    phone.goto(f"{live_server.url}/dispatch/")
    modules = phone.get_by_role("navigation", name="模块")
    tabs = phone.get_by_role("navigation", name="调度页面")
    expect(modules.get_by_role("link", name="审计日志")).to_have_count(int(audit_log))
    expect(tabs.get_by_role("link", name="日通报")).to_have_count(int(bulletins))
    hrefs = [
        link.get_attribute("href")
        for nav in (modules, tabs)
        for link in nav.get_by_role("link").all()
    ]
    for href in hrefs:
        assert phone.goto(f"{live_server.url}{href}").status == 200, href
        assert fits(phone), href


def test_dose_cards_and_the_dose_form_fit_a_phone(phone, live_server, county):
    person, _resident = county
    log_in(phone, live_server.url, "town_pingxiang")
    phone.goto(f"{live_server.url}/residents/{person.pk}/")
    dose = phone.locator('tr[data-dose="1"]')
    number = dose.locator("td.num").bounding_box()
    lot = dose.locator("td.field").first.bounding_box()
    same_line = abs(number["y"] - lot["y"]) < 4
    assert not same_line or number["x"] + number["width"] + 8 <= lot["x"]
    assert fits(phone)

    phone.context.clear_cookies()
    log_in(phone, live_server.url, "site_staff")
    phone.goto(f"{live_server.url}/sites/{DEMO_SITE}/doses/new/")
    form = phone.locator("form.stacked").bounding_box()
    for field in phone.locator("form.stacked input:visible, form.stacked select").all():
        box = field.bounding_box()
        assert box["x"] >= form["x"] and box["x"] + box["width"] <= form["x"] + form["width"]
    assert fits(phone)
    phone.screenshot(path=SCREENSHOTS / "dose-form-phone.png", full_page=True)
