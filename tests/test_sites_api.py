"""Sites in the API: masked, scoped to the caller's units, a fixed number of queries."""

import pytest

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.sites.models import Appointment, Slot
from epidispatch.sites.services import _book

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import current_slot, residents
from .test_registry_pages import id_number


def appointments_url(site) -> str:
    return f"/api/v1/sites/{site.code}/appointments"


def test_a_sites_appointments_come_masked(client, tree, session, resident, site_staff):
    _book(slot=current_slot(session), resident=resident, by=None)
    client.force_login(site_staff)
    [row] = client.get(appointments_url(tree.site)).json()
    assert (row["name"], row["id_number"], row["state"]) == ("张三", "622424**********18", "booked")
    assert id_number(1) not in str(row)


def test_another_towns_official_asking_for_the_sites_appointments_gets_404(
    client, tree, session, resident, make_user
):
    _book(slot=current_slot(session), resident=resident, by=None)
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.other_town))
    assert client.get(appointments_url(tree.site)).status_code == 404


def test_the_load_of_another_county_lists_none_of_this_countys_sites(
    client, tree, session, make_user
):
    client.force_login(make_user(Role.DISPATCHER, tree.other_county))
    assert client.get("/api/v1/sites/load").json() == []


def test_anonymous_callers_are_refused(client, tree, session):
    assert client.get(appointments_url(tree.site)).status_code == 401


@pytest.mark.parametrize("count", [1, 9])
def test_the_appointment_list_runs_a_fixed_number_of_queries(
    client, tree, session, site_staff, django_assert_num_queries, count
):
    slot = session.slots.order_by("starts_at").last()
    for person in residents(tree, count):
        _book(slot=slot, resident=person, by=None)
    client.force_login(site_staff)
    with django_assert_num_queries(5):
        assert len(client.get(appointments_url(tree.site)).json()) == count


@pytest.fixture
def token_of(db):
    def token(user) -> dict:
        _record, secret = api_token_create(user=user, name="sites test")
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return token


def bookings_url(slot) -> str:
    return f"/api/v1/sites/slots/{slot.pk}/bookings"


def test_a_grid_worker_books_a_group_of_their_grid_through_the_api(
    client, tree, session, make_user, token_of
):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    people = residents(tree, 3)
    slot = current_slot(session)
    response = client.post(
        bookings_url(slot),
        {
            "id_numbers": [id_number(n) for n in range(100, 103)],
            "group": "老人",
            "transport": "面包车",
        },
        content_type="application/json",
        **token_of(worker),
    )
    assert response.status_code == 201
    assert [row["id_number"] for row in response.json()] == [p.id_number_masked for p in people]
    assert Appointment.objects.filter(group="老人", booked_by=worker).count() == 3


def test_a_grid_worker_booking_another_grids_resident_gets_422_and_books_nobody(
    client, tree, session, make_user, token_of
):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    residents(tree, 1)
    residents(tree, 1, start=200, grid=tree.other_grid)
    response = client.post(
        bookings_url(current_slot(session)),
        {"id_numbers": [id_number(100), id_number(200)]},
        content_type="application/json",
        **token_of(worker),
    )
    assert response.status_code == 422
    assert "第 2 行" in response.json()["detail"]
    assert not Appointment.objects.exists()


def test_booking_a_full_slot_through_the_api_gets_409_full(
    client, tree, session, make_user, token_of
):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    residents(tree, 1)
    slot = current_slot(session)
    Slot.objects.filter(pk=slot.pk).update(booked=slot.capacity)
    response = client.post(
        bookings_url(slot),
        {"id_numbers": [id_number(100)]},
        content_type="application/json",
        **token_of(worker),
    )
    assert response.status_code == 409
    assert "已约满" in response.json()["detail"]


@pytest.mark.parametrize("slot_id", ["0", "99999999999999999999", "abc"])
def test_booking_an_impossible_slot_is_not_a_500(client, tree, make_user, token_of, slot_id):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    response = client.post(
        f"/api/v1/sites/slots/{slot_id}/bookings",
        {"id_numbers": ["x"]},
        content_type="application/json",
        **token_of(worker),
    )
    assert response.status_code in (404, 422)


def act_url(site, appointment, action: str) -> str:
    return f"/api/v1/sites/{site.code}/appointments/{appointment.pk}/{action}"


def test_site_staff_cancel_a_booking_and_mark_another_not_come_through_the_api(
    client, tree, session, site_staff, token_of
):
    slot = current_slot(session)
    first, second = (_book(slot=slot, resident=p, by=None) for p in residents(tree, 2))
    headers = token_of(site_staff)

    cancelled = client.post(act_url(tree.site, first, "cancel"), **headers)
    not_come = client.post(act_url(tree.site, second, "no-show"), **headers)

    assert cancelled.status_code == 200
    assert cancelled.json() == {"id": first.pk, "state": "cancelled"}
    assert not_come.json() == {"id": second.pk, "state": "no_show"}
    # The cancelled place is free again; the missed one is not (its hour has passed).
    assert Slot.objects.get(pk=slot.pk).booked == 1
    again = client.post(act_url(tree.site, first, "cancel"), **headers)
    assert again.status_code == 409 and "取消" in again.json()["detail"]


def test_another_towns_site_staff_neither_cancel_nor_mark_a_booking(
    client, tree, session, make_user, token_of
):
    booked = _book(slot=current_slot(session), resident=residents(tree, 1)[0], by=None)
    headers = token_of(make_user(Role.SITE_STAFF, tree.other_site))
    for action in ("cancel", "no-show"):
        assert client.post(act_url(tree.site, booked, action), **headers).status_code == 404
        other_site = client.post(act_url(tree.other_site, booked, action), **headers)
        assert other_site.status_code == 404
    assert Appointment.objects.get(pk=booked.pk).state == "booked"
    assert Slot.objects.get(pk=booked.slot_id).booked == 1
