"""The key-person change feed (issue 28): `GET /api/v1/changes/key-persons?cursor=…` gives
the changes of the cases in the caller's units — registered, transferred, extended,
released — each once, oldest first, with the phases as they stood after the change and
the person's ID number and phone masked; a follower keeps `next_cursor` and loses or
repeats nothing however many changes arrive between its pages."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.control.models import CaseChange, ControlCase
from epidispatch.control.policy import required_test_days
from epidispatch.control.services import (
    case_extend,
    case_register,
    case_release,
    case_test_record,
    case_transfer,
    key_person_resolve,
)

from .control_fixtures import *  # noqa: F403 - the fixtures
from .control_fixtures import register
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes/key-persons"
TODAY = timezone.localdate


def bearer(user) -> dict:
    _record, token = api_token_create(user=user, name="feed test")
    return {"Authorization": f"Bearer {token}"}


def walk(client, headers: dict, limit: int, cursor: int = 0) -> tuple[list[dict], int]:
    items = []
    while True:
        page = client.get(URL, {"cursor": cursor, "limit": limit}, headers=headers)
        assert page.status_code == 200, page.content
        page = page.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor


def released_case(grid, sequence: int):
    """A case whose phases ended yesterday, with every required test negative, released
    today by the control group (by=None: the command line)."""
    start = TODAY() - timedelta(days=20)
    case = register(sequence=sequence, grid=grid, reference=start, registered=start)
    for day in required_test_days(case.plan):
        case_test_record(case=case, day=day, result="negative")
    return case_release(case=case, on=TODAY(), by=None)


def test_each_change_of_a_case_appears_once_in_order_with_its_phases(tree, client, officer, worker):
    arrival = case_register(
        person=key_person_resolve(
            name="李四", id_number=id_number(1), phone="13812345678", grid=tree.grid
        ),
        category="high_risk_arrival",
        reference_date=TODAY() - timedelta(days=1),
        registered_on=TODAY(),
        source="self_report",
        by=officer,
    ).case
    case_transfer(case=arrival, on=TODAY(), place="县隔离酒店", by=worker)
    case_extend(case=arrival, days=2, decision="县指挥部决定", decided_on=TODAY(), by=officer)
    released = released_case(tree.grid, 2)

    items, _cursor = walk(client, bearer(officer), limit=100)

    assert [(item["case"], item["kind"]) for item in items] == [
        (arrival.pk, "registered"),
        (arrival.pk, "transferred"),
        (arrival.pk, "extended"),
        (released.pk, "registered"),
        (released.pk, "released"),
    ]
    ids = [item["id"] for item in items]
    assert ids == sorted(set(ids))
    registered, transferred, extended = items[:3]
    assert registered["phases"][0]["measure"] == "home_isolation"
    seven_days = TODAY() + timedelta(days=6)
    assert registered["ends_on"] == seven_days.isoformat()
    assert transferred["detail"] == "县隔离酒店"
    assert extended["ends_on"] == (seven_days + timedelta(days=2)).isoformat()
    assert extended["phases"][-1]["last"] == extended["ends_on"]
    assert extended["detail"] == "县指挥部决定"
    assert items[-1]["day"] == TODAY().isoformat()
    assert registered["name"] == "李四" and registered["grid"] == tree.grid.code
    body = client.get(URL, headers=bearer(officer)).content.decode()
    assert id_number(1) not in body and "13812345678" not in body
    assert registered["id_number_masked"] == arrival.person.id_number_masked


def test_a_town_token_sees_only_its_own_towns_changes(tree, client, make_user, policies):
    mine = register(sequence=1, grid=tree.grid, reference=TODAY(), name="平襄人员")
    register(sequence=2, grid=tree.other_grid, reference=TODAY(), name="鸡川人员")
    register(sequence=3, grid=tree.far_grid, reference=TODAY(), name="巩昌人员")
    official = make_user(Role.TOWN_OFFICIAL, tree.town)

    response = client.get(URL, headers=bearer(official))

    assert response.status_code == 200
    assert [item["case"] for item in response.json()["items"]] == [mine.pk]
    assert "鸡川" not in response.content.decode() and "巩昌" not in response.content.decode()
    county = make_user(Role.CONTROL_OFFICER, tree.county)
    assert len(client.get(URL, headers=bearer(county)).json()["items"]) == 2


def test_paging_across_many_changes_loses_and_duplicates_nothing(tree, client, officer, worker):
    headers = bearer(officer)
    for n in range(12):
        register(sequence=100 + n, grid=tree.grid if n % 2 else tree.other_grid, reference=TODAY())
    seen, cursor = walk(client, headers, limit=5)
    # Changes arrive while the follower pages: new cases and changes of the first ones.
    for n in range(12, 20):
        register(sequence=100 + n, grid=tree.grid, reference=TODAY())
    for case in ControlCase.objects.order_by("pk")[:3]:
        case_extend(case=case, days=1, decision="延长观察", decided_on=TODAY(), by=officer)
    more, cursor = walk(client, headers, limit=3, cursor=cursor)
    seen += more

    expected = list(CaseChange.objects.order_by("pk").values_list("pk", flat=True))
    assert [item["id"] for item in seen] == expected
    assert len(expected) == 20 + 3
    idle = client.get(URL, {"cursor": cursor}, headers=headers).json()
    assert idle == {"items": [], "next_cursor": cursor, "has_more": False}


@pytest.mark.parametrize(
    "query", ["cursor=-1", "cursor=99999999999999999999999", "limit=0", "limit=5000", "cursor=x"]
)
def test_bad_cursors_are_refused_without_a_500(client, officer, query):
    assert client.get(f"{URL}?{query}", headers=bearer(officer)).status_code == 422


@pytest.mark.parametrize("cases", [1, 8])
def test_the_feed_reads_a_fixed_number_of_queries(
    tree, client, officer, django_assert_num_queries, cases
):
    """Token with its scope (one read), last use, the page of changes with their cases and
    people."""
    for n in range(cases):
        register(sequence=200 + n, grid=tree.grid, reference=TODAY())
    headers = bearer(officer)
    with django_assert_num_queries(3):
        response = client.get(URL, headers=headers)
    assert len(response.json()["items"]) == cases


def test_cases_registered_before_the_feed_enter_it_through_the_migration(tree, policies):
    released = released_case(tree.grid, 1)
    CaseChange.objects.all().delete()

    importlib.import_module("epidispatch.control.migrations.0004_case_changes").backfill(apps, None)

    assert list(CaseChange.objects.order_by("pk").values_list("case", "kind")) == [
        (released.pk, "registered"),
        (released.pk, "released"),
    ]
