"""A certificate from its page to a checkpoint phone with no network (Playwright, Chromium).

The QR code is taken from the certificate page as an image, decoded with zxing-cpp to
prove it carries the signed payload, and handed to the checkpoint page's photo input with
the network cut: the page's own reader and the browser's Ed25519 check must do the rest.
"""

import os

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from epidispatch.accounts.models import Role
from epidispatch.certificates.models import Certificate
from epidispatch.certificates.services import certificate_issue, certificate_revoke
from epidispatch.fieldwork.models import CheckpointRecord, CheckpointState
from epidispatch.registry.services import resident_create

from .certificate_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import give_dose
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


@pytest.fixture
def revoked_payload(tree, site_staff, coronavac, make_user):
    """李四's certificate, revoked (a dose entered on the wrong person, say)."""
    other = resident_create(name="李四", id_number=id_number(2), grid=tree.grid)
    give_dose(other, tree.site, site_staff, coronavac, days_ago=5)
    certificate = certificate_issue(resident=other)
    dispatcher = make_user(Role.DISPATCHER, tree.county)
    certificate_revoke(certificate=certificate, by=dispatcher, reason="录错人")
    return certificate.payload


def test_a_certificate_qr_verifies_on_the_checkpoint_phone_with_the_network_cut(
    browser, live_server, tree, vaccinated, worker, revoked_payload, tmp_path
):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(worker.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The grid worker signs 张三's certificate and the phone shows its QR code.
    page.goto(f"{live_server.url}/residents/{vaccinated.pk}/")
    page.get_by_role("link", name="Vaccination certificate").click()
    page.get_by_role("button", name="Issue the certificate").click()
    qr_image = tmp_path / "certificate-qr.png"
    page.locator("[data-qr]").screenshot(path=qr_image)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "certificate-phone.png", full_page=True)
    (decoded,) = zxingcpp.read_barcodes(Image.open(qr_image))
    assert decoded.text == Certificate.objects.get(resident=vaccinated).payload

    # At the checkpoint: the page loads, then the network goes.
    page.goto(f"{live_server.url}/certificates/check/")
    expect(page.locator("[data-checkpoint]")).to_have_attribute("data-ready", "true")
    context.set_offline(True)
    context.route("**/*", lambda route: route.abort())

    page.locator("[data-photo]").set_input_files(qr_image)
    result = page.locator("[data-result]")
    expect(result).to_have_attribute("data-state", "vaccinated")
    expect(result.locator("[data-verdict]")).to_have_text("Vaccinated: primary series complete")
    expect(result.locator("[data-name]")).to_have_text("张三")
    expect(result.locator("[data-id]")).to_have_text(vaccinated.id_number_masked)
    expect(result.locator("[data-doses] li")).to_have_count(2)
    expect(page.locator("[data-record-form]")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=SCREENSHOTS / "checkpoint-valid-phone.png", full_page=True)

    prefix, key_id, body, signature = decoded.text.split(".")
    page.get_by_label("Or paste the code's text").fill(
        f"{prefix}.{key_id}.{body[:-3]}AAA.{signature}"
    )
    page.get_by_role("button", name="Check", exact=True).click()
    expect(result).to_have_attribute("data-state", "invalid")
    expect(result).to_have_attribute("data-reason", "tampered")
    expect(result.locator("[data-facts]")).to_be_hidden()

    # A revoked certificate: one tap registers the person, kept on the phone while offline.
    page.get_by_label("Or paste the code's text").fill(revoked_payload)
    page.get_by_role("button", name="Check", exact=True).click()
    expect(result).to_have_attribute("data-state", "revoked")
    expect(result.locator("[data-name]")).to_have_text("李四")
    page.get_by_label("Place").fill("县汽车站")
    page.get_by_role("button", name="Register at the checkpoint (二码联查)").click()
    expect(page.locator("[data-record-status]")).to_have_attribute("data-ok", "kept")
    page.screenshot(path=SCREENSHOTS / "checkpoint-revoked-phone.png", full_page=True)
    assert not CheckpointRecord.objects.exists()

    context.unroute("**/*")
    context.set_offline(False)
    page.wait_for_function(
        "() => localStorage.getItem('epidispatch:checkpoint:pending') === '[]'", timeout=10000
    )
    record = CheckpointRecord.objects.get()
    assert (record.name, record.place, record.state) == ("李四", "县汽车站", CheckpointState.OPEN)
    assert record.seen_at <= timezone.now()
    context.close()
