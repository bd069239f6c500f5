"""The field-work lists cost the same number of queries whatever their length (N+1 queries
fail here, not in a county), and the round lists what to do first, first."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.core.dates import add_years
from epidispatch.fieldwork.models import VisitOutcome
from epidispatch.fieldwork.services import checkpoint_record_create, visit_record
from epidispatch.registry.services import resident_create

from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import give_dose
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


def add_round(tree, worker, station, site_staff, coronavac, *, start: int, count: int):
    """`count` of each: unvaccinated adults (half visited) seen at a checkpoint, people due
    a second dose, and 60+ vaccinees with a follow-up (who are due a second dose too)."""
    today = timezone.localdate()
    for n in range(start, start + count):
        unvaccinated = resident_create(name=f"未种{n}", id_number=id_number(n), grid=tree.grid)
        if n % 2:
            visit_record(resident=unvaccinated, outcome=VisitOutcome.NOT_FOUND, by=worker)
        due = resident_create(name=f"待二针{n}", id_number=id_number(n + 300), grid=tree.grid)
        give_dose(due, tree.site, site_staff, coronavac, days_ago=30 + n % 40)
        elder = resident_create(
            name=f"老人{n}",
            id_number=id_number(n + 600, birth=f"{add_years(today, -70):%Y%m%d}"),
            grid=tree.grid,
        )
        give_dose(elder, tree.site, site_staff, coronavac, days_ago=1)
        checkpoint_record_create(
            unit=tree.industry_grid,
            place="商场",
            seen_at=timezone.now() - timedelta(hours=1),
            id_number=id_number(n),
            by=station,
        )


@pytest.fixture
def station(tree, make_user):
    """Checkpoint staff at a mall: a worker of the industry grid."""
    return make_user(Role.GRID_WORKER, tree.industry_grid, username="station")


def test_the_round_page_costs_the_same_queries_for_2_or_20_of_everything(
    tree, worker, station, site_staff, coronavac, client, django_assert_num_queries
):
    add_round(tree, worker, station, site_staff, coronavac, start=1, count=2)
    client.force_login(worker)
    url = f"/field/grids/{tree.grid.code}/"
    client.get(url)
    with django_assert_num_queries(11) as small:
        response = client.get(url)
    assert response.content.decode().count('<li class="round-item') == 2 * 5
    add_round(tree, worker, station, site_staff, coronavac, start=10, count=18)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    page = response.content.decode()
    assert page.count('<li class="round-item') == 20 * 5
    # Checkpoint tasks, then follow-ups, then the 清零 list, then second doses.
    markers = ("data-task=", "data-follow-up=", 'data-list="clearance"', 'data-list="due"')
    order = [page.index(marker) for marker in markers]
    assert order == sorted(order)


def test_the_checkpoint_list_costs_the_same_queries_for_2_or_20(
    tree, worker, station, site_staff, coronavac, client, django_assert_num_queries
):
    add_round(tree, worker, station, site_staff, coronavac, start=1, count=2)
    client.force_login(station)
    client.get("/field/checkpoint/")
    with django_assert_num_queries(8) as small:
        client.get("/field/checkpoint/")
    add_round(tree, worker, station, site_staff, coronavac, start=10, count=18)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/field/checkpoint/")
    assert response.content.decode().count("<tr data-record=") == 20


def test_the_api_round_costs_the_same_queries_for_2_or_20(
    tree, worker, station, site_staff, coronavac, client, django_assert_num_queries
):
    add_round(tree, worker, station, site_staff, coronavac, start=1, count=2)
    headers = {"Authorization": f"Bearer {api_token_create(user=worker, name='t')[1]}"}
    url = f"/api/v1/field/units/{tree.grid.code}/round"
    client.get(url, headers=headers)
    # the token with its user and their roles is one statement
    with django_assert_num_queries(4) as small:
        client.get(url, headers=headers)
    add_round(tree, worker, station, site_staff, coronavac, start=10, count=18)
    with django_assert_num_queries(len(small.captured_queries)):
        body = client.get(url, headers=headers).json()
    assert (len(body["clearance"]), len(body["due"])) == (20, 40)
    overdue = [row["overdue"] for row in body["due"]]
    assert overdue == sorted(overdue, reverse=True)


def test_the_api_follow_ups_and_visits_cost_the_same_queries_for_2_or_20(
    tree, worker, station, site_staff, coronavac, client, django_assert_num_queries
):
    add_round(tree, worker, station, site_staff, coronavac, start=1, count=2)
    headers = {"Authorization": f"Bearer {api_token_create(user=worker, name='t')[1]}"}
    url = f"/api/v1/field/units/{tree.grid.code}/follow-ups"
    client.get(url, headers=headers)
    # the token with its user and their roles is one statement
    with django_assert_num_queries(3) as small:
        client.get(url, headers=headers)
    add_round(tree, worker, station, site_staff, coronavac, start=10, count=18)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get(url, headers=headers).json()) == 20
