"""A walk, as every demo user, through the pages this work touched — the dispatch dashboard
with its control-area panel, the control areas and their pages, the household pages —
following their links: a link never leads to a 403 or 404, the Chinese UI carries no
English word, and at 390×844 nothing is wider than the phone (Playwright, Chromium)."""

from collections import deque

import pytest
from django.test import Client
from playwright.sync_api import sync_playwright

from epidispatch.accounts.models import User
from epidispatch.control.demo import load_control
from epidispatch.control.models import ControlArea
from epidispatch.demo import generator
from epidispatch.fieldwork.demo import load_fieldwork

from .control_fixtures import policies  # noqa: F401 - a fixture
from .test_browser import CHROMIUM, SCREENSHOTS
from .test_walkthrough import ALLOWED_WORDS, SKIPPED, WORD, _Page, _usernames

COUNTY, TOWN, GRID = "621121", "621121100000", "621121100001001"
#: Where this work's pages are, and what the walk follows from them.
FOLLOWED = ("/control/units/", "/control/areas/", "/dispatch/units/")


@pytest.fixture
def demo_county(policies):  # noqa: F811 - the fixture
    generator.load_units()
    generator.load_users()
    generator.load_residents(300)
    generator.load_doses()
    load_fieldwork()
    load_control()


def _start(user) -> list[str]:
    area = ControlArea.objects.get()
    return [
        "/dispatch/",
        f"/control/units/{COUNTY}/areas/",
        f"/control/units/{TOWN}/areas/",
        f"/control/areas/{area.pk}/",
        f"/units/{GRID}/households/",
        f"/units/{TOWN}/households/",
    ]


def _walk(client, starts) -> tuple[list[str], list[str], list[str]]:
    """(pages reached, links that did not answer 200, English words with their page).
    A start page outside the user's scope may answer 404 (they have no link to it)."""
    seen, queue = set(starts), deque((url, True) for url in starts)
    reached, broken, english = [], [], []
    while queue and len(reached) < 60:
        url, is_start = queue.popleft()
        response = client.get(url, follow=True)
        if response.status_code != 200:
            if not (is_start and response.status_code in (403, 404)):
                broken.append(f"{url} → {response.status_code}")
            continue
        reached.append(url)
        page = _Page()
        page.feed(response.content.decode())
        words = set(WORD.findall(" ".join(page.text))) - ALLOWED_WORDS - _usernames()
        if words:
            english.append(f"{url}: {sorted(words)}")
        for link in page.links:
            path = link.split("#", 1)[0]
            followed = path.startswith(FOLLOWED) or path.endswith("/households/")
            if not followed or path.startswith(SKIPPED) or path in seen or ".xlsx" in path:
                continue
            seen.add(path)
            queue.append((path, False))
    return reached, broken, english


@pytest.mark.django_db
def test_every_demo_user_walks_the_area_and_household_pages_without_a_dead_link(
    demo_county, client
):
    found, reached = {}, {}
    for demo in generator.demo_users():
        client.force_login(User.objects.get(username=demo.username))
        pages, broken, english = _walk(client, _start(demo))
        reached[demo.username] = pages
        if broken or english:
            found[demo.username] = broken + english
    assert found == {}, "\n".join(f"{u}: {line}" for u, lines in found.items() for line in lines)
    assert f"/control/units/{COUNTY}/areas/" in reached["control"]
    assert f"/units/{GRID}/households/" in reached["grid_worker"]
    assert f"/units/{GRID}/households/" not in reached["town_jichuan"]


@pytest.mark.browser
def test_the_pages_fit_a_phone_and_a_desktop_for_every_demo_user(live_server, demo_county):
    """Each demo user's reachable pages of this work at 390×844 (nothing wider than the
    screen) and at 1280×900; screenshots of the phone pages in the screenshots folder."""
    client = Client()
    pages = {}
    for demo in generator.demo_users():
        client.force_login(User.objects.get(username=demo.username))
        pages[demo.username] = _walk(client, _start(demo))[0][:12]
    too_wide = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        # One browser context a size for all the users, each logged in on a clean slate (no
        # cookie, no stored draft): the context keeps the static files in its cache.
        for viewport in ({"width": 390, "height": 844}, {"width": 1280, "height": 900}):
            context = browser.new_context(viewport=viewport)
            page = context.new_page()
            for username, urls in pages.items():
                page.goto(f"{live_server.url}/accounts/login/")
                page.locator("#id_username").fill(username)
                page.locator("#id_password").fill(generator.DEMO_PASSWORD)
                page.locator("form.login button[type=submit]").click()
                page.wait_for_load_state()
                for url in urls:
                    page.goto(f"{live_server.url}{url}")
                    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
                        too_wide.append(f"{username} {viewport['width']} {url}")
                    if viewport["width"] == 390 and url.startswith(("/control/", "/units/")):
                        name = url.strip("/").replace("/", "-")
                        page.screenshot(path=SCREENSHOTS / f"walk-{username}-{name}.png")
                context.clear_cookies()
                page.evaluate("localStorage.clear()")
            context.close()
        browser.close()
    assert too_wide == []
