"""Supply pages and API: what each user sees, the queries a list costs at two sizes, and
refusals across scopes (another town's site, another county's stock)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.demo import generator
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.services import resident_create
from epidispatch.supply.demo import load_supply
from epidispatch.supply.models import Package, StockBalance
from epidispatch.supply.services import stock_receive
from epidispatch.vaccination.services import dose_record

from .dose_files import id_number
from .supply_fixtures import *  # noqa: F403 - the fixtures
from .supply_fixtures import PACK_CODES

pytestmark = pytest.mark.django_db


def receive_lots(tree, officer, stocked, count: int) -> None:
    for n in range(count):
        for holder in (tree.county, tree.site, tree.other_site):
            stock_receive(
                holder=holder, item=stocked.lot.item, lot_number=f"X{n}",
                expires_on=timezone.localdate() + timedelta(days=30 + n), quantity=5, by=officer,
            )  # fmt: skip


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/supply/", "/api/v1/supply/stock"])
def test_the_stock_list_costs_the_same_queries_at_two_sizes(
    client, tree, stocked, officer, url, django_assert_num_queries
):
    client.force_login(officer)
    small = queries(client, url)
    receive_lots(tree, officer, stocked, 6)
    with django_assert_num_queries(small):
        client.get(url)


def test_the_recall_page_costs_the_same_queries_at_two_sizes(client, tree, stocked, officer, staff):

    def vaccinate(n):
        for k in range(n):
            person = resident_create(
                name=f"人{k}", id_number=id_number(date(1970, 1, 1 + k)), grid=tree.grid
            )
            dose_record(
                resident=person, product=stocked.product, given_on=timezone.localdate(),
                site=tree.site, by=staff, trace_code=PACK_CODES[k + vaccinate.used],
            )  # fmt: skip
        vaccinate.used += n

    vaccinate.used = 0
    client.force_login(officer)
    vaccinate(1)
    url = f"/supply/lots/{stocked.lot.pk}/"
    small = queries(client, url)
    vaccinate(4)
    assert queries(client, url) == small
    assert client.get(url).content.decode().count("data-resident=") == 5


def test_site_staff_cannot_scan_at_another_site(client, tree, stocked, staff):
    client.force_login(staff)
    own = client.get(f"/supply/sites/{tree.site.code}/scan/", {"code": PACK_CODES[0]})
    assert own.status_code == 200 and own.json()["lot_number"] == "202105A"
    assert client.get(f"/supply/sites/{tree.other_site.code}/scan/").status_code == 404


def test_a_scan_answers_why_a_pack_is_refused_never_a_500(client, tree, stocked, staff):
    client.force_login(staff)
    for code in ["", "x" * 5000, "8123456\x00", "(01)1", "8123456000000000000"]:
        response = client.get(f"/supply/sites/{tree.site.code}/scan/", {"code": code})
        assert response.status_code == 400
        assert response.json()["error"]


def test_another_towns_official_sees_neither_the_stock_nor_the_people_of_a_lot(
    client, tree, stocked, make_user, staff
):
    person = resident_create(name="甲", id_number=id_number(date(1960, 2, 2)), grid=tree.grid)
    dose_record(
        resident=person, product=stocked.product, given_on=timezone.localdate(), site=tree.site,
        by=staff, trace_code=PACK_CODES[0],
    )  # fmt: skip
    outsider = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    client.force_login(outsider)
    page = client.get(f"/supply/lots/{stocked.lot.pk}/").content.decode()
    assert "甲" not in page and tree.site.name not in page
    assert client.get("/api/v1/supply/stock").json() == []
    trace = client.get("/api/v1/supply/lots/202105A/trace").json()
    assert (trace["doses"], trace["sites"], trace["on_hand"]) == (0, [], 0)
    far = make_user(Role.SUPPLY_OFFICER, tree.other_county)
    client.force_login(far)
    assert client.get("/api/v1/supply/lots/202105A/trace").json()["received"] == 0
    assert client.post(
        "/supply/",
        {"transfer": "1", "transfer-source": tree.site.pk, "transfer-target": tree.other_site.pk,
         "transfer-lot": stocked.lot.pk, "transfer-quantity": 1},
    ).status_code == 200  # fmt: skip
    balances = StockBalance.objects.filter(lot=stocked.lot)
    assert dict(balances.values_list("holder__code", "on_hand")) == {
        tree.county.code: 4,
        tree.site.code: 5,
    }


def test_the_supply_officer_sees_every_store_and_site_of_the_county(client, tree, stocked, officer):
    client.force_login(officer)
    rows = client.get("/api/v1/supply/stock").json()
    assert {(row["holder"], row["on_hand"]) for row in rows} == {
        (tree.county.code, 4),
        (tree.site.code, 6),
    }


def test_the_demo_county_has_stock_to_scan_and_loading_again_adds_nothing():
    generator.load_units()
    generator.load_users()
    assert load_supply() > 0
    assert load_supply() == 0
    staff_site = OrgUnit.objects.get(code="621121970003")
    assert StockBalance.objects.get(holder=staff_site, lot__number="202108C015").on_hand == 60
    assert Package.objects.filter(lot__number="202108C015").count() == 200
