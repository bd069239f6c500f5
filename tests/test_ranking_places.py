"""Places of a ranking read as fair: units shown with the same rate share a place, and
a tie reaching into the bottom N is marked whole."""

import pytest
from django.utils import timezone

from epidispatch.dispatch.models import RankingGroup, RankingMeasure, Snapshot
from epidispatch.dispatch.services import _places, ranked_rate
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.services import unit_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def towns(tree):
    """Twelve towns of 通渭县 (the tree's two and ten more)."""
    extra = [
        unit_create(
            code=f"621121{110 + n:03d}000",
            name=f"镇{n}",
            kind=UnitKind.TOWN,
            parent_code=tree.county.code,
        )
        for n in range(10)
    ]
    return [tree.town, tree.other_town, *extra]


def places(towns, values: list[tuple[int, int]], settings, bottom_n=3):
    settings.EPIDISPATCH_BOTTOM_N = bottom_n
    snapshot = Snapshot.objects.create(day=timezone.localdate(), taken_at=timezone.now())
    rows = _places(
        snapshot,
        RankingGroup.TOWNS,
        RankingMeasure.COVERAGE,
        {town.pk: value for town, value in zip(towns, values, strict=True)},
    )
    by_unit = {row.unit_id: row for row in rows}
    return [(by_unit[town.pk].place, by_unit[town.pk].bottom) for town in towns]


def test_rates_that_show_the_same_share_a_place(towns, settings):
    # 71.9012% and 71.8987% both read 71.90%: one place, not 15th and 16th.
    values = [(719012, 1000000), (718987, 1000000)]
    assert places(towns[:2], values, settings, bottom_n=0) == [(1, False), (1, False)]


def test_the_rate_is_rounded_half_up_at_the_precision_shown():
    assert ranked_rate(71905, 100000) == 7191  # 71.905% → 71.91%
    assert ranked_rate(71904, 100000) == 7190


def test_a_tie_across_the_bottom_boundary_marks_every_tied_unit(towns, settings):
    # Two towns ahead, ten tied for 3rd at 0%: the bottom 3 reach into the tie.
    values = [(50, 100), (40, 100), *[(0, 100)] * 10]
    result = places(towns, values, settings)
    assert result[:2] == [(1, False), (2, False)]
    assert result[2:] == [(3, True)] * 10


def test_a_tie_above_the_boundary_is_not_marked(towns, settings):
    values = [(50, 100), (50, 100), *[(40 - n, 100) for n in range(10)]]
    result = places(towns, values, settings)
    assert result[:2] == [(1, False), (1, False)]
    assert [bottom for _place, bottom in result].count(True) == 3
