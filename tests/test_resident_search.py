"""Finding a resident the way an office asks: by name, phone or ID number, by town and
village, page by page; and a site's page with the day's doses."""

import pytest
from django.urls import reverse
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record
from epidispatch.web import registry_views

from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def county_client(tree, make_user, client):
    resident_create(name="牛建国", id_number=id_number(1), phone="13812345678", grid=tree.grid)
    resident_create(name="漆秀兰", id_number=id_number(2), grid=tree.other_grid)
    client.force_login(make_user(Role.DISPATCHER, tree.county))
    return client


def names(client, code: str, **query) -> list[str]:
    response = client.get(reverse("resident_list", args=[code]), query)
    assert response.status_code == 200
    return [resident.name for resident in response.context["page"]]


@pytest.mark.parametrize("text", ["建国", "牛建国", "13812345678", "138 1234 5678", id_number(1)])
def test_a_resident_is_found_by_part_of_the_name_or_the_whole_phone_or_id(
    county_client, tree, text
):
    assert names(county_client, tree.county.code, q=text) == ["牛建国"]


def test_part_of_a_phone_or_id_number_finds_nobody(county_client, tree):
    assert names(county_client, tree.county.code, q="1381234") == []


def test_town_and_village_filters_keep_their_residents(county_client, tree):
    assert names(county_client, tree.county.code, town=tree.other_town.code) == ["漆秀兰"]
    assert names(county_client, tree.county.code, village=tree.village.code) == ["牛建国"]


@pytest.mark.parametrize("text", ["'; DROP TABLE", "%", "_", "x" * 60])
def test_odd_search_text_finds_nothing(county_client, tree, text):
    assert names(county_client, tree.county.code, q=text) == []


@pytest.mark.parametrize("text", ["a" * 500])
def test_search_text_a_form_refuses_is_ignored_never_an_error(county_client, tree, text):
    assert len(names(county_client, tree.county.code, q=text)) == 2


def test_the_pager_numbers_pages_and_jumps_to_one(county_client, tree, monkeypatch):
    monkeypatch.setattr(registry_views, "PAGE_SIZE", 1)
    response = county_client.get(reverse("resident_list", args=[tree.county.code]), {"page": 2})
    html = response.content.decode()
    assert '<strong aria-current="page">2</strong>' in html
    assert 'name="page" min="1" max="2"' in html
    for page in ("0", "99", "x"):
        assert (
            county_client.get(
                reverse("resident_list", args=[tree.county.code]), {"page": page}
            ).status_code
            == 200
        )


def test_a_sites_page_lists_todays_doses(tree, make_user, client):
    staff = make_user(Role.SITE_STAFF, tree.site)
    person = resident_create(name="甲", id_number=id_number(3), grid=tree.grid)
    dose_record(
        resident=person,
        product=VaccineProduct.objects.get(code="coronavac"),
        given_on=timezone.localdate(),
        site=tree.site,
        by=staff,
    )
    client.force_login(staff)
    response = client.get(reverse("unit_detail", args=[tree.site.code]))
    assert response.context["doses_today"] == 1
    assert reverse("dose_new", args=[tree.site.code]) in response.content.decode()
    client.force_login(make_user(Role.DISPATCHER, tree.county))
    response = client.get(reverse("unit_detail", args=[tree.site.code]))
    assert reverse("dose_new", args=[tree.site.code]) not in response.content.decode()
