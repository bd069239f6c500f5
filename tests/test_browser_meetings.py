"""A dispatch meeting end to end in a real browser (Playwright, Chromium): the dispatcher
opens meeting 27 on today's cutoff, the pack shows the rankings and the open problems,
two decisions are recorded, the owner town posts its progress on a phone, the dispatcher
confirms one item closed, and the minutes .docx downloads holding both decisions. Then
every meetings page is walked as each role, at desktop size and at 390×844."""

import os
from datetime import date, timedelta

import pytest
from django.utils import timezone
from docx import Document
from playwright.sync_api import expect, sync_playwright

from epidispatch.accounts.models import Role
from epidispatch.dispatch.services import snapshot_take
from epidispatch.figures.rollups import rollups_recount
from epidispatch.meetings.models import ActionItem, ItemState, LeaderResponsibility
from epidispatch.registry.services import resident_create

from .dose_files import id_number
from .fieldwork_fixtures import JPEG
from .inspection_fixtures import inspect_with_problem, inspector, mall, mall_category, team
from .meetings_fixtures import *  # noqa: F403 - the fixtures
from .meetings_fixtures import hold
from .test_browser import CHROMIUM, SCREENSHOTS
from .test_bulletins import add_dose

pytestmark = pytest.mark.browser

__all__ = ["inspector", "mall", "mall_category", "team"]

PASSWORD = "secret-pass-1"  # conftest's make_user
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


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


@pytest.fixture
def todays_cutoff(tree):
    """Two towns with residents, a cutoff yesterday and today's: 鸡川镇 ahead today."""
    rollups_recount(day=timezone.localdate() - timedelta(days=3))
    ping = resident_create(name="甲", id_number=id_number(date(1980, 1, 1)), grid=tree.grid)
    resident_create(name="乙", id_number=id_number(date(1980, 1, 2)), grid=tree.grid)
    ji = resident_create(name="丙", id_number=id_number(date(1981, 1, 1)), grid=tree.other_grid)
    yesterday = timezone.now() - timedelta(days=1)
    add_dose(ping, yesterday.date())
    first = snapshot_take(at=yesterday)
    add_dose(ji, timezone.localdate())
    return first, snapshot_take(at=timezone.now())


def test_meeting_27_from_todays_cutoff_to_its_minutes(
    browser,
    live_server,
    tree,
    series,
    office,
    pingxiang,
    jichuan,
    mall,
    team,
    inspector,
    todays_cutoff,
    make_user,
):
    yesterdays, todays = todays_cutoff
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    hold(
        series,
        office,
        number=26,
        held_in=-timedelta(hours=20),
        snapshot=yesterdays,
        participants=[tree.town, tree.other_town],
    )
    problem = inspect_with_problem(mall, inspector).problems.get()
    LeaderResponsibility.objects.create(town=tree.town, leader_name="王建军", leader_title="副县长")

    # The dispatcher opens meeting 27 on today's cutoff.
    context, page = log_in(browser, live_server, office, viewport=DESKTOP)
    page.get_by_role("navigation", name="Modules").get_by_role(
        "link", name="Meetings and action items"
    ).click()
    page.get_by_role("link", name="Open a meeting").click()
    expect(page.get_by_label("Number (第N次)")).to_have_value("27")
    expect(page.get_by_label("Cutoff discussed")).to_have_value(str(todays.pk))
    page.get_by_label("Chair").fill("县长 赵宏亮")
    page.get_by_label("Main venue").fill("县政府四楼会议室")
    page.get_by_label("Sub-venues, one per line").fill("各乡镇视频会议室")
    page.get_by_role("button", name="Open the meeting").click()
    expect(page.locator("h1")).to_have_text("第27次县疫苗接种工作调度会议")
    expect(page.locator('[data-field="cutoff"]')).to_have_text(todays.day.isoformat())

    # The pack: the rankings (鸡川镇 overtook 平襄镇 since meeting 26) and the open problem.
    page.get_by_role("link", name="Meeting pack", exact=True).click()
    towns = page.locator('[data-ranking="towns:coverage"]')
    expect(
        towns.locator(f'[data-unit="{tree.other_town.code}"] [data-field="moved"]')
    ).to_have_text("↑1")
    expect(towns.locator(f'[data-unit="{tree.town.code}"]')).to_contain_text("平襄镇")
    expect(page.locator('[data-list="problems-open"]')).to_contain_text(problem.description)
    expect(page.locator('[data-section="leaders"]')).to_contain_text("王建军")
    page.screenshot(path=SCREENSHOTS / "meeting-pack-desktop.png", full_page=True)

    # Two decisions.
    page.go_back()
    deadline = (timezone.localdate() + timedelta(days=3)).isoformat()
    for decision, owner in (
        ("平襄镇逐户核查60岁以上未接种人员", "平襄镇"),
        ("鸡川镇约谈滞后村社", "鸡川镇"),
    ):
        form = page.locator('[data-form="decision"]')
        form.get_by_label("Decision").fill(decision)
        form.get_by_label("Owner").select_option(label=owner)
        form.get_by_label("Deadline").fill(deadline)
        form.get_by_role("button", name="Record the decision").click()
        expect(page.locator(".message.success")).to_contain_text("recorded")
    expect(page.locator('[data-section="decisions"] li')).to_have_count(2)
    first, second = ActionItem.objects.order_by("number")

    # The owner town posts its progress on a phone, from its start page.
    town_context, town_page = log_in(browser, live_server, pingxiang)
    start = town_page.locator('[data-task="meetings"]')
    start.get_by_role("link", name="平襄镇逐户核查60岁以上未接种人员").click()
    expect(town_page.get_by_role("button", name="Confirm closed")).to_have_count(0)
    photo = SCREENSHOTS.parent / "meetings-progress.jpg"
    photo.write_bytes(JPEG)
    town_page.get_by_label("Progress made").fill("已逐户核查，台账已建立")
    town_page.get_by_label("Attachments (photos, PDF, Word, Excel)").set_input_files(photo)
    town_page.get_by_role("button", name="Post progress").click()
    expect(town_page.locator(".message.success")).to_contain_text("posted")
    expect(town_page.locator("ol.posts")).to_contain_text("台账已建立")
    assert fits_the_screen(town_page)
    town_page.screenshot(path=SCREENSHOTS / "meeting-item-town-phone.png", full_page=True)
    town_context.close()

    # The dispatcher confirms that one; the other stays open.
    page.goto(f"{live_server.url}/meetings/items/{first.pk}/")
    page.get_by_role("button", name="Confirm closed").click()
    expect(page.locator('[data-field="state"]')).to_contain_text("Closed")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (ItemState.CLOSED, ItemState.OPEN)

    # The minutes.
    page.goto(f"{live_server.url}/meetings/{first.meeting_id}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Minutes (.docx)").click()
    text = "\n".join(p.text for p in Document(str(download.value.path())).paragraphs)
    assert "1. 平襄镇逐户核查60岁以上未接种人员" in text
    assert "2. 鸡川镇约谈滞后村社" in text
    assert "责任单位：平襄镇" in text and "责任单位：鸡川镇" in text
    context.close()

    # Every meetings page, as each role, at desktop size and on a phone.
    leader = make_user(Role.LEADER, tree.county, username="leader")
    meeting = first.meeting
    report = meeting.reports.get(unit=tree.town)
    pages = {
        office: [
            "/",
            "/meetings/",
            "/meetings/new/",
            f"/meetings/{meeting.pk}/",
            f"/meetings/{meeting.pk}/pack/",
            "/meetings/items/",
            f"/meetings/items/{second.pk}/",
            f"/meetings/reports/{report.pk}/",
            "/meetings/responsibility/",
        ],
        leader: [
            "/meetings/",
            f"/meetings/{meeting.pk}/",
            f"/meetings/{meeting.pk}/pack/",
            "/meetings/items/",
            "/meetings/responsibility/",
        ],
        pingxiang: [
            "/",
            "/meetings/",
            f"/meetings/{meeting.pk}/",
            f"/meetings/reports/{report.pk}/",
            f"/meetings/items/{first.pk}/",
            "/meetings/items/",
        ],
        jichuan: ["/", "/meetings/", f"/meetings/items/{second.pk}/"],
    }
    for user, urls in pages.items():
        for viewport in (DESKTOP, PHONE):
            context, page = log_in(browser, live_server, user, viewport=viewport)
            for url in urls:
                response = page.goto(f"{live_server.url}{url}")
                assert response.status == 200, (user.username, url)
                assert page.locator("h1").count() == 1
                if viewport == PHONE:
                    assert fits_the_screen(page), (user.username, url)
            name = "phone" if viewport == PHONE else "desktop"
            page.goto(f"{live_server.url}/meetings/")
            page.screenshot(
                path=SCREENSHOTS / f"meetings-{user.username}-{name}.png", full_page=True
            )
            context.close()
