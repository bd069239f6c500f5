"""The control pages, export and API: what each role sees, the cross-scope refusals
(page, export and API), and query counts pinned at two sizes."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.control.models import ControlCase, HealthCheck, PlanItem

from .control_fixtures import *  # noqa: F403 - the fixtures
from .control_fixtures import register
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


def bearer(user):
    return {"Authorization": f"Bearer {api_token_create(user=user, name='test')[1]}"}


def add_cases(tree, start: int, count: int, grid=None):
    """`count` close contacts exposed two days ago (centralized isolation today)."""
    today = timezone.localdate()
    return [
        register(sequence=n, grid=grid or tree.grid, reference=today - timedelta(days=2),
                 registered=today)
        for n in range(start, start + count)
    ]  # fmt: skip


def test_a_worker_records_a_check_in_on_the_phone_list_and_the_board_moves(
    tree, worker, officer, client
):
    [case] = add_cases(tree, 1, 1)
    client.force_login(worker)
    page = client.get(f"/control/units/{tree.grid.code}/today/").content.decode()
    assert 'data-figure="checked_in">0<' in page and f'data-case="{case.pk}"' in page
    response = client.post(f"/control/cases/{case.pk}/check-in/", {"temperature": "36.4"})
    assert response.status_code == 302
    assert HealthCheck.objects.get().recorded_by == worker
    client.force_login(officer)
    board = client.get(f"/control/units/{tree.town.code}/").content.decode()
    assert 'data-figure="checked_in">1<' in board
    assert 'data-figure="centralized_isolation">1<' in board


def test_a_bad_temperature_is_told_and_stores_nothing(tree, worker, client):
    [case] = add_cases(tree, 1, 1)
    client.force_login(worker)
    for value in ("abc", "99", "3" * 50):
        response = client.post(
            f"/control/cases/{case.pk}/check-in/", {"temperature": value}, follow=True
        )
        assert response.status_code == 200
    assert not HealthCheck.objects.exists()


def test_release_from_the_page_is_refused_with_what_is_missing(tree, worker, client):
    [case] = add_cases(tree, 1, 1)
    client.force_login(worker)
    response = client.post(f"/control/cases/{case.pk}/release/", follow=True)
    first_test_day = timezone.localdate() - timedelta(days=1)
    assert f"{first_test_day:%m-%d}" in response.content.decode()
    case.refresh_from_db()
    assert case.released_on is None


def test_a_worker_of_another_grid_is_refused_through_the_page_the_export_and_the_api(
    tree, worker, far_worker, client
):
    [case] = add_cases(tree, 1, 1)
    client.force_login(far_worker)
    for url in (
        f"/control/units/{tree.grid.code}/today/",
        f"/control/units/{tree.grid.code}/",
        f"/control/units/{tree.grid.code}/board.xlsx",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(f"/control/cases/{case.pk}/check-in/", {"temperature": "36.5"}).status_code
        == 404
    )
    assert client.post(f"/control/cases/{case.pk}/release/").status_code == 404
    headers = bearer(far_worker)
    for url in (
        f"/api/v1/control/units/{tree.grid.code}/board",
        f"/api/v1/control/units/{tree.grid.code}/persons",
    ):
        assert client.get(url, headers=headers).status_code == 404, url
    response = client.post(
        f"/api/v1/control/cases/{case.pk}/check-ins", {"temperature": "36.5"},
        content_type="application/json", headers=headers,
    )  # fmt: skip
    assert response.status_code == 404
    # The other town's own board does not count this grid's people.
    body = client.get(f"/api/v1/control/units/{tree.other_grid.code}/board", headers=headers)
    assert body.json()["centralized_isolation"] == 0
    assert not HealthCheck.objects.exists()


def test_a_leader_may_read_the_board_but_not_record_a_check_in(tree, make_user, client):
    leader = make_user(Role.LEADER, tree.county)
    [case] = add_cases(tree, 1, 1)
    client.force_login(leader)
    assert client.get(f"/control/units/{tree.county.code}/").status_code == 200
    assert (
        client.post(f"/control/cases/{case.pk}/check-in/", {"temperature": "36.5"}).status_code
        == 403
    )


def test_the_board_export_holds_the_figures_and_masked_people_only(tree, officer, client):
    [case] = add_cases(tree, 1, 1)
    ControlCase.objects.filter(pk=case.pk).update(ends_on=timezone.localdate() - timedelta(days=1))
    client.force_login(officer)
    response = client.get(f"/control/units/{tree.county.code}/board.xlsx")
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][:2] == ("通渭县", "621121")
    figures = {row[2]: row[1] for row in rows[2:11]}
    assert figures["ended"] == 1
    flag = next(row for row in rows if row[0] in ("Kept past the end", "超期管控"))
    assert flag[2] == case.person.id_number_masked and "*" in flag[2]


def test_the_api_board_answers_the_section_8_figures(tree, officer, client):
    add_cases(tree, 1, 3)
    body = client.get(
        f"/api/v1/control/units/{tree.county.code}/board", headers=bearer(officer)
    ).json()
    assert {k: body[k] for k in ("centralized_isolation", "home_isolation", "home_monitoring",
                                 "ending_today", "ended")} == {
        "centralized_isolation": 3, "home_isolation": 0, "home_monitoring": 0,
        "ending_today": 0, "ended": 0}  # fmt: skip


def test_the_phone_list_costs_the_same_queries_for_2_or_20_people(
    tree, worker, client, django_assert_num_queries
):
    add_cases(tree, 1, 2)
    client.force_login(worker)
    url = f"/control/units/{tree.grid.code}/today/"
    client.get(url)
    with django_assert_num_queries(5) as small:
        response = client.get(url)
    assert response.content.decode().count('<li class="person') == 2
    add_cases(tree, 10, 18)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count('<li class="person') == 20


def test_the_board_page_costs_the_same_queries_for_2_or_20_people(
    tree, officer, client, django_assert_num_queries
):
    add_cases(tree, 1, 2)
    client.force_login(officer)
    url = f"/control/units/{tree.county.code}/"
    client.get(url)
    with django_assert_num_queries(10) as small:
        client.get(url)
    add_cases(tree, 10, 18, grid=tree.other_grid)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert 'data-figure="centralized_isolation">20<' in response.content.decode()


def test_the_api_persons_list_costs_the_same_queries_for_2_or_20(
    tree, worker, client, django_assert_num_queries
):
    add_cases(tree, 1, 2)
    headers = bearer(worker)
    url = f"/api/v1/control/units/{tree.grid.code}/persons"
    client.get(url, headers=headers)
    # 3: the token with its user and their roles (one statement), the unit, the list
    with django_assert_num_queries(3) as small:
        client.get(url, headers=headers)
    add_cases(tree, 10, 18)
    with django_assert_num_queries(len(small.captured_queries)):
        body = client.get(url, headers=headers).json()
    assert len(body) == 20 and all("*" in row["id_number_masked"] for row in body)


def test_a_town_official_checks_the_towns_emergency_plan_and_others_cannot(
    tree, make_user, worker, client
):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    other = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    url = f"/control/units/{tree.town.code}/plan/"
    client.force_login(official)
    client.post(url, {"item": "supplies", "note": "口罩储备不足"})
    client.post(url, {"item": "staff", "ready": "1"})
    page = client.get(f"/control/units/{tree.town.code}/").content.decode()
    assert "口罩储备不足" in page
    item = PlanItem.objects.get(item="staff")
    assert (item.ready, item.checked_on, item.checked_by) == (True, timezone.localdate(), official)
    client.force_login(other)
    assert client.post(url, {"item": "funding", "ready": "1"}).status_code == 404
    client.force_login(worker)
    assert (
        client.post(f"/control/units/{tree.grid.code}/plan/", {"item": "funding"}).status_code
        == 403
    )
    assert PlanItem.objects.count() == 2


def test_an_officer_registers_a_self_reported_person_and_a_refused_category_is_told(
    tree, officer, far_officer, client
):
    today = timezone.localdate()
    form = {"name": "李四", "id_number": id_number(9), "phone": "13900000009",
            "category": "close_contact", "reference_date": (today - timedelta(days=1)).isoformat(),
            "source": "self_report", "grid": tree.grid.code, "address": "北关路1号"}  # fmt: skip
    client.force_login(officer)
    response = client.post("/control/persons/new/", form)
    assert response.status_code == 302
    case = ControlCase.objects.get()
    assert (case.source, case.grid, case.registered_on) == ("self_report", tree.grid, today)
    # Under the version in force today (二十条), a 次密接 is not managed.
    response = client.post("/control/persons/new/", {**form, "category": "secondary_contact"})
    assert response.status_code == 200 and "二十条" in response.content.decode()
    client.force_login(far_officer)
    response = client.post("/control/persons/new/", {**form, "id_number": id_number(10)})
    assert response.status_code == 200
    assert ControlCase.objects.count() == 1


def test_the_api_check_in_takes_bad_input_without_a_500(tree, worker, client):
    [case] = add_cases(tree, 1, 1)
    headers = bearer(worker)
    url = f"/api/v1/control/cases/{case.pk}/check-ins"
    for body in ({"temperature": "abc"}, {"temperature": "1e9"}, {"temperature": "36.5",
                 "symptoms": "咳" * 500}, {}):  # fmt: skip
        response = client.post(url, body, content_type="application/json", headers=headers)
        assert response.status_code in (400, 422), body
    response = client.post(
        url, {"temperature": "36.5", "symptoms": "咳\x00嗽"}, content_type="application/json",
        headers=headers,
    )  # fmt: skip
    assert (
        response.status_code == 400
    )  # a NUL byte is refused before any view (web.middleware.RejectNulMiddleware)
    assert not HealthCheck.objects.exists()
    response = client.post(
        url, {"temperature": "36.5", "symptoms": "咳嗽"}, content_type="application/json",
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201
    assert HealthCheck.objects.get().symptoms == "咳嗽"
    response = client.post(url, {"temperature": "36.6"}, content_type="application/json",
                           headers=headers)  # fmt: skip
    assert response.status_code == 422 and "已记录" in response.json()["detail"]


def test_only_the_control_group_keeps_a_person_longer_and_only_by_a_recorded_decision(
    tree, officer, worker, client
):
    [case] = add_cases(tree, 1, 1)
    ends_on = case.ends_on
    url = f"/control/cases/{case.pk}/extend/"
    client.force_login(worker)
    today = client.get(f"/control/units/{tree.grid.code}/today/").content.decode()
    assert "/extend/" not in today
    assert client.post(url, {"days": "2", "decision": "县指挥部决定"}).status_code == 403
    client.force_login(officer)
    client.post(url, {"days": "2", "decision": ""})
    client.post(url, {"days": "99", "decision": "县指挥部决定"})
    case.refresh_from_db()
    assert case.ends_on == ends_on
    client.post(url, {"days": "2", "decision": "县指挥部决定"})
    case.refresh_from_db()
    assert case.ends_on == ends_on + timedelta(days=2) and "县指挥部决定" in case.local_decision
