"""Sites in the API: masked, scoped to the caller's units, a fixed number of queries."""

import pytest

from epidispatch.accounts.models import Role
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
