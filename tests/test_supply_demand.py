"""Demand and allocation: the doses still needed per site against its stock, days of
supply, shortages, the suggested allocation from the county store, first expiry first."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.services import unit_create
from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.registry.services import resident_create
from epidispatch.supply.selectors import allocation_suggest, site_demand
from epidispatch.supply.services import stock_receive
from epidispatch.vaccination.services import dose_record

from .dose_files import id_number
from .supply_fixtures import *  # noqa: F403 - the fixtures
from .supply_fixtures import PACK_CODES

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def county(tree, stocked, staff):
    """平襄镇 (the site's town): two adults to clear, one excused, one child, one due a second
    dose, one due a booster; 鸡川镇 (the other site's town): one adult to clear."""

    def person(name, grid, born, status=ResidentStatus.PRESENT):
        resident = resident_create(name=name, id_number=id_number(born), grid=grid)
        Resident.objects.filter(pk=resident.pk).update(status=status)
        return resident

    def give(resident, days_ago, pack):
        dose_record(
            resident=resident, product=stocked.product, given_on=TODAY - timedelta(days=days_ago),
            site=tree.site, by=staff, trace_code=PACK_CODES[pack],
        )  # fmt: skip

    person("待清零甲", tree.grid, date(1970, 1, 1))
    person("待清零乙", tree.sibling_grid, date(1971, 1, 1))
    person("外出", tree.grid, date(1972, 1, 1), ResidentStatus.AWAY)
    person("儿童", tree.grid, TODAY - timedelta(days=365 * 10))
    give(person("第二剂", tree.grid, date(1980, 1, 1)), 21, 0)
    booster = person("加强", tree.grid, date(1960, 1, 1))
    give(booster, 230, 1)
    give(booster, 200, 2)
    person("鸡川待清零", tree.other_grid, date(1975, 1, 1))
    return stocked


def test_each_site_weighs_its_towns_need_against_its_stock(tree, county, officer):
    site, other = site_demand(officer, tree.county)
    assert (site.site, other.site) == (tree.site, tree.other_site)
    assert (site.clearance, site.second_due, site.booster_due) == (2, 1, 1)
    assert (site.need, site.on_hand, site.used, site.shortfall) == (4, 3, 3, 1)
    assert site.days_of_supply == 14.0  # 3 on hand at 3 doses in 14 days
    assert site.use_first == county.lot and not site.expiring_soon
    assert (other.need, other.on_hand, other.shortfall, other.days_of_supply) == (1, 0, 1, None)


def test_the_suggested_allocation_covers_shortfalls_first_expiry_first(tree, county, officer):
    stock_receive(
        holder=tree.county, item=county.lot.item, lot_number="202104Z",
        expires_on=TODAY + timedelta(days=10), quantity=1, by=officer,
    )  # fmt: skip
    lines = [(a.site, a.lot.number, a.quantity) for a in allocation_suggest(officer, tree.county)]
    assert lines == [(tree.site, "202104Z", 1), (tree.other_site, "202105A", 1)]


def test_a_store_too_small_shares_in_proportion_to_the_shortfalls(tree, county, officer, staff):
    stock_receive(
        holder=tree.site, item=county.lot.item, lot_number="202105A",
        expires_on=county.lot.expires_on, quantity=1, by=staff,
    )  # fmt: skip
    # The site is covered now; the other site's town grows to 10 people to clear.
    for k in range(9):
        resident_create(
            name=f"鸡川{k}", id_number=id_number(date(1976, 1, 1 + k)), grid=tree.other_grid
        )
    [line] = allocation_suggest(officer, tree.county)
    assert (line.site, line.quantity) == (tree.other_site, 4)  # all the store holds


def test_the_demand_page_flags_the_short_sites_and_is_scoped(
    client, tree, county, officer, make_user
):
    client.force_login(officer)
    page = client.get("/supply/demand/").content.decode()
    assert f'data-site="{tree.other_site.code}" class="overdue" data-shortage="1"' in page
    assert 'data-list="allocation"' in page
    outsider = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    client.force_login(outsider)
    page = client.get("/supply/demand/").content.decode()
    assert tree.site.code not in page and 'data-list="allocation"' not in page
    assert client.get(f"/supply/demand/?unit={tree.town.code}").status_code == 404


def test_the_demand_page_costs_the_same_queries_at_two_sizes(
    client, tree, county, officer, django_assert_num_queries
):
    client.force_login(officer)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/supply/demand/").status_code == 200
    for n in range(3, 6):
        unit_create(
            code=f"62112197000{n}", name=f"接种点{n}", kind=UnitKind.SITE,
            parent_code=tree.other_town.code,
        )  # fmt: skip
    with django_assert_num_queries(len(small)):
        page = client.get("/supply/demand/").content.decode()
    assert page.count("data-site=") >= 5
