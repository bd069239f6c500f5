"""A positive pooled tube proposes its members as contacts of a case (issue 24 through
screening's answer to control's hook), end to end: tubes collected and reported in
screening, the case recorded in control."""

from datetime import timedelta

import pytest

from epidispatch.accounts.models import Role
from epidispatch.control.services import key_person_resolve, positive_record
from epidispatch.core import protection
from epidispatch.screening.models import Tube
from epidispatch.screening.services import sample_collect, tube_result_record

from .screening_fixtures import *  # noqa: F403 - the fixtures
from .screening_fixtures import DAY, TRAVELLERS, at, person

pytestmark = pytest.mark.django_db


def _pool(screening_round, barcode, sequences, result, by):
    for sequence in sequences:
        sample_collect(
            screening_round=screening_round,
            barcode=barcode,
            id_number=person(sequence),
            name=f"旅客{sequence}",
            by=by,
            at=at(8),
        )
    tube = Tube.objects.get(barcode=barcode)
    tube_result_record(tube=tube, result=result, tested_at=at(14), lab="疾控", by=by)


def _case(tree, make_user, sequence, found_on=DAY):
    officer = make_user(Role.CONTROL_OFFICER, tree.county)
    case_person = key_person_resolve(name="病例", id_number=person(sequence), grid=tree.grid)
    return positive_record(person=case_person, found_on=found_on, trajectory=[], by=officer)


def test_the_resident_members_of_the_positive_pool_are_proposed_and_nobody_else(
    county_round, officer, tree, make_user
):
    _pool(county_round, "P1", [1, 2, 3, TRAVELLERS[0]], "positive", officer)
    _pool(county_round, "P2", [4, 5], "negative", officer)

    positive = _case(tree, make_user, 1)

    proposed = positive.candidates.filter(reason="pooled_tube")
    assert set(proposed.values_list("id_number_digest", flat=True)) == {
        protection.lookup_digest(person(n)) for n in (2, 3)
    }
    assert set(proposed.values_list("exposed_on", flat=True)) == {DAY}


def test_a_negative_pool_or_a_pool_older_than_the_lookback_proposes_nobody(
    county_round, officer, tree, make_user
):
    _pool(county_round, "P2", [4, 5], "negative", officer)
    _pool(county_round, "P3", [6, 7], "positive", officer)

    assert not _case(tree, make_user, 4).candidates.filter(reason="pooled_tube").exists()
    late = _case(tree, make_user, 6, found_on=DAY + timedelta(days=15))
    assert not late.candidates.filter(reason="pooled_tube").exists()
