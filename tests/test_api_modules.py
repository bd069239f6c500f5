"""The API over the modules that had none (issue 28): residents (masked; unmasking is a
POST for a role that may unmask, audited first), the 清零 and due lists, the ledger, a
resident's lots, demand, quality figures, AEFI reports, daily targets and a site's slots
(the accountability record, and cross-town refusals of every operation, are in
test_api_cross_town.py). Lists are cursor-paged and read a fixed number of queries
whatever their length."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.audit.models import AuditAction, AuditEntry
from epidispatch.dispatch.services import target_issue
from epidispatch.registry.services import resident_create
from epidispatch.supply.models import StockMove
from epidispatch.supply.selectors import quality_report
from epidispatch.supply.services import aefi_report_file, stock_receive, supply_item_for_product
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record

from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    _record, token = api_token_create(user=user, name="modules test")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def official(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.town, username="pingxiang")


@pytest.fixture
def staff(tree, make_user):
    return make_user(Role.SITE_STAFF, tree.site, username="site-staff")


@pytest.fixture
def officer(tree, make_user):
    return make_user(Role.SUPPLY_OFFICER, tree.county, username="cdc")


def people(tree, count: int, start: int = 100, grid=None, birth="19900101"):
    return [
        resident_create(
            name=f"居民{n}", id_number=id_number(n, birth), phone=f"1391234{n:04d}",
            grid=grid or tree.grid,
        )
        for n in range(start, start + count)
    ]  # fmt: skip


def walk(client, url: str, headers: dict, limit: int) -> list[dict]:
    """Every item of a cursor-paged list, page by page."""
    items, cursor = [], 0
    while True:
        page = client.get(url, {"cursor": cursor, "limit": limit}, headers=headers).json()
        assert len(page["items"]) <= limit
        items += page["items"]
        if not page["has_more"]:
            return items
        assert page["next_cursor"] > cursor
        cursor = page["next_cursor"]


def test_residents_are_listed_masked_page_by_page_within_the_callers_units(tree, client, official):
    mine = people(tree, 5)
    people(tree, 2, start=200, grid=tree.other_grid)
    headers = bearer(official)
    items = walk(client, "/api/v1/registry/residents", headers, limit=2)
    assert [item["id"] for item in items] == [r.pk for r in mine]
    body = client.get("/api/v1/registry/residents", headers=headers).content.decode()
    assert id_number(100) not in body and "13912340100" not in body
    assert items[0]["id_number_masked"] == mine[0].id_number_masked
    assert "*" in items[0]["id_number_masked"] and "*" in items[0]["phone_masked"]
    assert items[0]["grid"] == tree.grid.code


def test_residents_filter_by_unit_status_and_exact_id_number(tree, client, official):
    _first, second = people(tree, 2)
    people(tree, 1, start=300, grid=tree.sibling_grid)
    headers = bearer(official)
    url = "/api/v1/registry/residents"
    under = client.get(url, {"under": tree.sibling_grid.code}, headers=headers).json()["items"]
    assert [item["grid"] for item in under] == [tree.sibling_grid.code]
    found = client.get(url, {"q": id_number(101)}, headers=headers).json()["items"]
    assert [item["id"] for item in found] == [second.pk]
    assert client.get(url, {"status": "refused"}, headers=headers).json()["items"] == []
    assert client.get(url, {"under": tree.other_town.code}, headers=headers).status_code == 404


def test_a_residents_detail_carries_the_doses(tree, client, official, staff):
    [resident] = people(tree, 1, birth="19500101")
    dose = dose_record(
        resident=resident,
        product=VaccineProduct.objects.get(code="coronavac"),
        given_on=timezone.localdate() - timedelta(days=1),
        site=tree.site,
        by=staff,
    )
    answer = client.get(f"/api/v1/registry/residents/{resident.pk}", headers=bearer(official))
    assert answer.status_code == 200
    assert answer.json()["doses"] == [
        {
            "id": dose.pk,
            "dose_number": 1,
            "product": "coronavac",
            "given_on": str(dose.given_on),
            "lot_number": "",
            "trace_code": "",
            "site": tree.site.code,
            "source": "site",
        }
    ]


def test_unmasking_is_written_to_the_trail_and_refused_to_a_role_that_may_not(
    tree, client, official, officer
):
    [resident] = people(tree, 1)
    url = f"/api/v1/registry/residents/{resident.pk}/unmask"
    answer = client.post(url, headers=bearer(official))
    assert answer.status_code == 200
    assert answer.json() == {"id": resident.pk, "id_number": id_number(100), "phone": "13912340100"}
    [entry] = AuditEntry.objects.all()
    assert (entry.user, entry.action) == (official, AuditAction.UNMASK_RESIDENT)
    assert entry.unit_path == tree.grid.path

    refused = client.post(url, headers=bearer(officer))  # the CDC sees residents masked only
    assert refused.status_code == 403
    assert AuditEntry.objects.count() == 1
    assert client.get(url, headers=bearer(official)).status_code == 405


def test_the_clearance_and_due_lists_match_the_pages_rules(tree, client, official, staff):
    unvaccinated, vaccinated = people(tree, 2)
    dose_record(
        resident=vaccinated,
        product=VaccineProduct.objects.get(code="coronavac"),
        given_on=timezone.localdate() - timedelta(days=60),
        site=tree.site,
        by=staff,
    )
    headers = bearer(official)
    base = f"/api/v1/vaccination/units/{tree.town.code}"
    clearance = client.get(f"{base}/clearance-list", headers=headers).json()["items"]
    assert [row["id"] for row in clearance] == [unvaccinated.pk]
    assert (
        client.get(f"{base}/clearance-list", {"reason": "none"}, headers=headers).json()["items"]
        == clearance
    )
    due = client.get(f"{base}/due", {"overdue": True}, headers=headers).json()["items"]
    assert [(row["resident"], row["overdue"], row["next_dose_number"]) for row in due] == [
        (vaccinated.pk, True, 2)
    ]


@pytest.fixture
def stocked_site(tree, officer, staff):
    """Lot 202105A received at the county store (10) and at the site (5), one dose given."""
    item = supply_item_for_product(VaccineProduct.objects.get(code="coronavac"))
    expiry = timezone.localdate() + timedelta(days=200)
    for holder, quantity in ((tree.county, 10), (tree.site, 5)):
        stock_receive(
            holder=holder, item=item, lot_number="202105A", expires_on=expiry,
            quantity=quantity, by=officer,
        )  # fmt: skip
    [resident] = people(tree, 1, birth="19500101")
    dose = dose_record(
        resident=resident, product=item.product, given_on=timezone.localdate(),
        site=tree.site, by=staff, lot_number="202105A",
    )  # fmt: skip
    return resident, dose


def test_the_ledger_is_paged_and_filtered_by_holder(tree, client, officer, stocked_site):
    headers = bearer(officer)
    moves = walk(client, "/api/v1/supply/moves", headers, limit=1)
    assert [(m["holder"], m["kind"], m["quantity"]) for m in moves] == [
        (tree.county.code, "receive", 10),
        (tree.site.code, "receive", 5),
        (tree.site.code, "administer", -1),
    ]
    site = client.get("/api/v1/supply/moves", {"holder": tree.site.code}, headers=headers).json()
    assert [m["kind"] for m in site["items"]] == ["receive", "administer"]


def test_a_residents_lots_and_the_quality_figures(tree, client, officer, stocked_site):
    resident, dose = stocked_site
    headers = bearer(officer)
    lots = client.get(f"/api/v1/supply/residents/{resident.pk}/lots", headers=headers).json()
    assert [(row["dose"], row["lot_number"], row["lot_known"]) for row in lots] == [
        (dose.pk, "202105A", True)
    ]
    today = timezone.localdate()
    quality = client.get(
        f"/api/v1/supply/units/{tree.town.code}/quality",
        {"from": str(today), "to": str(today)},
        headers=headers,
    ).json()
    assert quality == quality_report(tree.town, today, today)
    assert (quality["doses"], quality["missing_trace_code"]) == (1, 1)


def test_demand_lists_each_site_with_its_stock(tree, client, officer, stocked_site):
    rows = client.get(
        f"/api/v1/supply/units/{tree.town.code}/demand", headers=bearer(officer)
    ).json()
    assert [(row["site"], row["on_hand"], row["use_first"]) for row in rows] == [
        (tree.site.code, 4, "202105A")
    ]


def test_aefi_reports_are_listed_with_their_overdue_flags(tree, client, officer, stocked_site):
    _resident, dose = stocked_site
    late = aefi_report_file(
        dose=dose, severity="severe", description="高热", by=officer,
        discovered_at=timezone.now() - timedelta(hours=3),
    )  # fmt: skip
    headers = bearer(officer)
    [row] = client.get("/api/v1/supply/aefi-reports", headers=headers).json()["items"]
    assert (row["id"], row["report_overdue"], row["lot_number"]) == (late.pk, True, "202105A")
    detail = client.get(f"/api/v1/supply/aefi-reports/{late.pk}", headers=headers).json()
    assert detail["description"] == "高热" and detail["classification"] is None


def test_targets_and_slots(tree, client, official, make_user):
    from datetime import time

    from epidispatch.sites.models import SiteKind
    from epidispatch.sites.services import session_create

    dispatcher = make_user(Role.DISPATCHER, tree.county)
    today = timezone.localdate()
    target_issue(unit=tree.town, day=today, doses=120, by=dispatcher)
    headers = bearer(official)
    [row] = client.get("/api/v1/dispatch/targets", headers=headers).json()
    assert (row["unit"]["code"], row["doses"], row["added"]) == (tree.town.code, 120, 0)

    session_create(
        site=tree.site, kind=SiteKind.FIXED, day=today, opens_at=time(8), closes_at=time(10),
        capacity_per_hour=30, by=dispatcher,
    )  # fmt: skip
    slots = client.get(f"/api/v1/sites/{tree.site.code}/slots", headers=headers).json()
    assert [(s["starts_at"], s["capacity"], s["booked"]) for s in slots] == [
        ("08:00:00", 30, 0),
        ("09:00:00", 30, 0),
    ]


LISTS = [
    "/api/v1/registry/residents",
    "/api/v1/vaccination/units/{town}/clearance-list",
    "/api/v1/supply/moves",
]


@pytest.mark.parametrize("url", LISTS)
def test_a_paged_list_reads_a_fixed_number_of_queries(
    tree, client, make_user, officer, url, django_assert_num_queries, django_assert_max_num_queries
):
    dispatcher = make_user(Role.DISPATCHER, tree.county)
    headers = bearer(dispatcher)
    url = url.format(town=tree.town.code)
    item = supply_item_for_product(VaccineProduct.objects.get(code="coronavac"))

    def grow(start: int):
        people(tree, 3, start=start)
        for n in range(3):
            stock_receive(
                holder=tree.county, item=item, lot_number=f"L{start}{n}",
                expires_on=timezone.localdate() + timedelta(days=100), quantity=5, by=officer,
            )  # fmt: skip

    grow(100)
    client.get(url, headers=headers)
    with django_assert_max_num_queries(20) as small:
        client.get(url, headers=headers)
    grow(200)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    if "moves" in url:
        assert len(response.json()["items"]) == 6 == StockMove.objects.count()


def test_the_supply_officer_transfers_and_the_ledger_refuses_what_it_must(
    tree, client, officer, staff, stocked_site
):
    from epidispatch.supply.models import Lot

    lot = Lot.objects.get(number="202105A")
    headers = bearer(officer)
    url = "/api/v1/supply/transfers"
    body = {"source": tree.county.code, "target": tree.other_site.code, "lot": lot.pk}
    answer = client.post(url, {**body, "quantity": 4}, "application/json", headers=headers)
    assert answer.status_code == 201, answer.content
    moves = answer.json()["moves"]
    assert [(m["holder"], m["quantity"], m["kind"]) for m in moves] == [
        (tree.county.code, -4, "allocate"),
        (tree.other_site.code, 4, "allocate"),
    ]
    too_many = client.post(url, {**body, "quantity": 7}, "application/json", headers=headers)
    assert too_many.status_code == 422 and "6" in too_many.json()["detail"]
    by_staff = client.post(
        url,
        {"source": tree.site.code, "target": tree.county.code, "lot": lot.pk, "quantity": 1},
        "application/json",
        headers=bearer(staff),
    )
    assert by_staff.status_code in (403, 404)
    assert StockMove.objects.filter(kind="allocate").count() == 2


def test_site_staff_count_and_write_off_their_own_stock(tree, client, staff, stocked_site):
    from epidispatch.supply.models import Lot, StockBalance

    lot = Lot.objects.get(number="202105A")
    headers = bearer(staff)
    counted = client.post(
        "/api/v1/supply/stocktakes",
        {"holder": tree.site.code, "lot": lot.pk, "counted": 3, "note": "月末盘点"},
        "application/json",
        headers=headers,
    )
    assert counted.status_code == 201
    assert (counted.json()["move"]["kind"], counted.json()["move"]["quantity"]) == ("stocktake", -1)
    same = client.post(
        "/api/v1/supply/stocktakes",
        {"holder": tree.site.code, "lot": lot.pk, "counted": 3},
        "application/json",
        headers=headers,
    )
    assert same.json() == {"move": None}
    written_off = client.post(
        "/api/v1/supply/write-offs",
        {"holder": tree.site.code, "lot": lot.pk, "quantity": 1, "reason": "安瓿破损"},
        "application/json",
        headers=headers,
    )
    assert written_off.status_code == 201 and written_off.json()["note"] == "安瓿破损"
    assert StockBalance.objects.get(holder=tree.site, lot=lot).on_hand == 2
    store = client.post(
        "/api/v1/supply/write-offs",
        {"holder": tree.county.code, "lot": lot.pk, "quantity": 1, "reason": "破损"},
        "application/json",
        headers=headers,
    )
    assert store.status_code == 404  # the county store lies outside a site's units
