"""60+ follow-up: a dose recorded at a site for a resident aged 60 or over on the day of
the dose opens a 3-day observation follow-up for the grid's workers; an outcome can
escalate to an adverse-reaction report with its deadline."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from epidispatch.core.dates import add_years
from epidispatch.fieldwork.models import FollowUp, FollowUpOutcome
from epidispatch.fieldwork.selectors import follow_ups_open
from epidispatch.fieldwork.services import follow_up_complete
from epidispatch.registry.services import resident_create
from epidispatch.supply.models import AEFIReport

from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import give_dose
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


def resident_born(tree, birth, sequence=1):
    return resident_create(
        name="老张", id_number=id_number(sequence, birth=f"{birth:%Y%m%d}"), grid=tree.grid
    )


def test_a_dose_for_someone_of_60_opens_a_follow_up_for_the_grid(
    tree, site_staff, coronavac, worker, sibling_worker, client
):
    today = timezone.localdate()
    person = resident_born(tree, add_years(today, -60))
    dose = give_dose(person, tree.site, site_staff, coronavac)
    follow_up = FollowUp.objects.get()
    assert (follow_up.dose, follow_up.grid, follow_up.due_by) == (
        dose,
        tree.grid,
        today + timedelta(days=3),
    )
    assert list(follow_ups_open(worker, tree.grid)) == [follow_up]
    assert list(follow_ups_open(sibling_worker, tree.village)) == []
    client.force_login(worker)
    assert (
        f'data-follow-up="{follow_up.pk}"'
        in client.get(f"/field/grids/{tree.grid.code}/").content.decode()
    )


def test_a_dose_the_day_before_the_60th_birthday_opens_none(tree, site_staff, coronavac):
    today = timezone.localdate()
    person = resident_born(tree, add_years(today, -60) + timedelta(days=1))
    give_dose(person, tree.site, site_staff, coronavac)
    assert not FollowUp.objects.exists()


def test_age_is_taken_on_the_day_of_the_dose(tree, site_staff, coronavac):
    """Turned 60 yesterday, vaccinated two days ago: 59 on the dose day."""
    today = timezone.localdate()
    person = resident_born(tree, add_years(today, -60) - timedelta(days=1))
    give_dose(person, tree.site, site_staff, coronavac, days_ago=2)
    assert not FollowUp.objects.exists()


@pytest.fixture
def follow_up(tree, site_staff, coronavac):
    person = resident_born(tree, add_years(timezone.localdate(), -72))
    give_dose(person, tree.site, site_staff, coronavac)
    return FollowUp.objects.get()


def test_a_well_outcome_closes_the_follow_up(tree, follow_up, worker):
    follow_up_complete(follow_up=follow_up, outcome=FollowUpOutcome.WELL, by=worker)
    assert not follow_ups_open(worker, tree.grid).exists()
    assert not AEFIReport.objects.exists()
    with pytest.raises(ValidationError):
        follow_up_complete(follow_up=follow_up, outcome=FollowUpOutcome.WELL, by=worker)


def test_a_suspected_reaction_escalates_to_a_report_with_its_deadline(follow_up, worker, client):
    client.force_login(worker)
    response = client.post(
        f"/field/follow-ups/{follow_up.pk}/",
        {"outcome": "suspected_adverse", "severity": "severe", "description": "高热39.5℃，皮疹"},
    )
    assert response.status_code == 302
    report = AEFIReport.objects.get()
    assert report.dose == follow_up.dose
    assert report.report_due_by - report.discovered_at == timedelta(hours=2)
    assert report.follow_up_id == follow_up.pk


def test_an_escalation_needs_severity_and_description(follow_up, worker):
    with pytest.raises(ValidationError):
        follow_up_complete(
            follow_up=follow_up, outcome=FollowUpOutcome.SUSPECTED_ADVERSE, by=worker
        )
    assert not AEFIReport.objects.exists()
    assert FollowUp.objects.get().done_at is None


def test_others_cannot_record_a_follow_up(follow_up, sibling_worker, leader, client):
    client.force_login(sibling_worker)
    assert client.get(f"/field/follow-ups/{follow_up.pk}/").status_code == 404
    client.force_login(leader)
    assert client.post(f"/field/follow-ups/{follow_up.pk}/", {"outcome": "well"}).status_code == 403
    with pytest.raises(PermissionDenied):
        follow_up_complete(follow_up=follow_up, outcome=FollowUpOutcome.WELL, by=leader)
