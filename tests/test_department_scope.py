"""A department (包抓) answers for the grids assigned to it: its lists, round and counts
cover those grids exactly as its dispatch figures do, and nothing else."""

import pytest
from django.urls import reverse

from epidispatch.accounts.models import Role
from epidispatch.dispatch.selectors import dashboard
from epidispatch.figures.rollups import rollups_recount
from epidispatch.orgunits.models import Responsibility
from epidispatch.registry.services import resident_create

from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(tree):
    """The department answers for 北关社区第1网格; one unvaccinated adult lives there and
    one in a grid it does not answer for."""
    Responsibility.objects.create(unit=tree.department, grid=tree.grid)
    mine = resident_create(name="包抓甲", id_number=id_number(1), grid=tree.grid)
    other = resident_create(name="别处乙", id_number=id_number(2), grid=tree.sibling_grid)
    rollups_recount()
    return mine, other


@pytest.fixture
def department_client(client, tree, make_user):
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.department))
    return client


def test_a_department_lists_the_residents_of_its_assigned_grids(department_client, tree, assigned):
    mine, other = assigned
    page = department_client.get(reverse("resident_list", args=[tree.department.code]))
    assert page.status_code == 200
    assert [r.pk for r in page.context["page"]] == [mine.pk]
    assert department_client.get(reverse("resident_detail", args=[mine.pk])).status_code == 200
    assert department_client.get(reverse("resident_detail", args=[other.pk])).status_code == 404


def test_a_departments_clearance_list_matches_its_figure(department_client, tree, assigned):
    mine, _other = assigned
    page = department_client.get(reverse("clearance", args=[tree.department.code]))
    assert [r.pk for r in page.context["page"]] == [mine.pk]
    figures = dashboard(page.wsgi_request.user, tree.department.code)
    assert figures["totals"]["to_clear"] == page.context["total"] == 1


def test_a_departments_round_lists_its_grids_and_their_people(department_client, tree, assigned):
    mine, _other = assigned
    home = department_client.get(reverse("fieldwork:home"))
    assert home.status_code == 302  # the one grid it answers for
    assert home.url == reverse("fieldwork:grid", args=[tree.grid.code])
    page = department_client.get(reverse("fieldwork:grid", args=[tree.department.code]))
    assert [r.pk for r in page.context["clearance"]] == [mine.pk]


def test_the_org_unit_page_counts_a_departments_grids_and_residents(
    department_client, tree, assigned
):
    page = department_client.get(reverse("unit_detail", args=[tree.department.code]))
    overview = page.context["overview"]
    assert (overview.residents, overview.grids) == (1, 1)
    assert [(row.unit.code, row.residents) for row in overview.children] == [(tree.grid.code, 1)]


def test_a_department_sees_no_grid_it_does_not_answer_for(department_client, tree, assigned):
    for code in (tree.sibling_grid.code, tree.village.code, tree.town.code):
        assert department_client.get(reverse("unit_detail", args=[code])).status_code == 404
        assert department_client.get(reverse("fieldwork:grid", args=[code])).status_code == 404


def test_a_department_official_starts_from_the_department(department_client, tree, assigned):
    page = department_client.get(reverse("unit_index"))
    assert page.status_code == 302
    assert page.url == reverse("unit_detail", args=[tree.department.code])
