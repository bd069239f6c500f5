"""The 入户核查 entry: a town's grids grouped by village, each with the people it still
has to clear, instead of a flat list of every grid."""

from datetime import date

import pytest
from django.urls import reverse

from epidispatch.accounts.models import Role
from epidispatch.registry.services import resident_create

from .dose_files import id_number

pytestmark = pytest.mark.django_db


def test_a_towns_grids_are_grouped_by_village_with_what_is_left_to_clear(tree, make_user, client):
    for born in (date(1970, 1, 1), date(1971, 1, 1)):
        resident_create(name="甲", id_number=id_number(born), grid=tree.grid)
    resident_create(name="幼", id_number=id_number(date(2024, 1, 1)), grid=tree.sibling_grid)
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
    response = client.get(reverse("fieldwork:home"))
    assert response.status_code == 200
    villages = [
        (village.code, [(grid.code, count) for grid, count in grids], pending)
        for village, grids, pending in response.context["villages"]
    ]
    assert villages == [
        (tree.village.code, [(tree.grid.code, 2), (tree.sibling_grid.code, 0)], 2),
    ]
    assert 'data-pending="2"' in response.content.decode()
