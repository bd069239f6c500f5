"""A grid worker sees and writes for their own grid only, through the pages and the API;
everyone else is refused as if the resident did not exist (404), and roles that may see
but not visit (a leader) get 403."""

import pytest

from epidispatch.accounts.services import api_token_create
from epidispatch.fieldwork.models import Visit, VisitOutcome
from epidispatch.fieldwork.services import visit_record
from epidispatch.registry.models import Resident, ResidentStatus

from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import JPEG, upload

pytestmark = pytest.mark.django_db


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {api_token_create(user=user, name='test')[1]}"}


@pytest.mark.parametrize("outsider", ["sibling_worker", "far_worker"])
def test_a_worker_of_another_grid_gets_nothing_of_this_one(
    request, tree, resident, worker, outsider, client
):
    other = request.getfixturevalue(outsider)
    visit = visit_record(resident=resident, outcome=VisitOutcome.NOT_FOUND, by=worker).visit
    client.force_login(other)
    for url in [
        f"/field/grids/{tree.grid.code}/",
        f"/field/residents/{resident.pk}/visit/",
        f"/field/visits/{visit.pk}/proof/",
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/field/residents/{resident.pk}/visit/",
        {"outcome": "moved", "seen_visit": visit.pk, "submission_id": f"{1:032x}"},
    )
    assert response.status_code == 404
    headers = bearer(other)
    for url in [
        f"/api/v1/field/residents/{resident.pk}/visits",
        f"/api/v1/field/units/{tree.grid.code}/round",
        f"/api/v1/field/units/{tree.grid.code}/follow-ups",
    ]:
        assert client.get(url, headers=headers).status_code == 404, url
    response = client.post(
        f"/api/v1/field/residents/{resident.pk}/visits", {"outcome": "moved"}, headers=headers
    )
    assert response.status_code == 404
    assert Visit.objects.count() == 1
    assert Resident.objects.get().status == ResidentStatus.PRESENT


def test_the_round_of_a_village_shows_only_the_workers_own_grid(
    tree, resident, sibling_worker, client
):
    """The sibling grid's worker cannot open the village either: it is above their grid."""
    client.force_login(sibling_worker)
    assert client.get(f"/field/grids/{tree.village.code}/").status_code == 404
    response = client.get(f"/field/grids/{tree.sibling_grid.code}/")
    assert response.status_code == 200
    assert resident.name not in response.content.decode()


def test_a_leader_sees_the_round_but_may_not_post_a_visit(tree, resident, leader, client):
    client.force_login(leader)
    assert client.get(f"/field/grids/{tree.grid.code}/").status_code == 200
    assert client.get(f"/field/residents/{resident.pk}/visit/").status_code == 403
    response = client.post(
        f"/api/v1/field/residents/{resident.pk}/visits",
        {"outcome": "refused"},
        headers=bearer(leader),
    )
    assert response.status_code == 403
    assert not Visit.objects.exists()


def test_the_api_records_a_visit_with_its_proof_and_tells_of_a_conflict(
    tree, resident, worker, client
):
    headers = bearer(worker)
    url = f"/api/v1/field/residents/{resident.pk}/visits"
    first = client.post(url, {"outcome": "not_found", "seen_visit": 0}, headers=headers)
    assert first.status_code == 201, first.content
    assert first.json()["conflict"] is None
    second = client.post(
        url,
        {"outcome": "vaccinated_elsewhere", "seen_visit": 0, "proof": upload(JPEG)},
        headers=headers,
    )
    assert second.status_code == 201
    assert second.json()["conflict"]["id"] == first.json()["id"]
    assert second.json()["has_proof"] is True
    assert Resident.objects.get().status == ResidentStatus.AWAY
    listed = client.get(url, headers=headers).json()
    assert [v["outcome"] for v in listed] == ["vaccinated_elsewhere", "not_found"]


def test_the_api_refuses_a_bad_upload_with_422(resident, worker, client):
    response = client.post(
        f"/api/v1/field/residents/{resident.pk}/visits",
        {"outcome": "away_reached", "proof": upload(b"not an image", "a.jpg")},
        headers=bearer(worker),
    )
    assert response.status_code == 422
    assert not Visit.objects.exists()


def test_the_api_stores_a_resent_submission_once(resident, worker, client):
    headers = bearer(worker)
    url = f"/api/v1/field/residents/{resident.pk}/visits"
    data = {"outcome": "refused", "submission_id": "6f1f9c1e-7d7b-4a43-9a3f-0d4b1b1e2f10"}
    assert client.post(url, data, headers=headers).status_code == 201
    again = client.post(url, data, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Visit.objects.count() == 1
