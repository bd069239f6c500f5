"""The load view's inputs: each site's share of its catchment's due doses and 清零 list
(from the vaccination selectors), split between the sites of a town; a town without a
site falls to the county's own sites; every figure counts only the caller's units."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.services import unit_create
from epidispatch.sites.selectors import site_loads
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import residents


@pytest.fixture
def coronavac(db):
    return VaccineProduct.objects.get(code="coronavac")


def first_dose(resident, site, by, product, days_ago: int):
    return dose_record(
        resident=resident,
        product=product,
        given_on=timezone.localdate() - timedelta(days=days_ago),
        site=site,
        by=by,
    )


def loads(user, day=None):
    return {load.site.code: load for load in site_loads(user, day or timezone.localdate())}


def test_a_towns_clearance_list_and_due_doses_go_to_its_site(
    tree, dispatcher, coronavac, make_user
):
    staff = make_user(Role.SITE_STAFF, tree.site)
    people = residents(tree, 5)
    first_dose(people[0], tree.site, staff, coronavac, days_ago=25)  # due from day 21
    first_dose(people[1], tree.site, staff, coronavac, days_ago=10)  # not yet due
    residents(tree, 2, start=300, grid=tree.other_grid)
    figures = loads(dispatcher)
    assert (figures[tree.site.code].due_second, figures[tree.site.code].clearance_share) == (1, 3)
    assert (
        figures[tree.other_site.code].due_second,
        figures[tree.other_site.code].clearance_share,
    ) == (0, 2)
    later = loads(dispatcher, timezone.localdate() + timedelta(days=11))
    assert later[tree.site.code].due_second == 2


def test_two_sites_of_a_town_split_it_and_the_county_sites_serve_a_town_without_one(
    tree, dispatcher
):
    school = unit_create(
        code="621121970011",
        name="北关小学临时接种点",
        kind=UnitKind.SITE,
        parent_code=tree.town.code,
    )
    hospital = unit_create(
        code="621121970012",
        name="县人民医院接种点",
        kind=UnitKind.SITE,
        parent_code=tree.county.code,
    )
    lonely_town = unit_create(
        code="621121103000", name="榜罗镇", kind=UnitKind.TOWN, parent_code=tree.county.code
    )
    village = unit_create(
        code="621121103001", name="榜罗村", kind=UnitKind.VILLAGE, parent_code=lonely_town.code
    )
    grid = unit_create(
        code="621121103001001", name="榜罗村第1网格", kind=UnitKind.GRID, parent_code=village.code
    )
    residents(tree, 5)
    residents(tree, 4, start=500, grid=grid)
    figures = loads(dispatcher)
    assert figures[tree.site.code].clearance_share + figures[school.code].clearance_share == 5
    assert {figures[tree.site.code].clearance_share, figures[school.code].clearance_share} == {2, 3}
    assert figures[hospital.code].clearance_share == 4


def test_figures_count_only_the_callers_units(tree, dispatcher, make_user):
    residents(tree, 3)
    residents(tree, 2, start=300, grid=tree.other_grid)
    official = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    assert {code: load.clearance_share for code, load in loads(official).items()} == {
        tree.other_site.code: 2
    }
    assert loads(make_user(Role.DISPATCHER, tree.other_county)) == {}


def test_the_load_page_and_api_show_the_inputs(client, tree, dispatcher, make_user):
    residents(tree, 3)
    client.force_login(dispatcher)
    html = client.get(reverse("sites:load")).content.decode()
    section = html[html.index(f'data-site="{tree.site.code}"') :]
    assert 'data-figure="clearance_share">3<' in section
    assert "清零名单分摊" in html
    rows = {row["site"]: row for row in client.get("/api/v1/sites/load").json()}
    assert (rows[tree.site.code]["clearance_share"], rows[tree.site.code]["due_second"]) == (3, 0)
    client.force_login(make_user(Role.DISPATCHER, tree.other_county))
    assert client.get("/api/v1/sites/load").json() == []
