"""Doses through the API (issue 28): the site's staff record one, the site's staff and the
dispatchers over the resident correct or delete one, with a reason and the version they
read (409 when it is stale). The same services as the pages: the same rules, audit
entries, live figures and stock. A lot number or trace code corrected (page and API) goes
through the pack checks of the site's table and moves the dose's stock to its lot."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.audit.models import AuditAction, AuditEntry, Change
from epidispatch.registry.services import resident_create
from epidispatch.supply.models import MoveKind, StockBalance, StockMove
from epidispatch.vaccination.models import Dose, VaccinationStatus, VaccineProduct
from epidispatch.vaccination.services import dose_record

from .supply_fixtures import *  # noqa: F403 - the fixtures
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
URL = "/api/v1/vaccination"


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {api_token_create(user=user, name='doses')[1]}"}


@pytest.fixture
def person(tree):
    return resident_create(name="牛建国", id_number=id_number(1, "19580402"), grid=tree.grid)


@pytest.fixture
def neighbour(tree):
    return resident_create(name="漆秀兰", id_number=id_number(2, "19620709"), grid=tree.grid)


@pytest.fixture
def coronavac(db):
    return VaccineProduct.objects.get(code="coronavac")


def give(resident, site, by, product, days_ago, **pack):
    return dose_record(
        resident=resident,
        product=product,
        given_on=TODAY() - timedelta(days=days_ago),
        site=site,
        by=by,
        **pack,
    )


def town_doses(client, tree, headers) -> int:
    dashboard = client.get(f"/api/v1/dispatch/units/{tree.town.code}/dashboard", headers=headers)
    return dashboard.json()["totals"]["doses"]


def test_the_sites_staff_record_a_dose_and_the_live_figures_move(
    tree, client, make_user, staff, person
):
    official = bearer(make_user(Role.TOWN_OFFICIAL, tree.town))
    before = town_doses(client, tree, official)
    response = client.post(
        f"{URL}/sites/{tree.site.code}/doses",
        {"id_number": id_number(1, "19580402"), "product": "coronavac", "given_on": str(TODAY())},
        "application/json",
        headers=bearer(staff),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["resident"], body["dose_number"], body["site"]) == (person.pk, 1, tree.site.code)
    dose = Dose.objects.get(pk=body["id"])
    assert body["version"] == dose.version and dose.recorded_by == staff
    assert Change.objects.filter(content_type__model="dose", object_pk=str(dose.pk)).exists()
    assert VaccinationStatus.objects.get(resident=person).doses == 1
    assert town_doses(client, tree, official) == before + 1


def test_a_dose_is_recorded_by_the_sites_own_staff_only_and_by_the_schedule(
    tree, client, make_user, staff, person, coronavac
):
    body = {"id_number": id_number(1, "19580402"), "product": "coronavac", "given_on": str(TODAY())}
    official = bearer(make_user(Role.TOWN_OFFICIAL, tree.town))
    assert (
        client.post(
            f"{URL}/sites/{tree.site.code}/doses", body, "application/json", headers=official
        ).status_code
        == 403
    )
    other_staff = bearer(make_user(Role.SITE_STAFF, tree.other_site))
    response = client.post(
        f"{URL}/sites/{tree.site.code}/doses", body, "application/json", headers=other_staff
    )
    assert response.status_code == 404
    mine = bearer(staff)
    unknown = {**body, "product": "no-such-vaccine"}
    response = client.post(f"{URL}/sites/{tree.site.code}/doses", unknown, "application/json",
                           headers=mine)  # fmt: skip
    assert response.status_code == 422 and "no-such-vaccine" in response.json()["detail"]
    give(person, tree.site, staff, coronavac, days_ago=3)
    response = client.post(f"{URL}/sites/{tree.site.code}/doses", body, "application/json",
                           headers=mine)  # fmt: skip
    assert response.status_code == 422, response.content
    assert Dose.objects.filter(resident=person).count() == 1


def correction(client, dose, headers, **fields):
    body = {"version": fields.pop("version", dose.version), "reason": "日期录错", **fields}
    return client.post(f"{URL}/doses/{dose.pk}/correction", body, "application/json",
                       headers=headers)  # fmt: skip


def test_a_correction_moves_the_day_is_audited_and_answers_the_new_version(
    tree, client, staff, person, coronavac
):
    dose = give(person, tree.site, staff, coronavac, days_ago=40)
    headers = bearer(staff)
    response = correction(client, dose, headers, given_on=str(TODAY() - timedelta(days=38)))
    assert response.status_code == 200, response.content
    dose.refresh_from_db()
    assert dose.given_on == TODAY() - timedelta(days=38)
    assert response.json()["version"] == dose.version
    entry = AuditEntry.objects.get(action=AuditAction.CORRECT_DOSE)
    assert entry.user == staff and "日期录错" in entry.subject
    assert client.get(f"{URL}/doses/{dose.pk}", headers=headers).json()["version"] == dose.version


def test_a_correction_or_deletion_with_a_stale_version_is_409_and_changes_nothing(
    tree, client, staff, person, coronavac
):
    dose = give(person, tree.site, staff, coronavac, days_ago=40)
    seen = dose.version
    headers = bearer(staff)
    earlier = str(TODAY() - timedelta(days=39))
    assert correction(client, dose, headers, given_on=earlier).status_code == 200
    response = correction(client, dose, headers, version=seen, given_on=str(TODAY()))
    assert response.status_code == 409 and response.json()["detail"]
    response = client.delete(f"{URL}/doses/{dose.pk}?version={seen}&reason=录错", headers=headers)
    assert response.status_code == 409
    dose.refresh_from_db()
    assert dose.given_on == TODAY() - timedelta(days=39)
    assert AuditEntry.objects.filter(action=AuditAction.CORRECT_DOSE).count() == 1


def test_the_latest_dose_is_deleted_audited_and_its_stock_comes_back(
    tree, client, staff, person, coronavac, stocked
):
    first = give(person, tree.site, staff, coronavac, days_ago=40, lot_number="202105A")
    second = give(person, tree.site, staff, coronavac, days_ago=10, lot_number="202105A")
    headers = bearer(staff)
    balance = StockBalance.objects.get(holder=tree.site, lot=stocked.lot)
    assert balance.on_hand == 4
    query = f"version={first.version}&reason=录错人"
    response = client.delete(f"{URL}/doses/{first.pk}?{query}", headers=headers)
    assert response.status_code == 422, response.content  # not the latest
    query = f"version={second.version}&reason=录错人"
    assert client.delete(f"{URL}/doses/{second.pk}?{query}", headers=headers).status_code == 204
    assert not Dose.objects.filter(pk=second.pk).exists()
    assert AuditEntry.objects.get(action=AuditAction.DELETE_DOSE).user == staff
    balance.refresh_from_db()
    assert balance.on_hand == 5
    assert VaccinationStatus.objects.get(resident=person).doses == 1


def test_a_dose_of_another_town_is_neither_read_corrected_nor_deleted(
    tree, client, make_user, staff, person, coronavac
):
    dose = give(person, tree.site, staff, coronavac, days_ago=40)
    other = bearer(make_user(Role.SITE_STAFF, tree.other_site))
    assert client.get(f"{URL}/doses/{dose.pk}", headers=other).status_code == 404
    assert correction(client, dose, other, given_on=str(TODAY())).status_code == 404
    query = f"version={dose.version}&reason=录错人"
    assert client.delete(f"{URL}/doses/{dose.pk}?{query}", headers=other).status_code == 404
    # Inside the scope without the role (a town official): 403, nothing written.
    official = bearer(make_user(Role.TOWN_OFFICIAL, tree.town))
    assert correction(client, dose, official, given_on=str(TODAY())).status_code == 403
    assert Dose.objects.get(pk=dose.pk).given_on == dose.given_on
    assert not AuditEntry.objects.filter(action=AuditAction.CORRECT_DOSE).exists()


def administered(dose) -> list[tuple[str, int]]:
    return list(
        StockMove.objects.filter(dose_id=dose.pk)
        .order_by("pk")
        .values_list("lot__number", "quantity")
    )


def test_a_corrected_trace_code_is_checked_as_at_the_table_and_moves_the_stock(
    tree, client, staff, person, neighbour, coronavac, stocked, packs
):
    dose = give(person, tree.site, staff, coronavac, days_ago=1, trace_code=packs[0])
    give(neighbour, tree.site, staff, coronavac, days_ago=1, trace_code=packs[1])
    dose.refresh_from_db()
    headers = bearer(staff)
    # A pack of one dose already given to the neighbour: refused, nothing changes.
    response = correction(client, dose, headers, trace_code=packs[1], reason="扫错码")
    assert response.status_code == 422 and packs[1] in response.json()["detail"]
    # A code no pack received carries: refused as at the table.
    response = correction(client, dose, headers, trace_code="81234569999999999999")
    assert response.status_code == 422
    # The lot typed must be the pack's.
    response = correction(client, dose, headers, lot_number="202106B")
    assert response.status_code == 422
    dose.refresh_from_db()
    assert (dose.trace_code, dose.lot_number) == (packs[0], "202105A")
    # The right pack: accepted, and the dose's stock move goes back and out again.
    response = correction(client, dose, headers, trace_code=packs[2], reason="扫错码")
    assert response.status_code == 200, response.content
    assert response.json()["trace_code"] == packs[2]
    assert administered(dose) == [("202105A", -1), ("202105A", -1)]
    reversal = StockMove.objects.get(kind=MoveKind.REVERSAL, reverses__dose_id=dose.pk)
    assert reversal.quantity == 1
    assert StockBalance.objects.get(holder=tree.site, lot=stocked.lot).on_hand == 4
    entry = AuditEntry.objects.get(action=AuditAction.CORRECT_DOSE)
    assert "扫错码" in entry.subject


def test_the_correction_page_corrects_the_lot_number_and_keeps_it_when_not_sent(
    tree, client, staff, person, coronavac, stocked
):
    dose = give(person, tree.site, staff, coronavac, days_ago=1, lot_number="202105A")
    client.force_login(staff)
    page = client.get(f"/doses/{dose.pk}/correct/").content.decode()
    assert 'name="lot_number"' in page and 'value="202105A"' in page
    form = {
        "given_on": dose.given_on.isoformat(),
        "product": dose.product_id,
        "reason": "日期录错",
        "version": dose.version,
    }
    # A form of the day and vaccine alone (an older page) leaves the pack as it is.
    assert client.post(f"/doses/{dose.pk}/correct/", form).status_code == 302
    dose.refresh_from_db()
    assert dose.lot_number == "202105A"
    # The lot number corrected to one the ledger does not hold: stored, the stock given back
    # (the 国家督察 quality report then counts it as an unknown lot).
    form = {**form, "version": dose.version, "lot_number": "ZZ-UNKNOWN", "trace_code": ""}
    assert client.post(f"/doses/{dose.pk}/correct/", form).status_code == 302
    dose.refresh_from_db()
    assert dose.lot_number == "ZZ-UNKNOWN"
    assert StockBalance.objects.get(holder=tree.site, lot=stocked.lot).on_hand == 6
