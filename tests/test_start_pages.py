"""Each role starts from the day's work: its start page shows the figures and links of
what it does today, read from the same selectors as the pages they lead to."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.figures.rollups import rollups_recount
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record

from .dose_files import id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tree):
    vaccinated = resident_create(name="甲", id_number=id_number(date(1970, 1, 1)), grid=tree.grid)
    resident_create(name="乙", id_number=id_number(date(1971, 1, 1)), grid=tree.grid)
    resident_create(name="丙", id_number=id_number(date(1972, 1, 1)), grid=tree.other_grid)
    rollups_recount()
    return vaccinated


def home(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.context["tasks"], response.content.decode()


def figures(task) -> dict[str, str]:
    return {str(label): value for label, value in task.figures}


def test_site_staff_start_from_recording_doses_and_todays_count(tree, make_user, people, client):
    staff = make_user(Role.SITE_STAFF, tree.site)
    dose_record(
        resident=people,
        product=VaccineProduct.objects.get(code="coronavac"),
        given_on=timezone.localdate(),
        site=tree.site,
        by=staff,
    )
    [task], html = home(client, staff)
    assert figures(task) == {"今日本点接种": "1"}
    assert reverse("dose_new", args=[tree.site.code]) in html


def test_a_grid_worker_starts_from_todays_round(tree, make_user, people, client):
    [task], html = home(client, make_user(Role.GRID_WORKER, tree.grid))
    assert figures(task)["清零名单"] == "2"
    assert reverse("fieldwork:grid", args=[tree.grid.code]) in html


def test_a_town_starts_from_what_it_has_left_to_clear(tree, make_user, people, client):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    [task], _html = home(client, official)
    clearance = client.get(reverse("clearance", args=[tree.town.code]))
    assert figures(task)["待清零"] == str(clearance.context["total"]) == "2"


def test_a_dispatcher_starts_from_the_cutoff_and_tomorrows_targets(tree, dispatcher, client):
    [task], _html = home(client, dispatcher)
    shown = figures(task)
    assert shown["今日调度截止"] == "今日尚未截止"
    assert shown["未下达明日任务的单位"] == "3"  # two towns and the department


def test_a_leader_starts_from_their_units_alone(tree, make_user, client):
    tasks, html = home(client, make_user(Role.LEADER, tree.county))
    assert tasks == []
    assert reverse("unit_detail", args=[tree.county.code]) in html
