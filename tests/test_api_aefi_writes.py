"""AEFI handling over the API (issue 28): a suspected reaction filed by the site that gave
the dose (or the CDC), reported, investigated, classified and closed — each step through
the report page's services, on the audit trail, by whom the page allows; a dose or report
outside the caller's units is a 404 and nothing is written."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.audit.models import Change
from epidispatch.registry.services import resident_create
from epidispatch.supply.models import AEFIReport
from epidispatch.supply.services import aefi_report_file
from epidispatch.vaccination.services import dose_record

from .dose_files import id_number
from .supply_fixtures import *  # noqa: F403 - the fixtures

pytestmark = pytest.mark.django_db

API = "/api/v1/supply/aefi-reports"


def bearer(user) -> dict:
    _record, token = api_token_create(user=user, name="aefi test")
    return {"Authorization": f"Bearer {token}"}


def post(client, url: str, user, body: dict | None = None):
    return client.post(url, body or {}, "application/json", headers=bearer(user))


@pytest.fixture
def dose(tree, stocked, staff):
    person = resident_create(name="受种者", id_number=id_number(date(1965, 5, 1)), grid=tree.grid)
    return dose_record(
        resident=person, product=stocked.product, given_on=timezone.localdate(),
        site=tree.site, by=staff,
    )  # fmt: skip


@pytest.fixture
def far_officer(tree, make_user):
    return make_user(Role.SUPPLY_OFFICER, tree.other_county, username="cdc-longxi")


def test_a_report_is_filed_reported_investigated_classified_and_closed(
    client, dose, staff, officer, tree
):
    filed = post(
        client, API, staff, {"dose": dose.pk, "severity": "severe", "description": "接种后高热"}
    )
    assert filed.status_code == 201, filed.content
    report = filed.json()
    assert (report["status"], report["dose"], report["description"]) == (
        "discovered", dose.pk, "接种后高热",
    )  # fmt: skip
    url = f"{API}/{report['id']}"

    assert post(client, f"{url}/report", staff).json()["status"] == "reported"
    assert post(client, f"{url}/investigation", staff).status_code == 403  # the CDC's step
    assert post(client, f"{url}/investigation", officer).json()["status"] == "investigating"
    body = {"classification": "common_reaction"}
    classified = post(client, f"{url}/classification", officer, body)
    assert classified.json()["classification"] == "common_reaction"
    closed = post(client, f"{url}/close", officer)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"

    trail = Change.objects.filter(content_type__model="aefireport", object_id=report["id"])
    assert trail.count() == 5
    assert set(trail.values_list("unit_path", flat=True)) == {tree.grid.path}
    assert trail.filter(actor=officer).count() == 3


def test_a_step_that_is_not_open_is_a_422(client, dose, staff, officer):
    report = aefi_report_file(
        dose=dose, severity="non_severe", description="发热", discovered_at=timezone.now(), by=staff
    )
    url = f"{API}/{report.pk}"
    assert post(client, f"{url}/close", officer).status_code == 422
    assert post(client, f"{url}/investigation", officer).status_code == 422
    assert post(client, f"{url}/report", staff).status_code == 200
    assert post(client, f"{url}/report", staff).status_code == 422


def test_filing_is_refused_for_a_future_or_earlier_discovery_and_for_other_roles(
    client, dose, staff, tree, make_user
):
    body = {"dose": dose.pk, "severity": "non_severe", "description": "发热"}
    later = (timezone.now() + timedelta(days=1)).isoformat()
    assert post(client, API, staff, {**body, "discovered_at": later}).status_code == 422
    earlier = (timezone.now() - timedelta(days=3)).isoformat()
    assert post(client, API, staff, {**body, "discovered_at": earlier}).status_code == 422
    assert post(client, API, staff, {**body, "description": "  "}).status_code == 422
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    assert post(client, API, official, body).status_code == 403
    assert not AEFIReport.objects.exists()


def test_another_countys_cdc_gets_404_and_writes_nothing(client, dose, staff, far_officer):
    body = {"dose": dose.pk, "severity": "non_severe", "description": "发热"}
    assert post(client, API, far_officer, body).status_code == 404
    report = aefi_report_file(
        dose=dose, severity="non_severe", description="发热", discovered_at=timezone.now(), by=staff
    )
    for step in ("report", "investigation", "close"):
        assert post(client, f"{API}/{report.pk}/{step}", far_officer).status_code == 404
    body = {"classification": "coincidental"}
    assert post(client, f"{API}/{report.pk}/classification", far_officer, body).status_code == 404
    report.refresh_from_db()
    assert (report.status, AEFIReport.objects.count()) == ("discovered", 1)
