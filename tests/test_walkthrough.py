"""A walk through every page each demo user can reach by following links, as issue 19's
reviewers did: every link answers 200 (never a 403 or 404), and the Chinese UI carries
no English word."""

import re
from collections import deque
from html.parser import HTMLParser

import pytest

from epidispatch.accounts.models import User
from epidispatch.core import process
from epidispatch.demo import generator
from epidispatch.fieldwork.demo import load_fieldwork
from epidispatch.sites.demo import load_sites

pytestmark = pytest.mark.django_db

#: Pages per user; the demo's lists page through the same templates, so more adds little.
PAGES_PER_USER = 80
SKIPPED = ("/static/", "/admin/", "/accounts/logout/", "/i18n/", "/api/", "/field/visits/")
#: Words that are Chinese offices' own usage, or names, not untranslated UI.
ALLOWED_WORDS = {
    *("epidispatch", "Word", "Excel", "docx", "xlsx", "xls", "csv", "ID", "PDF", "JPEG", "PNG"),
    *("Vero", "CHO", "UTF", "GB", "MB", "IP"),  # vaccine names, encodings, sizes, IP address
}
WORD = re.compile(r"[A-Za-z]{2,}")


def _usernames() -> set[str]:
    """Login names are data (the audit trail names who logged in), not the UI's language;
    so is the operating-system account the trail names for what the demo loader wrote."""
    names = [*User.objects.values_list("username", flat=True), process.os_account()]
    return set(WORD.findall(" ".join(names)))


#: Elements without an end tag, which never close a hidden region.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Page(HTMLParser):
    """The links of a page and its visible text (scripts, styles, attributes and <code>
    left out; the audit trail's before → after cells are read like any text: they show
    each field by its label and each value as the pages say it)."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag not in VOID and (tag in ("script", "style", "code") or self._hidden):
            self._hidden += 1
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/") and "download" not in dict(attrs):
            self.links.append(href)

    def handle_endtag(self, tag):
        if self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


@pytest.fixture
def demo_county(db):
    generator.load_units()
    generator.load_users()
    generator.load_residents(150)
    generator.load_doses()
    generator.load_dispatch()
    load_fieldwork()
    load_sites()


def walk(client) -> tuple[list[str], list[str]]:
    """(pages that did not answer 200, English words seen with their page)."""
    seen, queue = {"/"}, deque(["/"])
    broken, english = [], []
    visited = 0
    while queue and visited < PAGES_PER_USER:
        url = queue.popleft()
        response = client.get(url, follow=True)
        visited += 1
        if response.status_code != 200:
            broken.append(f"{url} → {response.status_code}")
            continue
        if "text/html" not in response["Content-Type"]:
            continue
        page = _Page()
        page.feed(response.content.decode())
        words = set(WORD.findall(" ".join(page.text))) - ALLOWED_WORDS - _usernames()
        if words:
            english.append(f"{url}: {sorted(words)}")
        for link in page.links:
            path = link.split("#", 1)[0]
            if path.startswith(SKIPPED) or "format=xlsx" in path or path in seen:
                continue
            if "?" in path and path.split("?", 1)[0] in seen and "page=" in path:
                continue
            seen.add(path)
            queue.append(path)
    return broken, english


def test_every_demo_user_meets_no_dead_link_and_no_english_word(demo_county, client):
    found = {}
    for demo in generator.demo_users():
        client.force_login(generator.User.objects.get(username=demo.username))
        broken, english = walk(client)
        if broken or english:
            found[demo.username] = broken + english
    assert found == {}, "\n".join(
        f"{user}: {line}" for user, lines in found.items() for line in lines
    )
