"""The derived flags behind the §8 figures equal a recount from the raw samples and tubes,
whatever sequence of collections and results a round goes through (hypothesis); and the
refusals speak Chinese."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from epidispatch.screening.models import Tube
from epidispatch.screening.selectors import round_coverage, round_coverage_recount
from epidispatch.screening.services import sample_collect, tube_result_record

from .screening_fixtures import *  # noqa: F403 - the fixtures
from .screening_fixtures import at, person

PEOPLE = [*range(1, 13), *range(21, 26), 41, 99]
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("collect"),
            st.sampled_from(PEOPLE),
            st.sampled_from(["A", "B", "C", "S1", "S2", "S3"]),
        ),
        st.tuples(
            st.just("result"),
            st.sampled_from(["A", "B", "C", "S1", "S2", "S3"]),
            st.sampled_from(["negative", "positive"]),
        ),
    ),
    max_size=30,
)
CAPACITY = {"A": 10, "B": 5, "C": 20, "S1": 1, "S2": 1, "S3": 1}


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps)
def test_the_figures_equal_a_recount_after_any_collections_and_results(
    county_round, officer, tree, steps
):
    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            for kind, first, second in steps:
                try:
                    with transaction.atomic():
                        if kind == "collect":
                            sample_collect(
                                screening_round=county_round,
                                barcode=second,
                                id_number=person(first),
                                name="旅客",
                                capacity=CAPACITY[second],
                                by=officer,
                                at=at(8),
                            )
                        else:
                            tube = Tube.objects.filter(round=county_round, barcode=first).first()
                            if tube is None:
                                continue
                            tube_result_record(
                                tube=tube, result=second, tested_at=at(14), lab="疾控", by=officer
                            )
                except ValidationError:
                    pass
            for unit in (tree.county, tree.town, tree.grid, tree.sibling_grid):
                assert round_coverage(county_round, unit) == round_coverage_recount(
                    county_round, unit
                )
            raise Rollback
    except Rollback:
        pass


def test_a_refusal_is_told_in_chinese(county_round, officer):
    sample_collect(screening_round=county_round, barcode="T1", id_number=person(1), by=officer)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        sample_collect(screening_round=county_round, barcode="T2", id_number=person(1), by=officer)
    assert refused.value.messages == ["本轮已在试管 T1 中采样。"]
