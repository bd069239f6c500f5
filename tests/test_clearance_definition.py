"""One 清零 definition: the list a town opens counts exactly who the dashboard's 待清零
counts (the target population, 3 and over, with no dose and not excused), and its age
filter splits it into the bands offices report."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.dispatch.selectors import dashboard
from epidispatch.figures.rollups import rollups_recount
from epidispatch.registry.services import resident_create

from .dose_files import id_number

pytestmark = pytest.mark.django_db


def born_aged(years: int) -> date:
    today = timezone.localdate()
    return date(today.year - years, 1, 1) if today.month > 1 else date(today.year - years - 1, 1, 1)


@pytest.fixture
def town_client(client, tree, make_user):
    ages = {"child": 7, "teen": 15, "adult": 40, "senior": 70, "toddler": 1}
    people = {
        key: resident_create(name=key, id_number=id_number(born_aged(age)), grid=tree.grid)
        for key, age in ages.items()
    }
    rollups_recount()
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
    return client, people


def listed(client, code: str, **query) -> set[str]:
    page = client.get(reverse("clearance", args=[code]), query)
    assert page.status_code == 200
    return {resident.name for resident in page.context["page"]}, page.context["total"]


def test_the_clearance_list_counts_who_the_dashboard_counts(town_client, tree):
    client, _people = town_client
    names, total = listed(client, tree.town.code)
    assert names == {"child", "teen", "adult", "senior"}
    figures = dashboard(client.get("/").wsgi_request.user, tree.town.code)
    assert figures["totals"]["to_clear"] == total == 4


@pytest.mark.parametrize(
    ("ages", "expected"),
    [("18+", {"adult", "senior"}), ("12-17", {"teen"}), ("3-11", {"child"}), ("60+", {"senior"})],
)
def test_the_age_filter_keeps_one_band(town_client, tree, ages, expected):
    client, _people = town_client
    names, total = listed(client, tree.town.code, ages=ages)
    assert (names, total) == (expected, len(expected))


def test_an_unknown_age_filter_is_ignored_not_an_error(town_client, tree):
    client, _people = town_client
    names, _total = listed(client, tree.town.code, ages="200-300")
    assert names == {"child", "teen", "adult", "senior"}
