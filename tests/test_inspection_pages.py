"""Inspection pages, exports and API: each refuses another town's data, lists keep their
number of queries whatever their length, and the report says what happened."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from docx import Document
from openpyxl import load_workbook

from epidispatch.accountability.models import Accountability
from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.inspection.models import Problem, ProblemState
from epidispatch.inspection.services import (
    PlaceFields,
    place_save,
    problems_escalate,
    rectification_review,
    rectification_submit,
)

from .inspection_fixtures import *  # noqa: F403 - the fixtures
from .inspection_fixtures import inspect_with_problem, items_of, photo

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {api_token_create(user=user, name='test')[1]}"}


@pytest.fixture
def problem(inspector, team, mall):
    return inspect_with_problem(mall, inspector).problems.get()


@pytest.fixture
def far_official(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.other_town, username="jichuan")


def test_another_town_cannot_see_a_problem_through_the_page_the_export_or_the_api(
    client, problem, far_official, tree
):
    client.force_login(far_official)
    assert client.get(f"/inspection/problems/{problem.pk}/").status_code == 404
    evidence = problem.evidence.get()
    assert client.get(f"/inspection/evidence/{evidence.pk}/").status_code == 404
    assert client.get(f"/inspection/places/{problem.place_id}/").status_code == 404
    assert client.get(f"/inspection/units/{tree.town.code}/places/").status_code == 404
    assert client.get(f"/inspection/units/{tree.town.code}/report.docx").status_code == 404
    assert client.get(f"/inspection/units/{tree.town.code}/report.xlsx").status_code == 404
    headers = bearer(far_official)
    assert client.get("/api/v1/inspection/problems", headers=headers).json() == []
    assert client.get("/api/v1/inspection/places", headers=headers).json() == []
    assert (
        client.get(f"/api/v1/inspection/problems/{problem.pk}", headers=headers).status_code == 404
    )
    answer = client.get(f"/api/v1/inspection/problems/{problem.pk}/rectifications", headers=headers)
    assert answer.status_code == 404


def test_an_inspector_outside_the_assignment_is_refused_by_the_page(
    client, inspector, team, other_mall, tree, make_user
):
    client.force_login(inspector)
    assert client.get(f"/inspection/places/{other_mall.pk}/inspect/").status_code == 404
    wide = make_user(Role.INSPECTOR, tree.county)
    client.force_login(wide)
    assert client.get(f"/inspection/places/{other_mall.pk}/").status_code == 200
    assert client.get(f"/inspection/places/{other_mall.pk}/inspect/").status_code == 403


def test_the_inspection_form_records_a_problem_with_its_photo(client, inspector, team, mall):
    client.force_login(inspector)
    url = f"/inspection/places/{mall.pk}/inspect/"
    assert client.get(url).status_code == 200
    items = items_of(mall)
    data = {
        "kind": "unannounced",
        "person_on_duty": "李四",
        "deadline": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "note": "",
        **{f"item_{item.pk}": "1" for item in items[1:]},
        f"item_{items[0].pk}": "0",
        f"problem_{items[0].pk}": "入口无人扫码",
        f"evidence_{items[0].pk}": [photo()],
    }
    response = client.post(url, data)
    assert response.status_code == 302
    problem = Problem.objects.get()
    assert (problem.description, problem.person_on_duty) == ("入口无人扫码", "李四")
    evidence = problem.evidence.get()
    shown = client.get(f"/inspection/evidence/{evidence.pk}/")
    assert (shown["Content-Type"], shown["Content-Disposition"]) == (
        "image/jpeg",
        f'inline; filename="evidence-{evidence.pk}"',
    )
    assert shown["X-Content-Type-Options"] == "nosniff"


def test_a_failed_item_without_a_photo_is_refused_with_a_message_and_nothing_is_kept(
    client, inspector, team, mall
):
    client.force_login(inspector)
    items = items_of(mall)
    data = {
        "kind": "planned",
        "deadline": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        **{f"item_{item.pk}": "1" for item in items},
        f"item_{items[0].pk}": "0",
    }
    response = client.post(f"/inspection/places/{mall.pk}/inspect/", data)
    assert response.status_code == 200
    assert "photo or video" in response.content.decode() or "照片" in response.content.decode()
    assert not Problem.objects.exists()


@pytest.mark.parametrize(
    "deadline", ["2021-02-30T10:00", "99999-01-01T00:00", "x", "2021-13-01T00:00"]
)
def test_bad_input_in_the_form_never_gives_a_500(client, inspector, team, mall, deadline):
    client.force_login(inspector)
    items = items_of(mall)
    data = {
        "kind": "planned",
        "deadline": deadline,
        "person_on_duty": "长" * 100,
        **{f"item_{item.pk}": "maybe" for item in items},
    }
    assert client.post(f"/inspection/places/{mall.pk}/inspect/", data).status_code == 200
    assert not Problem.objects.exists()


def test_the_unit_submits_and_the_inspector_verifies_through_the_api(
    client, problem, town_official, inspector
):
    url = f"/api/v1/inspection/problems/{problem.pk}/rectifications"
    answer = client.post(
        url, {"note": "已整改", "evidence": [photo()]}, headers=bearer(town_official)
    )
    assert answer.status_code == 201, answer.content
    rectification = answer.json()["id"]
    review = f"/api/v1/inspection/rectifications/{rectification}/review"
    refused = client.post(
        review, {"verify": True}, content_type="application/json", headers=bearer(town_official)
    )
    assert refused.status_code == 403
    verified = client.post(
        review, {"verify": True}, content_type="application/json", headers=bearer(inspector)
    )
    assert verified.json()["outcome"] == "verified"
    problem.refresh_from_db()
    assert problem.state == ProblemState.VERIFIED


def _more_places(tree, category, count: int, start: int, inspector, team):
    for n in range(start, start + count):
        place, _ = place_save(
            fields=PlaceFields(
                name=f"商场{n}", category=category, responsible_unit=tree.town, grid=tree.grid
            )
        )
        inspect_with_problem(place, inspector)


def test_lists_keep_their_number_of_queries_at_two_sizes(
    client, tree, mall_category, inspector, team, django_assert_num_queries
):
    _more_places(tree, mall_category, 2, 0, inspector, team)
    client.force_login(inspector)
    counts = {
        f"/inspection/units/{tree.town.code}/places/": 7,
        "/inspection/": 9,
        "/api/v1/inspection/places": 5,
        "/api/v1/inspection/problems": 5,
        "/api/v1/inspection/inspections": 5,
    }
    for url, queries in counts.items():
        with django_assert_num_queries(queries):
            client.get(url)
    _more_places(tree, mall_category, 15, 10, inspector, team)
    for url in counts:
        with django_assert_num_queries(counts[url]):
            response = client.get(url)
        assert response.status_code == 200
    assert len(client.get("/api/v1/inspection/problems").json()) == 17


def test_the_report_counts_problems_rectified_and_overdue_and_lists_the_cases(
    client, tree, problem, town_official, inspector, office, mall, other_mall
):
    rectification = rectification_submit(
        problem=problem, note="已整改", evidence=[photo()], by=town_official
    )
    rectification_review(rectification=rectification, verify=True, by=inspector)
    late = inspect_with_problem(mall, inspector, deadline=timezone.now() + timedelta(hours=1))
    escalated_at = timezone.now() + timedelta(hours=2)
    problems_escalate(now=escalated_at)
    client.force_login(office)
    # From 22:00 the escalation falls on tomorrow's local date: the report spans both days.
    start, end = timezone.localdate(), timezone.localdate(escalated_at)
    query = f"?start={start:%Y-%m-%d}&end={end:%Y-%m-%d}"
    page = client.get(f"/inspection/units/{tree.town.code}/report/{query}").content.decode()
    assert 'data-category="商场"' in page
    docx = client.get(f"/inspection/units/{tree.town.code}/report.docx{query}")
    text = "\n".join(
        cell.text
        for table in Document(io.BytesIO(docx.content)).tables
        for row in table.rows
        for cell in row.cells
    )
    assert "平襄商厦" in text and "入口无人查验" in text
    tables = Document(io.BytesIO(docx.content)).tables
    categories = [[c.text for c in row.cells] for row in tables[1].rows]
    assert categories[1] == ["商场", "2", "1", "1", "1"]
    workbook = load_workbook(
        io.BytesIO(client.get(f"/inspection/units/{tree.town.code}/report.xlsx{query}").content)
    )
    assert [c.value for c in workbook["问题分类"][3]] == ["商场", 2, 1, 1, 1]
    assert workbook["屡查屡犯"]["A3"].value == "平襄商厦"
    assert Accountability.objects.get().cause_object == late.problems.get()
    assert workbook["约谈问责"]["A3"].value == tree.town.name


def test_the_accountability_page_lets_the_office_decide_and_record_the_pledge(
    client, problem, office, town_official
):
    problems_escalate(now=problem.deadline + timedelta(minutes=1))
    case = Accountability.objects.get()
    client.force_login(town_official)
    assert (
        client.post(
            f"/accountability/{case.pk}/decide/", {"decision": "confirm", "kind": "summons"}
        ).status_code
        == 403
    )
    client.force_login(office)
    page = client.get("/accountability/?cause=overdue_rectification").content.decode()
    assert f'data-case="{case.pk}"' in page
    client.post(
        f"/accountability/{case.pk}/decide/",
        {"decision": "confirm", "kind": "summons", "persons": "李四", "note": "约谈平襄镇"},
    )
    client.post(
        f"/accountability/{case.pk}/pledge/", {"pledge": "三日内整改到位", "deadline": "2030-01-01"}
    )
    case.refresh_from_db()
    assert (case.state, case.pledge, case.persons) == ("closed", "三日内整改到位", "李四")
    assert case.events.count() == 3


def test_the_office_records_a_commendation(client, office, tree):
    client.force_login(office)
    response = client.post(
        "/accountability/new/",
        {
            "unit": tree.other_town.pk,
            "kind": "commendation",
            "summary": "接种进度第一",
            "decision": "通报表扬",
        },
    )
    assert response.status_code == 302
    case = Accountability.objects.get()
    assert (case.kind, case.state, case.cause) == ("commendation", "decided", "other")


def test_only_the_office_edits_checklists_on_the_page(client, office, inspector, mall_category):
    client.force_login(inspector)
    assert client.get("/inspection/checklists/").status_code == 403
    client.force_login(office)
    response = client.post(
        "/inspection/checklists/",
        {
            "category": mall_category.pk,
            "items": "扫码查验\n测温\n\n",
            "effective_from": "2021-06-01",
        },
    )
    assert response.status_code == 302
    assert mall_category.checklists.order_by("-version").first().items.count() == 2


def test_the_pages_speak_chinese_by_default(client, problem, town_official, office):
    client.force_login(town_official)
    page = client.get(f"/inspection/problems/{problem.pk}/").content.decode()
    assert "提交整改" in page and "待整改" in page
    client.force_login(office)
    assert "追究责任" in client.get(f"/inspection/problems/{problem.pk}/").content.decode()
    assert "约谈问责与通报表扬" in client.get("/accountability/").content.decode()
