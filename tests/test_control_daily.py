"""Daily management of people under measures: check-ins, tests, release, transfer."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from epidispatch.audit.models import AuditEntry
from epidispatch.control.models import HealthCheck
from epidispatch.control.policy import required_test_days
from epidispatch.control.selectors import persons_under_measures
from epidispatch.control.services import (
    case_release,
    case_test_record,
    case_transfer,
    health_check_record,
    key_person_unmask,
)
from epidispatch.control.signals import test_result_reported

from .control_fixtures import *  # noqa: F403 - the fixtures
from .control_fixtures import register

pytestmark = pytest.mark.django_db
REFERENCE = date(2022, 7, 1)  # 第九版 密接: 07-02…07-08 centralized, 07-09…07-11 monitoring


@pytest.fixture
def case(tree, policies):
    return register(sequence=1, grid=tree.grid, reference=REFERENCE, name="张三")


def test_release_without_the_required_negative_tests_is_refused_saying_what_is_missing(
    case, worker
):
    for day in required_test_days(case.plan)[:-2]:
        case_test_record(case=case, day=day, result="negative", by=worker)
    with pytest.raises(ValidationError) as refusal:
        case_release(case=case, on=date(2022, 7, 11), by=worker)
    assert "07-08" in refusal.value.messages[0] and "07-11" in refusal.value.messages[0]
    case.refresh_from_db()
    assert case.released_on is None


def test_release_before_the_last_phase_ends_is_refused(case, worker):
    for day in required_test_days(case.plan)[:-1]:
        case_test_record(case=case, day=day, result="negative", by=worker)
    with pytest.raises(ValidationError, match="2022-07-11"):
        case_release(case=case, on=date(2022, 7, 10), by=worker)


def test_release_after_the_last_phase_with_every_test_negative_is_audited(case, worker):
    for day in required_test_days(case.plan):
        case_test_record(case=case, day=day, result="negative", by=worker)
    case_release(case=case, on=date(2022, 7, 11), by=worker)
    case.refresh_from_db()
    assert case.released_on == date(2022, 7, 11) and case.released_by == worker
    assert AuditEntry.objects.filter(action="release_control_case", user=worker).count() == 1
    with pytest.raises(ValidationError):
        case_release(case=case, on=date(2022, 7, 12), by=worker)


def test_a_positive_test_blocks_release(case, worker):
    for day in required_test_days(case.plan):
        case_test_record(
            case=case, day=day, result="positive" if day.day == 4 else "negative", by=worker
        )
    with pytest.raises(ValidationError, match="07-04"):
        case_release(case=case, on=date(2022, 7, 12), by=worker)


def test_a_different_result_for_a_day_already_reported_is_refused(case, worker):
    case_test_record(case=case, day=date(2022, 7, 2), result="negative", by=worker)
    with pytest.raises(ValidationError):
        case_test_record(case=case, day=date(2022, 7, 2), result="positive", by=worker)


def test_one_check_in_a_day_within_the_measures_and_a_plausible_temperature(case, worker):
    health_check_record(case=case, day=date(2022, 7, 2), temperature=Decimal("36.6"), by=worker)
    for day, temperature in [
        (date(2022, 7, 2), Decimal("36.6")),  # twice
        (date(2022, 7, 1), Decimal("36.6")),  # before the measures
        (date(2022, 7, 12), Decimal("36.6")),  # after them
        (date(2022, 7, 3), Decimal("3.7")),  # a typing error
    ]:
        with pytest.raises(ValidationError):
            health_check_record(case=case, day=day, temperature=temperature, by=worker)
    assert HealthCheck.objects.count() == 1


def test_a_worker_cannot_see_or_touch_key_persons_of_another_grid(case, far_worker, worker):
    assert persons_under_measures(far_worker, case.grid, date(2022, 7, 3)) == []
    assert [row.case for row in persons_under_measures(worker, case.grid, date(2022, 7, 3))] == [
        case
    ]
    with pytest.raises(PermissionDenied):
        health_check_record(
            case=case, day=date(2022, 7, 3), temperature=Decimal("36.5"), by=far_worker
        )
    with pytest.raises(PermissionDenied):
        key_person_unmask(user=far_worker, person=case.person)


def test_the_worker_list_says_what_is_due_today(case, worker):
    [row] = persons_under_measures(worker, case.grid, date(2022, 7, 8))
    assert (row.measure, row.phase_day, row.test_due, row.checked_in) == (
        "centralized_isolation", 7, True, False)  # fmt: skip
    [row] = persons_under_measures(worker, case.grid, date(2022, 7, 9))
    assert (row.measure, row.phase_day, row.test_due) == ("home_monitoring", 1, False)


def test_a_transfer_records_the_place_and_a_case_already_centralized_is_not_transferred(
    case, worker
):
    with pytest.raises(ValidationError):
        case_transfer(case=case, on=date(2022, 7, 3), place="县隔离酒店", by=worker)
    case_transfer(case=case, on=date(2022, 7, 9), place="县隔离酒店", by=worker)
    [row] = persons_under_measures(worker, case.grid, date(2022, 7, 10))
    assert row.measure == "centralized_isolation" and row.case.isolation_place == "县隔离酒店"


def test_unmasking_a_key_person_is_audited(case, worker):
    number, _phone = key_person_unmask(user=worker, person=case.person)
    assert len(number) == 18
    assert AuditEntry.objects.get(action="unmask_key_person").user == worker


def test_a_result_another_module_reports_lands_on_the_persons_case_that_day(case, worker):
    digest = case.person.id_number_digest
    for day in required_test_days(case.plan):
        test_result_reported.send(
            sender=None, id_number_digest=digest, day=day, result="negative", source="screening"
        )
    test_result_reported.send(
        sender=None, id_number_digest=digest, day=date(2022, 8, 1), result="positive"
    )
    assert case.tests.count() == 6 and set(case.tests.values_list("source", flat=True)) == {
        "screening"}  # fmt: skip
    case_release(case=case, on=date(2022, 7, 11), by=worker)
