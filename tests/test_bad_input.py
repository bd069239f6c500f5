"""Bad input gets a 4xx with a clear message, never a server error (issue 18's probe)."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.fieldwork.models import CheckpointRecord, Visit
from epidispatch.registry.services import resident_create

from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db

NUL_PATHS = [
    "/units/%00/",
    "/dispatch/units/%00/",
    "/field/grids/%00/",
    "/sites/%00/doses/new/",
    "/units/621121100000/clearance/?grid=%00",
]


@pytest.fixture
def dispatcher_client(client, tree, make_user):
    client.force_login(make_user(Role.DISPATCHER, tree.county))
    return client


@pytest.fixture
def worker(tree, make_user):
    return make_user(Role.GRID_WORKER, tree.grid)


@pytest.fixture
def resident(tree):
    return resident_create(name="牛建国", id_number=id_number(1), grid=tree.grid)


@pytest.fixture
def bearer(worker):
    return {"Authorization": f"Bearer {api_token_create(user=worker, name='t')[1]}"}


@pytest.mark.parametrize("path", NUL_PATHS)
def test_a_nul_byte_in_a_page_address_is_a_400(dispatcher_client, path):
    response = dispatcher_client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_byte_in_an_api_address_is_a_400_with_a_json_body(client, bearer):
    response = client.get("/api/v1/units/%00", headers=bearer)
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_a_nul_byte_in_a_json_body_is_a_400(client, bearer, tree):
    response = client.post(
        "/api/v1/field/checkpoint-records",
        data='{"unit": "'
        + tree.town.code
        + '", "place": "x\\u0000", "seen_at": "2021-08-06T10:00"}',
        content_type="application/json",
        headers=bearer,
    )
    assert response.status_code == 400


def test_a_day_in_the_year_1_is_a_422(client, bearer, tree):
    response = client.get(
        f"/api/v1/units/{tree.grid.code}/coverage", {"as_of": "0001-01-01"}, headers=bearer
    )
    assert response.status_code == 422
    assert response.json()["detail"]


def test_a_visit_number_beyond_bigint_is_refused_by_the_api_and_the_page(
    client, bearer, worker, resident
):
    url = f"/api/v1/field/residents/{resident.pk}/visits"
    response = client.post(
        url, {"outcome": "refused", "seen_visit": "9223372036854775808"}, headers=bearer
    )
    assert response.status_code == 422
    client.force_login(worker)
    page = client.post(
        f"/field/residents/{resident.pk}/visit/",
        {"outcome": "refused", "seen_visit": "9223372036854775808", "submission_id": uuid.uuid4()},
    )
    assert page.status_code in (200, 400)
    assert not Visit.objects.exists()


def test_a_resident_number_beyond_bigint_is_a_4xx(client, bearer):
    response = client.get("/api/v1/field/residents/9223372036854775808/visits", headers=bearer)
    assert response.status_code in (404, 422)


def test_a_10000_character_visit_reason_is_a_422(client, bearer, resident):
    response = client.post(
        f"/api/v1/field/residents/{resident.pk}/visits",
        {"outcome": "contraindicated", "reason": "过" * 10_000},
        headers=bearer,
    )
    assert response.status_code == 422
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("place", "商" * 1000),
        ("name", "名" * 1000),
        ("phone", "1" * 1000),
        ("id_number", "6" * 1000),
        ("seen_at", "0217-08-06T10:00:00"),
        ("seen_at", "2021-13-45T10:00:00"),
    ],
)
def test_over_long_or_impossible_checkpoint_fields_are_a_422(client, tree, make_user, field, value):
    staff = make_user(Role.TOWN_OFFICIAL, tree.town)
    headers = {"Authorization": f"Bearer {api_token_create(user=staff, name='t')[1]}"}
    body = {
        "unit": tree.town.code,
        "place": "新世纪商场",
        "seen_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "phone": "13812345678",
        field: value,
    }
    response = client.post(
        "/api/v1/field/checkpoint-records", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 422, response.content
    assert not CheckpointRecord.objects.exists()


def test_a_checkpoint_seen_in_the_year_217_is_refused_on_the_page(client, tree, make_user):
    client.force_login(make_user(Role.TOWN_OFFICIAL, tree.town))
    response = client.post(
        "/field/checkpoint/",
        {
            "unit": tree.town.pk,
            "place": "新世纪商场",
            "seen_at": "0217-08-06T10:00",
            "phone": "13812345678",
        },
    )
    assert response.status_code in (200, 400)
    assert not CheckpointRecord.objects.exists()


def _json_body_operations() -> list[str]:
    from epidispatch.api.api import api

    spec = api.get_openapi_schema()
    return [
        path
        for path, operations in spec["paths"].items()
        if "application/json"
        in operations.get("post", {}).get("requestBody", {}).get("content", {})
    ]


@pytest.mark.parametrize("path", _json_body_operations())
def test_a_form_posted_to_a_json_operation_is_a_400_not_a_server_error(client, bearer, path):
    """The NUL check has read the form, so the body can no longer be read as JSON: the API
    answers that it wanted JSON instead of failing."""
    url = re.sub(r"\{[^}]+\}", "1", path)
    response = client.post(url, {"note": "x"}, headers=bearer)
    assert response.status_code == 400, (url, response.content[:200])
    assert "JSON" in response.json()["detail"]
