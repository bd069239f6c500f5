"""User journeys through the registry's pages in a real browser (Playwright, Chromium)."""

import os

import openpyxl
import pytest
from huey.contrib.djhuey import HUEY
from playwright.sync_api import expect, sync_playwright

from epidispatch.accounts.models import Role
from epidispatch.registry.services import resident_create

from .test_browser import CHROMIUM, SCREENSHOTS
from .test_registry_pages import id_number, write_dose_file, wrong_check_digit

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
def immediate_tasks():
    """Imports run inside the upload request, as with EPIDISPATCH_TASKS_IMMEDIATE=1."""
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_dispatcher_imports_a_dose_file_and_downloads_the_rejected_rows(
    browser, live_server, tree, make_user, tmp_path, immediate_tasks
):
    make_user(Role.DISPATCHER, tree.county, username="county-dispatcher")
    resident_create(name="张三", id_number=id_number(1), grid=tree.grid)
    dose_file = write_dose_file(
        tmp_path / "接种记录.csv",
        [
            ("张三", id_number(1), "2021-05-01"),
            ("王五", wrong_check_digit(id_number(3)), "2021-05-01"),
        ],
    )
    page = browser.new_page(locale="en-US", accept_downloads=True)
    log_in(page, live_server.url, "county-dispatcher")
    page.get_by_role("navigation", name="模块").get_by_role("link", name="组织机构").click()
    page.get_by_role("link", name="数据导入").click()
    with page.expect_download() as template_info:
        page.locator('[data-kind="doses"] a').click()
    template_path = tmp_path / "template.xlsx"  # openpyxl reads a path only by its suffix
    template_info.value.save_as(template_path)
    template = openpyxl.load_workbook(template_path).active
    assert "身份证件号码*" in [cell.value for cell in template[1]]
    page.get_by_label("文件内容").select_option("doses")
    page.locator('input[type="file"]').set_input_files(dose_file)
    page.get_by_role("button", name="导入").click()

    expect(page.get_by_role("heading", name="接种记录.csv")).to_be_visible()
    expect(page.locator("[data-state]")).to_have_text("完成")
    expect(page.locator('[data-figure="rows"]')).to_have_text("2")
    expect(page.locator('[data-figure="stored"]')).to_have_text("1")
    expect(page.locator('[data-figure="rejected"]')).to_have_text("1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "dispatcher-import.png", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载错误报告（Excel）").click()
    download = download_info.value
    assert download.suggested_filename == "接种记录-错误报告.xlsx"
    report = tmp_path / "report.xlsx"
    download.save_as(report)
    rows = list(openpyxl.load_workbook(report).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("行号", "列")
    assert [row[:2] for row in rows[1:]] == [(3, "身份证件号码")]


def test_town_official_finds_and_unmasks_a_resident_on_a_phone(
    browser, live_server, tree, make_user
):
    make_user(Role.TOWN_OFFICIAL, tree.town, username="pingxiang")
    resident_create(name="张三", id_number=id_number(1), phone="13812345678", grid=tree.grid)
    resident_create(name="赵六", id_number=id_number(4), grid=tree.sibling_grid)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server.url, "pingxiang")
    page.get_by_role("navigation", name="模块").get_by_role("link", name="居民").click()
    expect(page.get_by_role("heading", name="居民")).to_contain_text("2")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    header = "getComputedStyle(document.querySelector('table.units thead')).display"
    assert page.evaluate(header) == "none"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "town-residents-phone.png", full_page=True)

    page.get_by_label("身份证号码").fill(id_number(1))
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_role("heading", name="张三")).to_be_visible()
    expect(page.locator('[data-field="id_number"]')).not_to_contain_text(id_number(1))
    page.get_by_role("button", name="显示完整信息").click()
    expect(page.locator('[data-field="id_number"]')).to_have_text(id_number(1))
    expect(page.locator('[data-field="phone"]')).to_have_text("13812345678")
    page.goto(page.url.removesuffix("unmask/"))
    expect(page.locator('[data-field="id_number"]')).not_to_contain_text(id_number(1))
    context.close()
