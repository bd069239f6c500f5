"""The dispatcher's journey under the Content-Security-Policy, in a real browser: the
dashboard (ECharts), the targets page, the audit trail filtered by kind, and the password
page all work without one policy violation (no inline script or style left)."""

import pytest
from playwright.sync_api import expect

from epidispatch.accounts.models import Role

from .test_browser_dispatch import browser, campaign, log_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_the_dispatchers_pages_run_under_the_csp_and_the_trail_shows_their_login(
    browser,  # noqa: F811
    live_server,
    campaign,  # noqa: F811
    make_user,
):
    make_user(Role.DISPATCHER, campaign.county, username="county-dispatcher")
    page = browser.new_page()
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, live_server.url, "county-dispatcher")

    page.goto(f"{live_server.url}/dispatch/")
    expect(page.locator("canvas").first).to_be_visible()
    meter = page.locator(".meter [data-width]").first
    expect(meter).to_have_attribute("style", "width: " + meter.get_attribute("data-width") + "%;")

    page.goto(f"{live_server.url}/dispatch/targets/")
    expect(page.locator("input.quota").first).to_be_visible()

    page.goto(f"{live_server.url}/audit/")
    page.get_by_label("类型").select_option("login")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("tr[data-entry]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("county-dispatcher")

    page.get_by_role("link", name="county-dispatcher").click()
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    assert violations == []
