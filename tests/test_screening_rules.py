"""The rules of a screening round (DESIGN.md §8, issue 22), through the services."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.screening.models import RoundTarget, Sample, Tube
from epidispatch.screening.selectors import (
    retest_list,
    round_coverage,
    round_coverage_recount,
)
from epidispatch.screening.services import (
    sample_collect,
    tube_result_record,
    tubes_receive,
    tubes_send,
)

from .screening_fixtures import *  # noqa: F403 - the fixtures
from .screening_fixtures import FIGURES, at, person, sample_the_fixture

pytestmark = pytest.mark.django_db


def _collect(screening_round, barcode, sequence, by, **options):
    return sample_collect(
        screening_round=screening_round,
        barcode=barcode,
        id_number=person(sequence),
        by=by,
        at=at(8),
        **options,
    )


def test_the_target_list_is_frozen_with_the_people_living_in_the_unit(county_round):
    assert county_round.target_size == 21
    targets = set(RoundTarget.objects.values_list("resident__name", flat=True))
    present = [*range(1, 13), *range(21, 26), *range(31, 35)]
    assert targets == {f"居民{sequence:02d}" for sequence in present}
    excluded = Resident.objects.filter(
        status__in=(ResidentStatus.AWAY, ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT)
    )
    assert not RoundTarget.objects.filter(resident__in=excluded).exists()


def test_a_resident_who_moves_away_after_the_round_starts_stays_on_the_target_list(
    county_round, population, tree
):
    Resident.objects.filter(pk=population[12].pk).update(
        status=ResidentStatus.MOVED_OUT, grid=tree.far_grid
    )
    figures = round_coverage(county_round, tree.county)
    assert (figures["target"], figures["not_sampled"]) == (21, 21)
    assert round_coverage(county_round, tree.grid)["target"] == 12


def test_a_tube_bound_past_its_capacity_refuses_the_extra_person(county_round, officer):
    for sequence in range(1, 6):
        _collect(county_round, "T5", sequence, officer, capacity=5)
    tube = Tube.objects.get(barcode="T5")
    assert (tube.members, tube.closed_at is not None) == (5, True)
    with pytest.raises(ValidationError, match="full"):
        _collect(county_round, "T5", 6, officer)
    assert Sample.objects.filter(tube=tube).count() == 5


def test_a_person_sampled_twice_in_a_round_is_refused(county_round, officer):
    _collect(county_round, "T1", 1, officer)
    with pytest.raises(ValidationError, match="T1"):
        _collect(county_round, "T2", 1, officer)
    with pytest.raises(ValidationError, match="already in tube T1"):
        _collect(county_round, "T1", 1, officer)
    assert Sample.objects.count() == 1


def test_a_single_tube_is_refused_to_someone_whose_pool_was_not_positive(county_round, officer):
    _collect(county_round, "T1", 1, officer)
    with pytest.raises(ValidationError, match="retest"):
        _collect(county_round, "S1", 1, officer, capacity=1)


def test_a_result_for_a_conflicting_second_report_keeps_the_stored_one(county_round, officer):
    _collect(county_round, "T1", 1, officer)
    tube = Tube.objects.get(barcode="T1")
    assert tube_result_record(
        tube=tube, result="negative", tested_at=at(14), lab="疾控", by=officer
    )
    assert not tube_result_record(
        tube=tube, result="negative", tested_at=at(14), lab="疾控", by=officer
    )
    with pytest.raises(ValidationError, match="stored result stays"):
        tube_result_record(tube=tube, result="positive", tested_at=at(15), lab="疾控", by=officer)
    assert Tube.objects.get(pk=tube.pk).result == "negative"


def test_a_result_before_the_tube_was_received_is_accepted_and_flagged(county_round, officer):
    _collect(county_round, "T1", 1, officer)
    _collect(county_round, "T2", 2, officer)
    tubes_send(
        screening_round=county_round, barcodes=["T1", "T2"], courier="王", by=officer, at=at(9)
    )
    tubes_receive(screening_round=county_round, barcodes=["T2"], by=officer, at=at(10))
    for barcode in ("T1", "T2"):
        tube = Tube.objects.get(barcode=barcode)
        tube_result_record(tube=tube, result="negative", tested_at=at(14), lab="疾控", by=officer)
    flagged = dict(Tube.objects.values_list("barcode", "result_before_receipt"))
    assert flagged == {"T1": True, "T2": False}


def test_a_positive_pool_puts_exactly_its_members_on_the_retest_list_until_their_single_results(
    county_round, officer, tree
):
    for sequence in range(1, 11):
        _collect(county_round, "P1", sequence, officer)
    _collect(county_round, "P2", 11, officer)
    for barcode, result in (("P1", "positive"), ("P2", "negative")):
        tube = Tube.objects.get(barcode=barcode)
        tube_result_record(tube=tube, result=result, tested_at=at(14), lab="疾控", by=officer)

    pending = retest_list(officer, county_round, tree.county)
    assert sorted(s.id_number_masked for s in pending) == sorted(
        Sample.objects.filter(tube__barcode="P1").values_list("id_number_masked", flat=True)
    )
    for sequence, result in ((1, "negative"), (2, "positive")):
        _collect(county_round, f"S{sequence}", sequence, officer, capacity=1)
        tube = Tube.objects.get(barcode=f"S{sequence}")
        tube_result_record(tube=tube, result=result, tested_at=at(18), lab="疾控", by=officer)
    assert retest_list(officer, county_round, tree.county).count() == 8
    positive = retest_list(officer, county_round, tree.county, pending=False)
    assert [s.resident_id for s in positive] == [
        Resident.objects.get(id_number_masked__endswith=person(2)[-2:], name="居民02").pk
    ]
    with pytest.raises(ValidationError):
        _collect(county_round, "S9", 1, officer, capacity=1)  # one retest per person


def test_the_figures_of_the_hand_computed_fixture(county_round, officer, tree):
    sample_the_fixture(county_round, officer)
    for area, expected in FIGURES.items():
        unit = getattr(tree, area)
        assert round_coverage(county_round, unit) == expected, area
        assert round_coverage_recount(county_round, unit) == expected, area


def test_a_collector_of_another_county_cannot_bind_or_report(county_round, far_officer, officer):
    with pytest.raises(PermissionDenied):
        _collect(county_round, "T1", 1, far_officer)
    _collect(county_round, "T1", 1, officer)
    tube = Tube.objects.get(barcode="T1")
    with pytest.raises(PermissionDenied):
        tube_result_record(tube=tube, result="negative", tested_at=at(14), lab="x", by=far_officer)


@pytest.mark.parametrize("barcode", ["", " ", "x" * 41])
def test_a_bad_barcode_is_refused_with_a_message(county_round, officer, barcode):
    with pytest.raises(ValidationError):
        _collect(county_round, barcode, 1, officer)
    assert not Tube.objects.exists()


def test_an_unregistered_traveller_needs_a_name_and_is_never_counted(county_round, officer, tree):
    with pytest.raises(ValidationError, match="name"):
        _collect(county_round, "T1", 99, officer)
    _collect(county_round, "T1", 99, officer, name="过路人")
    assert round_coverage(county_round, tree.county)["sampled"] == 0
    assert round_coverage(county_round, tree.county)["tubes"] == 0
