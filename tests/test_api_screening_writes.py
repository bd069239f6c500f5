"""Screening's writes over the API (issue 28): open a round (its target list frozen),
hand a box of tubes to a courier, the lab's receipt, a tube's result and a retest's, a
worker's reason for someone not sampled — through the pages' services (the same roles,
rules and audit trail); a round, unit or resident outside the caller's units is a 404
and nothing is written."""

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.audit.models import Change
from epidispatch.registry.models import ResidentStatus
from epidispatch.screening.models import MissedSample, RoundTarget, ScreeningRound, Tube
from epidispatch.screening.selectors import round_coverage
from epidispatch.screening.services import sample_collect

from .screening_fixtures import *  # noqa: F403 - the fixtures
from .screening_fixtures import DAY, at, person

pytestmark = pytest.mark.django_db

API = "/api/v1/screening"


def bearer(user) -> dict:
    _record, token = api_token_create(user=user, name="screening writes test")
    return {"Authorization": f"Bearer {token}"}


def post(client, url: str, user, body: dict):
    return client.post(url, body, "application/json", headers=bearer(user))


def test_an_officer_opens_a_round_and_its_target_list_is_frozen(tree, client, officer, population):
    response = post(
        client, f"{API}/rounds", officer, {"unit": tree.town.code, "name": "第4轮", "day": str(DAY)}
    )

    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["unit"], created["pool"], created["target"]) == (tree.town.code, 10, 17)
    screening_round = ScreeningRound.objects.get(pk=created["id"])
    population[1].status = ResidentStatus.AWAY
    population[1].save()
    assert RoundTarget.objects.filter(round=screening_round).count() == 17
    assert Change.objects.filter(
        content_type__model="screeninground", actor=officer, unit_path=tree.town.path
    ).exists()


def test_a_round_is_refused_outside_the_callers_units_for_other_roles_and_on_a_grid(
    tree, client, officer, far_officer, make_user, population
):
    body = {"unit": tree.town.code, "name": "第4轮", "day": str(DAY)}
    assert post(client, f"{API}/rounds", far_officer, body).status_code == 404
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    assert post(client, f"{API}/rounds", official, body).status_code == 403
    on_grid = post(client, f"{API}/rounds", officer, {**body, "unit": tree.grid.code})
    assert on_grid.status_code == 422
    assert post(client, f"{API}/rounds", officer, {**body, "pool": 7}).status_code == 422
    assert not ScreeningRound.objects.exists()


def test_the_chain_send_receive_result_and_retest(client, officer, county_round):
    for sequence in (1, 2, 3):
        sample_collect(
            screening_round=county_round, barcode="P001", id_number=person(sequence), by=officer,
            at=at(8),
        )  # fmt: skip
    url = f"{API}/rounds/{county_round.pk}"

    sent = post(client, f"{url}/tubes/send", officer, {"barcodes": ["P001"], "courier": "王师傅"})
    assert sent.status_code == 200 and sent.json() == {"tubes": 1}
    again = post(client, f"{url}/tubes/send", officer, {"barcodes": ["P001"], "courier": "王师傅"})
    assert again.status_code == 422
    unknown = post(client, f"{url}/tubes/send", officer, {"barcodes": ["X9"], "courier": "王师傅"})
    assert unknown.status_code == 422
    received = post(client, f"{url}/tubes/receive", officer, {"barcodes": ["P001"]})
    assert received.status_code == 200 and received.json() == {"tubes": 1}
    result = {
        "barcode": "P001",
        "result": "positive",
        "tested_at": at(12).isoformat(),
        "lab": "县疾控",
    }
    stored = post(client, f"{url}/results", officer, result)
    assert stored.status_code == 200, stored.content
    assert stored.json()["status"] == "done" and stored.json()["stored"] is True
    assert post(client, f"{url}/results", officer, result).json()["stored"] is False
    other = post(client, f"{url}/results", officer, {**result, "result": "negative"})
    assert other.status_code == 422
    assert round_coverage(county_round, county_round.unit)["retest_pending"] == 3

    # The retest (复核): a single tube for a member of the positive pool, then its result.
    sample_collect(
        screening_round=county_round, barcode="R001", id_number=person(1), capacity=1,
        by=officer, at=at(13),
    )  # fmt: skip
    retest = {**result, "barcode": "R001", "result": "negative", "tested_at": at(15).isoformat()}
    assert post(client, f"{url}/results", officer, retest).status_code == 200
    figures = round_coverage(county_round, county_round.unit)
    assert (figures["retest_pending"], figures["positive_tubes"]) == (2, 1)
    tube = Tube.objects.get(round=county_round, barcode="P001")
    trail = Change.objects.filter(content_type__model="tube", object_id=tube.pk, actor=officer)
    assert trail.count() == 3  # sent, received, reported
    assert set(trail.values_list("unit_path", flat=True)) == {county_round.unit.path}


def test_chain_steps_of_another_countys_round_are_404_and_change_nothing(
    client, officer, far_officer, county_round
):
    sample_collect(
        screening_round=county_round, barcode="P001", id_number=person(1), by=officer, at=at(8)
    )
    url = f"{API}/rounds/{county_round.pk}"
    for path, body in (
        ("tubes/send", {"barcodes": ["P001"], "courier": "王师傅"}),
        ("tubes/receive", {"barcodes": ["P001"]}),
        ("results", {"barcode": "P001", "result": "negative", "tested_at": at(12).isoformat(),
                     "lab": "县疾控"}),
        ("missed", {"resident_id": 1, "reason": "away"}),
    ):  # fmt: skip
        assert post(client, f"{url}/{path}", far_officer, body).status_code == 404, path
    tube = Tube.objects.get(round=county_round, barcode="P001")
    assert (tube.sent_at, tube.received_at, tube.result) == (None, None, "")


def test_a_collector_of_the_round_may_not_send_or_report(client, collector, county_round):
    url = f"{API}/rounds/{county_round.pk}"
    body = {"barcodes": ["P001"], "courier": "王师傅"}
    assert post(client, f"{url}/tubes/send", collector, body).status_code == 403


def test_a_result_for_an_unknown_tube_is_a_404_and_a_naive_time_is_local(
    client, officer, county_round
):
    sample_collect(
        screening_round=county_round, barcode="P001", id_number=person(1), by=officer, at=at(8)
    )
    url = f"{API}/rounds/{county_round.pk}/results"
    body = {"barcode": "NONE", "result": "negative", "tested_at": "2022-04-02T12:00:00", "lab": "x"}
    assert post(client, url, officer, body).status_code == 404
    response = post(client, url, officer, {**body, "barcode": "P001"})
    assert response.status_code == 200
    assert Tube.objects.get(barcode="P001").tested_at == at(12)


def test_a_worker_records_why_a_resident_of_their_grid_was_not_sampled(
    client, worker, county_round, population
):
    url = f"{API}/rounds/{county_round.pk}/missed"

    response = post(client, url, worker, {"resident_id": population[4].pk, "reason": "away"})

    assert response.status_code == 201
    assert MissedSample.objects.get().resident == population[4]
    other_town = post(client, url, worker, {"resident_id": population[31].pk, "reason": "away"})
    assert other_town.status_code == 404
    off_list = post(client, url, worker, {"resident_id": population[13].pk, "reason": "away"})
    assert off_list.status_code == 422
    assert MissedSample.objects.count() == 1


def test_an_officer_opens_a_key_group_and_a_keeper_takes_a_member_off(
    tree, client, officer, far_officer, make_user, population
):
    body = {"unit": tree.town.code, "name": "冷链从业人员", "kind": "cold_chain", "every_days": 7}
    assert post(client, f"{API}/groups", far_officer, body).status_code == 404
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    assert post(client, f"{API}/groups", official, body).status_code == 403

    opened = post(client, f"{API}/groups", officer, body)

    assert opened.status_code == 201, opened.content
    group = opened.json()
    assert (group["unit"], group["every_days"]) == (tree.town.code, 7)
    assert post(client, f"{API}/groups", officer, body).status_code == 422  # same name
    assert post(client, f"{API}/groups", officer, {**body, "every_days": 31}).status_code == 422
    added = post(client, f"{API}/groups/{group['id']}/members", official, {"id_number": person(1)})
    assert added.status_code == 201
    member = added.json()["id"]
    leave = f"{API}/groups/{group['id']}/members/{member}/leave"
    assert post(client, leave, far_officer, {}).status_code == 404
    left = post(client, leave, official, {})
    assert left.status_code == 200 and left.json()["left_on"] == str(timezone.localdate())
    assert post(client, leave, official, {}).status_code == 422
    assert Change.objects.filter(content_type__model="groupmember", actor=official).count() == 2


def test_tube_changes_are_a_kind_of_the_audit_page_filter(
    client, tree, make_user, officer, county_round
):
    """Tubes go on the trail by hand (their chain steps), not through django-auditlog;
    the audit page still lists them among its kinds and filters by them."""
    sample_collect(
        screening_round=county_round, barcode="P001", id_number=person(1), by=officer, at=at(8)
    )
    url = f"{API}/rounds/{county_round.pk}/tubes/send"
    assert (
        post(client, url, officer, {"barcodes": ["P001"], "courier": "王师傅"}).status_code == 200
    )
    client.force_login(make_user(Role.DISPATCHER, tree.county))

    page = client.get("/audit/", {"kind": "screening.tube"})

    assert page.status_code == 200
    assert 'value="screening.tube"' in page.content.decode()
    assert page.content.decode().count("<tr data-entry") == 1
    assert page.context["rows"][0].subject == "P001"
