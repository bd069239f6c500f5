"""Key-population control's writes over the API (issue 28): register a person, enter a
test, transfer, lengthen by local decision, release, draw, change and lift a control
area — through the pages' services, so the same roles, rules and audit trail; a case,
grid, unit or area outside the caller's units is refused and nothing is written."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.audit.models import AuditAction, AuditEntry, Change
from epidispatch.audit.selectors import TrailFilters, audit_trail
from epidispatch.control.models import (
    CaseChange,
    CaseTest,
    ControlArea,
    ControlCase,
    KeyPerson,
    PlanItem,
    PositiveCase,
)
from epidispatch.control.policy import required_test_days
from epidispatch.control.services import area_create, case_test_record, key_person_resolve

from .control_fixtures import *  # noqa: F403 - the fixtures
from .control_fixtures import register
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db

API = "/api/v1/control"
TODAY = timezone.localdate


def bearer(user) -> dict:
    _record, token = api_token_create(user=user, name="control writes test")
    return {"Authorization": f"Bearer {token}"}


def post(client, url: str, user, body: dict | None = None):
    return client.post(url, body or {}, "application/json", headers=bearer(user))


def changes_of(model: str, user) -> int:
    return Change.objects.filter(content_type__model=model, actor=user).count()


def person_body(tree, sequence: int = 1, **fields) -> dict:
    return {
        "name": "王五",
        "id_number": id_number(sequence),
        "phone": "13812345678",
        "category": "close_contact",
        "reference_date": str(TODAY() - timedelta(days=1)),
        "source": "self_report",
        "grid": tree.grid.code,
        **fields,
    }


def test_the_control_group_registers_a_person_once_audited(tree, client, officer):
    response = post(client, f"{API}/key-persons", officer, person_body(tree))

    assert response.status_code == 201, response.content
    case = response.json()
    assert case["grid"] == tree.grid.code and case["category"] == "close_contact"
    assert case["phases"][0]["measure"] == "centralized_isolation"
    assert case["registered_on"] == TODAY().isoformat()
    assert id_number(1) not in response.content.decode()
    assert "13812345678" not in response.content.decode()
    again = post(client, f"{API}/key-persons", officer, person_body(tree))
    assert again.status_code == 200 and again.json()["id"] == case["id"]
    assert CaseChange.objects.filter(case_id=case["id"]).count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.REGISTER_CONTROL_CASE).count() == 1
    assert changes_of("controlcase", officer) == 1


def test_registration_is_refused_outside_the_callers_units_and_for_other_roles(
    tree, client, officer, far_officer, worker, resident_a
):
    far = post(client, f"{API}/key-persons", far_officer, person_body(tree))
    assert far.status_code == 422 and tree.grid.code in far.json()["detail"]
    # A resident of 通渭县 is registered in their own grid, which is not the far county's.
    body = person_body(tree, id_number=id_number(1), grid="")
    assert post(client, f"{API}/key-persons", far_officer, body).status_code == 403
    assert post(client, f"{API}/key-persons", worker, person_body(tree, 2)).status_code == 403
    assert not KeyPerson.objects.exists() and not ControlCase.objects.exists()
    nowhere = person_body(tree, 3, grid="")
    response = post(client, f"{API}/key-persons", officer, nowhere)
    assert response.status_code == 422 and not KeyPerson.objects.exists()


def test_a_grid_worker_enters_a_test_and_transfers_a_person(tree, client, officer, worker):
    case = register(
        sequence=1, grid=tree.grid, category="high_risk_arrival",
        reference=TODAY() - timedelta(days=1), registered=TODAY(), by=officer,
    )  # fmt: skip
    test = post(client, f"{API}/cases/{case.pk}/tests", worker, {"result": "negative"})
    assert test.status_code == 201
    assert CaseTest.objects.get(case=case).result == "negative"

    moved = post(client, f"{API}/cases/{case.pk}/transfer", worker, {"place": "县隔离酒店"})

    assert moved.status_code == 200
    assert moved.json()["transferred_on"] == TODAY().isoformat()
    assert moved.json()["isolation_place"] == "县隔离酒店"
    assert changes_of("controlcase", worker) == 1
    assert CaseChange.objects.filter(case=case, kind="transferred").count() == 1
    again = post(client, f"{API}/cases/{case.pk}/transfer", worker, {"place": "县隔离酒店"})
    assert again.status_code == 422


def test_case_writes_of_another_towns_case_are_404_and_write_nothing(
    tree, client, officer, far_worker
):
    case = register(sequence=1, grid=tree.grid, reference=TODAY(), by=officer)
    trail = Change.objects.exclude(content_type__model="apitoken")
    before = (CaseTest.objects.count(), CaseChange.objects.count(), trail.count())
    for path, body in (
        ("tests", {"result": "negative"}),
        ("transfer", {"place": "某地"}),
        ("extend", {"days": 2, "decision": "决定"}),
        ("release", {}),
    ):
        response = post(client, f"{API}/cases/{case.pk}/{path}", far_worker, body)
        assert response.status_code == 404, path
    assert (CaseTest.objects.count(), CaseChange.objects.count(), trail.count()) == before


def test_only_the_control_group_lengthens_measures(tree, client, officer, worker):
    case = register(sequence=1, grid=tree.grid, reference=TODAY(), by=officer)
    body = {"days": 3, "decision": "县指挥部决定"}

    assert post(client, f"{API}/cases/{case.pk}/extend", worker, body).status_code == 403
    response = post(client, f"{API}/cases/{case.pk}/extend", officer, body)

    assert response.status_code == 200
    assert response.json()["extra_days"] == 3
    assert response.json()["ends_on"] == (case.ends_on + timedelta(days=3)).isoformat()
    too_long = {"days": 15, "decision": "x"}
    assert post(client, f"{API}/cases/{case.pk}/extend", officer, too_long).status_code == 422


def test_a_person_is_released_once_the_phases_ended_with_every_test_negative(
    tree, client, officer, worker
):
    start = TODAY() - timedelta(days=20)
    case = register(sequence=1, grid=tree.grid, reference=start, registered=start, by=officer)
    days = required_test_days(case.plan)
    assert days, "the version asks for tests before release"
    assert post(client, f"{API}/cases/{case.pk}/release", worker).status_code == 422
    for day in days:
        case_test_record(case=case, day=day, result="negative")

    response = post(client, f"{API}/cases/{case.pk}/release", worker)

    assert response.status_code == 200
    assert response.json()["released_on"] == TODAY().isoformat()
    assert AuditEntry.objects.filter(action=AuditAction.RELEASE_CONTROL_CASE, user=worker).exists()
    assert CaseChange.objects.filter(case=case, kind="released").count() == 1
    assert post(client, f"{API}/cases/{case.pk}/release", worker).status_code == 422


def test_the_control_group_draws_changes_and_lifts_an_area_on_the_trail(tree, client, officer):
    drawn = post(
        client,
        f"{API}/units/{tree.town.code}/areas",
        officer,
        {"name": "北关封控区", "level": "high", "started_on": str(TODAY()),
         "addresses": "北关街1号\n北关街1号\n北关街2号"},
    )  # fmt: skip
    assert drawn.status_code == 201, drawn.content
    area = drawn.json()
    assert area["addresses"] == ["北关街1号", "北关街2号"] and area["unit"] == tree.town.code

    changed = post(
        client,
        f"{API}/areas/{area['id']}",
        officer,
        {"name": "北关管控区", "level": "high", "last_case_on": str(TODAY())},
    )
    assert changed.status_code == 200 and changed.json()["name"] == "北关管控区"
    lifted = post(client, f"{API}/areas/{area['id']}/lift", officer, {"on": str(TODAY())})
    assert lifted.status_code == 200 and lifted.json()["ended_on"] == TODAY().isoformat()
    again = post(client, f"{API}/areas/{area['id']}/lift", officer, {"on": str(TODAY())})
    assert again.status_code == 422
    assert changes_of("controlarea", officer) == 3
    assert Change.objects.filter(content_type__model="controlarea").first().unit_path == (
        tree.town.path
    )


def test_areas_outside_the_callers_units_are_404_and_other_roles_403(
    tree, client, officer, far_officer, worker
):
    area = area_create(
        unit=tree.town, name="平襄封控区", level="high", started_on=TODAY(), by=officer
    )
    body = {"name": "x", "level": "high", "started_on": str(TODAY())}
    assert post(client, f"{API}/units/{tree.town.code}/areas", far_officer, body).status_code == 404
    assert post(client, f"{API}/units/{tree.grid.code}/areas", worker, body).status_code == 403
    update = {"name": "x", "level": "high", "last_case_on": str(TODAY())}
    assert post(client, f"{API}/areas/{area.pk}", far_officer, update).status_code == 404
    lift = {"on": str(TODAY())}
    assert post(client, f"{API}/areas/{area.pk}/lift", far_officer, lift).status_code == 404
    assert post(client, f"{API}/areas/{area.pk}/lift", worker, lift).status_code in (403, 404)
    area.refresh_from_db()
    assert (area.name, area.ended_on, ControlArea.objects.count()) == ("平襄封控区", None, 1)


def test_an_unknown_category_or_a_bad_day_is_a_422_not_a_500(tree, client, officer):
    for fields in ({"category": "tourist"}, {"reference_date": "1900-01-01"}):
        response = post(client, f"{API}/key-persons", officer, person_body(tree, **fields))
        assert response.status_code == 422, fields
    old = {"reference_date": str(TODAY() - timedelta(days=90))}
    assert post(client, f"{API}/key-persons", officer, person_body(tree, **old)).status_code == 422


def test_a_positive_is_recorded_its_steps_ticked_and_its_contacts_confirmed(
    tree, client, officer, far_officer, worker
):
    key_person_resolve(name="同址人员", id_number=id_number(2), grid=tree.grid, address="北关街1号")
    body = {
        "name": "阳性人员",
        "id_number": id_number(1),
        "grid": tree.grid.code,
        "address": "北关街1号",
        "found_on": str(TODAY()),
        "trajectory": [
            {
                "place": "北关超市",
                "started_at": "2022-07-04T15:00:00",
                "ended_at": "2022-07-04T16:00:00",
            }
        ],
    }
    assert post(client, f"{API}/positives", worker, body).status_code == 403
    assert post(client, f"{API}/positives", far_officer, body).status_code == 422
    backwards = {
        **body,
        "trajectory": [{**body["trajectory"][0], "ended_at": "2022-07-04T14:00:00"}],
    }
    assert post(client, f"{API}/positives", officer, backwards).status_code == 422
    assert not PositiveCase.objects.exists()

    recorded = post(client, f"{API}/positives", officer, body)

    assert recorded.status_code == 201, recorded.content
    positive = recorded.json()
    assert [step["step"] for step in positive["steps"]] == ["report"]
    [candidate] = positive["candidates"]
    assert (candidate["reason"], candidate["state"]) == ("address", "proposed")
    assert id_number(2) not in recorded.content.decode()
    url = f"{API}/positives/{positive['id']}"
    assert client.get(url, headers=bearer(far_officer)).status_code == 404
    ticked = post(client, f"{url}/steps/trace", officer)
    assert [step["step"] for step in ticked.json()["steps"]] == ["report", "trace"]
    assert post(client, f"{url}/steps/trace", worker).status_code == 403

    contacts = {"contacts": [{"candidate": candidate["id"], "category": "close_contact"}]}
    assert post(client, f"{url}/contacts", far_officer, contacts).status_code == 404
    confirmed = post(client, f"{url}/contacts", officer, contacts)

    assert confirmed.status_code == 201, confirmed.content
    [case] = confirmed.json()["cases"]
    assert (case["category"], case["source"]) == ("close_contact", "tracing")
    assert client.get(url, headers=bearer(officer)).json()["candidates"][0]["case"] == case["id"]
    assert post(client, f"{url}/contacts", officer, contacts).status_code == 422  # confirmed
    assert CaseChange.objects.filter(case_id=case["id"], kind="registered").count() == 1


def test_check_ins_and_tests_are_on_the_trail_under_the_grid_with_who_entered_them(
    tree, client, officer, worker, make_user
):
    case = register(
        sequence=1, grid=tree.grid, category="high_risk_arrival",
        reference=TODAY() - timedelta(days=1), registered=TODAY(), by=officer,
    )  # fmt: skip
    check_in = {"temperature": "36.6", "symptoms": "无"}
    assert post(client, f"{API}/cases/{case.pk}/check-ins", worker, check_in).status_code == 201
    test = post(client, f"{API}/cases/{case.pk}/tests", worker, {"result": "negative"})
    assert test.status_code == 201
    dispatcher = make_user(Role.DISPATCHER, tree.county)
    far_dispatcher = make_user(Role.DISPATCHER, tree.other_county)

    for kind, value in (
        ("control.healthcheck", "36.6"),
        ("control.casetest", "negative"),
    ):
        rows = audit_trail(dispatcher, TrailFilters(kind=kind), limit=10)
        assert [row.who for row in rows] == [str(worker)], kind
        assert value in {str(change.after_raw) for change in rows[0].changes}, kind
        assert audit_trail(far_dispatcher, TrailFilters(kind=kind), limit=10) == []
    assert (
        Change.objects.filter(
            content_type__model__in=["healthcheck", "casetest"], unit_path=tree.grid.path
        ).count()
        == 2
    )


def test_a_town_official_checks_an_item_of_the_emergency_plan_and_no_other_town_can(
    tree, client, make_user, worker
):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    url = f"{API}/units/{tree.town.code}/plan/leadership"

    checked = post(client, url, official, {"ready": True, "note": "指挥部已成立"})

    assert checked.status_code == 200, checked.content
    assert checked.json() == {
        "unit": tree.town.code,
        "item": "leadership",
        "ready": True,
        "note": "指挥部已成立",
        "checked_on": TODAY().isoformat(),
    }
    assert changes_of("planitem", official) == 1
    far = make_user(Role.TOWN_OFFICIAL, tree.other_town)
    assert post(client, url, far, {"ready": False}).status_code == 404
    # A grid worker sees the grid's plan but does not keep it.
    grid_url = f"{API}/units/{tree.grid.code}/plan/leadership"
    assert post(client, grid_url, worker, {"ready": False}).status_code == 403
    unknown = f"{API}/units/{tree.town.code}/plan/budget"
    assert post(client, unknown, official, {"ready": True}).status_code == 422
    row = PlanItem.objects.get()
    assert (row.unit, row.ready, row.checked_by) == (tree.town, True, official)
