"""Training (加强接种人员培训): who passes a session is qualified for its post for its
valid months, which the roster rules read; a fail withdraws it; only the organiser's
planners record results, for staff of their own units."""

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.sites.models import Qualification, RosterEntry, StaffRole, TrainingAttendance
from epidispatch.sites.services import (
    add_months,
    roster_assign,
    training_result_record,
    training_session_create,
)

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import staff_member


def training(tree, by, held_on=date(2026, 1, 31), months=1, role=StaffRole.VACCINATOR):
    return training_session_create(
        unit=tree.county,
        title="新冠疫苗接种人员培训",
        role=role,
        held_on=held_on,
        valid_months=months,
        by=by,
    )


def post(staff, site, by, day, role=StaffRole.VACCINATOR):
    return roster_assign(
        staff=staff, site=site, role=role, day=day, starts_at=time(8), ends_at=time(12), by=by
    )


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 15), 12, date(2027, 11, 15)),
        (date(2026, 12, 1), 1, date(2027, 1, 1)),
    ],
)
def test_months_are_added_to_the_calendar(day, months, expected):
    assert add_months(day, months) == expected


def test_passing_a_training_qualifies_for_its_post_until_the_day_before_it_lapses(tree, dispatcher):
    nurse = staff_member(tree, dispatcher)
    session = training(tree, dispatcher)
    training_result_record(training=session, staff=nurse, passed=True, by=dispatcher)
    [qualification] = Qualification.objects.filter(staff=nurse)
    assert (qualification.passed_on, qualification.expires_on) == (
        date(2026, 1, 31),
        date(2026, 2, 27),
    )
    assert post(nurse, tree.site, dispatcher, date(2026, 2, 27)).staff == nurse
    with pytest.raises(ValidationError) as refused:
        post(nurse, tree.site, dispatcher, date(2026, 2, 28))
    assert refused.value.code == "unqualified"
    assert "没有有效的接种员培训合格证明" in refused.value.messages[0]


def test_a_training_does_not_qualify_before_it_was_held(tree, dispatcher):
    nurse = staff_member(tree, dispatcher)
    training_result_record(
        training=training(tree, dispatcher), staff=nurse, passed=True, by=dispatcher
    )
    with pytest.raises(ValidationError, match="培训合格证明"):
        post(nurse, tree.site, dispatcher, date(2026, 1, 30))


def test_attending_without_passing_qualifies_nobody(tree, dispatcher):
    nurse = staff_member(tree, dispatcher)
    training_result_record(
        training=training(tree, dispatcher), staff=nurse, passed=False, by=dispatcher
    )
    assert TrainingAttendance.objects.get().passed is False
    with pytest.raises(ValidationError):
        post(nurse, tree.site, dispatcher, date(2026, 2, 1))
    assert not RosterEntry.objects.exists()


def test_a_result_corrected_to_a_fail_withdraws_the_qualification_and_twice_changes_nothing(
    tree, dispatcher
):
    nurse = staff_member(tree, dispatcher)
    session = training(tree, dispatcher)
    for _ in range(2):
        training_result_record(training=session, staff=nurse, passed=True, by=dispatcher)
    assert (TrainingAttendance.objects.count(), Qualification.objects.count()) == (1, 1)
    training_result_record(training=session, staff=nurse, passed=False, by=dispatcher)
    assert (TrainingAttendance.objects.count(), Qualification.objects.count()) == (1, 0)


def test_a_doctors_training_does_not_qualify_a_vaccinator(tree, dispatcher):
    nurse = staff_member(tree, dispatcher)
    session = training(tree, dispatcher, role=StaffRole.OBSERVING_DOCTOR)
    training_result_record(training=session, staff=nurse, passed=True, by=dispatcher)
    post(nurse, tree.site, dispatcher, date(2026, 2, 1), role=StaffRole.OBSERVING_DOCTOR)
    with pytest.raises(ValidationError, match="接种员"):
        post(nurse, tree.other_site, dispatcher, date(2026, 2, 2))


def test_results_wait_until_the_training_is_held(tree, dispatcher):
    session = training(tree, dispatcher, held_on=timezone.localdate() + timedelta(days=1))
    with pytest.raises(ValidationError, match="培训举行后"):
        training_result_record(
            training=session, staff=staff_member(tree, dispatcher), passed=True, by=dispatcher
        )


def test_site_staff_cannot_record_results_for_another_sites_people_or_a_county_training(
    tree, dispatcher, site_staff
):
    other = staff_member(tree, dispatcher, name="王医生", unit=tree.other_site)
    own_training = training_session_create(
        unit=tree.site,
        title="本点培训",
        role=StaffRole.VACCINATOR,
        held_on=date(2026, 1, 1),
        by=site_staff,
    )
    with pytest.raises(PermissionDenied):
        training_result_record(training=own_training, staff=other, passed=True, by=site_staff)
    with pytest.raises(PermissionDenied):
        training_result_record(
            training=training(tree, dispatcher),
            staff=staff_member(tree, dispatcher),
            passed=True,
            by=site_staff,
        )
    assert not Qualification.objects.exists()


@pytest.mark.parametrize(("title", "months"), [("   ", 12), ("培训", 0), ("培训", 61)])
def test_a_training_needs_a_title_and_1_to_60_months(tree, dispatcher, title, months):
    with pytest.raises(ValidationError):
        training_session_create(
            unit=tree.county,
            title=title,
            role=StaffRole.VACCINATOR,
            held_on=date(2026, 1, 1),
            valid_months=months,
            by=dispatcher,
        )


def test_the_training_pages_create_a_session_and_record_a_pass(client, tree, dispatcher):
    nurse = staff_member(tree, dispatcher)
    client.force_login(dispatcher)
    response = client.post(
        reverse("sites:training_index"),
        {
            "unit": tree.county.code,
            "title": "接种人员培训第二期",
            "role": StaffRole.VACCINATOR,
            "held_on": "2026-11-20",
            "valid_months": "12",
        },
    )
    assert response.status_code == 302
    url = response["Location"]
    response = client.post(url, {"staff": nurse.pk, "passed": "1"})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "李护士" in html and 'data-result="passed"' in html
    assert Qualification.objects.get(staff=nurse).expires_on == date(2027, 11, 19)
    listing = client.get(reverse("sites:training_index")).content.decode()
    assert "接种人员培训第二期" in listing


def test_another_countys_dispatcher_sees_no_training_and_gets_404(
    client, tree, dispatcher, make_user
):
    session = training(tree, dispatcher)
    client.force_login(make_user(Role.DISPATCHER, tree.other_county))
    assert session.title not in client.get(reverse("sites:training_index")).content.decode()
    assert client.get(reverse("sites:training", args=[session.pk])).status_code == 404
    assert client.get("/api/v1/sites/training").json() == []


def test_a_leader_reads_trainings_but_may_not_add_one(client, tree, dispatcher, make_user):
    training(tree, dispatcher)
    client.force_login(make_user(Role.LEADER, tree.county))
    html = client.get(reverse("sites:training_index")).content.decode()
    assert "新冠疫苗接种人员培训" in html and "新增培训" not in html
    response = client.post(
        reverse("sites:training_index"),
        {"unit": tree.county.code, "title": "x", "role": "driver", "held_on": "2026-01-01"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("sessions", [1, 5])
def test_the_training_list_runs_a_fixed_number_of_queries(
    client, tree, dispatcher, django_assert_num_queries, sessions
):
    nurse = staff_member(tree, dispatcher)
    for n in range(sessions):
        session = training(tree, dispatcher, held_on=date(2026, 1, 1 + n))
        training_result_record(training=session, staff=nurse, passed=True, by=dispatcher)
    client.force_login(dispatcher)
    with django_assert_num_queries(5):
        assert client.get(reverse("sites:training_index")).status_code == 200
