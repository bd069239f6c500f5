"""AEFI reports (疑似预防接种异常反应) in supply: deadlines as data, overdue flags, the
CDC's steps, the per-lot rate per 10,000 doses, and who may see and do what."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.registry.services import resident_create
from epidispatch.supply import conf
from epidispatch.supply.models import AEFIDeadline, AEFIStatus
from epidispatch.supply.selectors import aefi_lot_rates, aefi_reports_visible_to
from epidispatch.supply.services import (
    aefi_classify,
    aefi_close,
    aefi_investigation_start,
    aefi_mark_reported,
    aefi_report_file,
)
from epidispatch.vaccination.services import dose_record

from .dose_files import id_number
from .supply_fixtures import *  # noqa: F403 - the fixtures
from .supply_fixtures import PACK_CODES

pytestmark = pytest.mark.django_db


@pytest.fixture
def doses(tree, stocked, staff):
    """Three doses of lot 202105A given at the site to people of the first grid."""
    given = []
    for k in range(3):
        person = resident_create(
            name=f"受种者{k}", id_number=id_number(date(1965, 5, 1 + k)), grid=tree.grid
        )
        given.append(
            dose_record(
                resident=person, product=stocked.product, given_on=timezone.localdate(),
                site=tree.site, by=staff, trace_code=PACK_CODES[k],
            )
        )  # fmt: skip
    return given


def file(dose, by, *, severity="non_severe", hours_ago=0, clustered=False):
    return aefi_report_file(
        dose=dose, severity=severity, description="接种后发热39℃", by=by, clustered=clustered,
        discovered_at=timezone.now() - timedelta(hours=hours_ago),
    )  # fmt: skip


def flags(user, report):
    row = aefi_reports_visible_to(user).get(pk=report.pk)
    return row.report_overdue, row.investigation_overdue


@pytest.mark.parametrize(
    ("severity", "clustered", "hours"),
    [("non_severe", False, 48), ("severe", False, 2), ("death", False, 2), ("non_severe", True, 2)],
)
def test_the_report_deadline_comes_from_the_deadline_table(
    doses, staff, severity, clustered, hours
):
    report = file(doses[0], staff, severity=severity, clustered=clustered)
    assert report.report_due_by - report.discovered_at == timedelta(hours=hours)


def test_a_changed_deadline_applies_to_the_next_report(doses, staff):
    AEFIDeadline.objects.filter(case="non_severe").update(report_hours=24)
    report = file(doses[0], staff)
    assert report.report_due_by - report.discovered_at == timedelta(hours=24)


def test_a_report_past_its_deadline_is_flagged(doses, staff, officer):
    late = file(doses[0], staff, severity="severe", hours_ago=3)
    in_time = file(doses[1], staff, severity="non_severe", hours_ago=3)
    assert flags(officer, late) == (True, False)
    assert flags(officer, in_time) == (False, False)
    aefi_mark_reported(report=late, by=staff)
    assert flags(officer, late) == (True, False)  # reported, but after its deadline


def test_an_investigation_not_started_in_48_hours_is_flagged(doses, staff, officer):
    report = aefi_mark_reported(report=file(doses[0], staff), by=staff)
    type(report).objects.filter(pk=report.pk).update(
        investigation_due_by=timezone.now() - timedelta(minutes=1)
    )
    assert flags(officer, report) == (False, True)


def test_the_cdc_investigates_classifies_and_closes_site_staff_only_report(doses, staff, officer):
    report = file(doses[0], staff)
    with pytest.raises(ValidationError):
        aefi_investigation_start(report=report, by=officer)  # not reported yet
    aefi_mark_reported(report=report, by=staff)
    with pytest.raises(PermissionDenied):
        aefi_investigation_start(report=report, by=staff)
    aefi_investigation_start(report=report, by=officer)
    with pytest.raises(ValidationError):
        aefi_classify(report=report, classification="unknown", by=officer)
    aefi_classify(report=report, classification="coincidental", by=officer)
    closed = aefi_close(report=report, by=officer)
    assert (closed.status, closed.classification) == (AEFIStatus.CLOSED, "coincidental")


def test_the_rate_per_10000_doses_of_a_lot_is_flagged_at_the_threshold(
    doses, staff, officer, monkeypatch
):
    file(doses[0], staff)
    [rate] = aefi_lot_rates(officer)
    assert (rate.lot_number, rate.reports, rate.doses, rate.per_10000) == ("202105A", 1, 3, 3333.3)
    assert rate.alert
    monkeypatch.setattr(conf, "AEFI_ALERT_PER_10000", 5000)
    assert not aefi_lot_rates(officer)[0].alert


def test_another_towns_official_neither_sees_nor_opens_a_report(
    client, tree, doses, staff, officer, make_user
):
    report = file(doses[0], staff, severity="severe", hours_ago=3)
    client.force_login(officer)
    page = client.get("/supply/aefi/").content.decode()
    assert f'data-report="{report.pk}"' in page and "data-overdue" in page
    assert "data-alert" in page
    outsider = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    client.force_login(outsider)
    assert f'data-report="{report.pk}"' not in client.get("/supply/aefi/").content.decode()
    assert client.get(f"/supply/aefi/{report.pk}/").status_code == 404


def test_the_cdc_page_steps_a_report_through(client, doses, staff, officer):
    report = file(doses[0], staff)
    client.force_login(staff)
    assert client.post(f"/supply/aefi/{report.pk}/", {"step": "reported"}).status_code == 302
    client.force_login(officer)
    client.post(f"/supply/aefi/{report.pk}/", {"step": "investigation"})
    client.post(f"/supply/aefi/{report.pk}/", {"step": "classify", "classification": "psychogenic"})
    report.refresh_from_db()
    assert (report.status, report.classification) == (AEFIStatus.CLASSIFIED, "psychogenic")


def test_the_aefi_page_costs_the_same_queries_at_two_sizes(
    client, doses, staff, officer, django_assert_num_queries
):
    file(doses[0], staff)
    client.force_login(officer)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/supply/aefi/").status_code == 200
    file(doses[1], staff, severity="severe")
    file(doses[2], staff, clustered=True)
    with django_assert_num_queries(len(small)):
        client.get("/supply/aefi/")
