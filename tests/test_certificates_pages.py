"""Certificate pages, the public key document, the checkpoint's one-tap record and the API:
scoped like every read (another town's resident is a 404 through each of them)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.certificates.models import Certificate
from epidispatch.certificates.services import certificate_issue, certificate_revoke
from epidispatch.fieldwork.models import CheckpointRecord, CheckpointState

from .certificate_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import give_dose

pytestmark = pytest.mark.django_db


@pytest.fixture
def station(tree, make_user):
    """Checkpoint staff of the industry grid (stations, markets) of the same county."""
    return make_user(Role.GRID_WORKER, tree.industry_grid, username="station-staff")


def _bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=user, name='test')[1]}"}


def test_a_worker_of_the_grid_issues_the_certificate_and_sees_its_qr_code(
    vaccinated, worker, client
):
    client.force_login(worker)
    response = client.post(f"/certificates/residents/{vaccinated.pk}/")
    assert response.status_code == 302

    page = client.get(f"/certificates/residents/{vaccinated.pk}/").content.decode()

    certificate = Certificate.objects.get()
    assert f'data-certificate="{certificate.serial}"' in page
    assert 'src="data:image/png;base64,' in page
    assert vaccinated.id_number_masked in page
    assert certificate.issued_by == worker


def test_issuing_for_someone_without_doses_says_why_and_stores_nothing(resident, worker, client):
    client.force_login(worker)
    response = client.post(f"/certificates/residents/{resident.pk}/", follow=True)
    assert "message error" in response.content.decode()
    assert not Certificate.objects.exists()


def test_another_towns_worker_gets_404_for_the_page_the_print_and_the_api(
    vaccinated, far_worker, client
):
    certificate = certificate_issue(resident=vaccinated)
    client.force_login(far_worker)

    assert client.get(f"/certificates/residents/{vaccinated.pk}/").status_code == 404
    assert client.post(f"/certificates/residents/{vaccinated.pk}/").status_code == 404
    assert client.get(f"/certificates/{certificate.serial}/print/").status_code == 404
    client.logout()
    api = client.get(f"/api/v1/certificates/residents/{vaccinated.pk}", **_bearer(far_worker))
    assert api.status_code == 404
    assert Certificate.objects.count() == 1


def test_the_print_version_holds_the_qr_code_doses_and_masked_id(vaccinated, leader, client):
    certificate = certificate_issue(resident=vaccinated)
    client.force_login(leader)
    page = client.get(f"/certificates/{certificate.serial}/print/").content.decode()
    assert "data:image/png;base64," in page
    assert vaccinated.id_number_masked in page
    assert page.count("新冠病毒灭活疫苗（Vero细胞）科兴") == 2


def test_the_api_lists_a_residents_certificates_and_verifies_a_payload(vaccinated, leader, client):
    certificate = certificate_issue(resident=vaccinated)
    rows = client.get(f"/api/v1/certificates/residents/{vaccinated.pk}", **_bearer(leader)).json()
    assert [row["serial"] for row in rows] == [certificate.serial]

    answer = client.post(
        "/api/v1/certificates/verify",
        {"payload": certificate.payload},
        content_type="application/json",
        **_bearer(leader),
    ).json()
    assert (answer["valid"], answer["name"]) == (True, "张三")
    bad = client.post(
        "/api/v1/certificates/verify",
        {"payload": "EPC1." + "x" * 9000},
        content_type="application/json",
        **_bearer(leader),
    )
    assert (bad.status_code, bad.json()["reason"]) == (200, "malformed")


def test_the_key_document_is_public_and_holds_keys_revocations_and_nothing_personal(
    vaccinated, dispatcher, client
):
    certificate = certificate_issue(resident=vaccinated)
    certificate_revoke(certificate=certificate, by=dispatcher, reason="测试")

    response = client.get("/.well-known/epidispatch-keys.json")

    assert response.status_code == 200
    document = response.json()
    assert [key["kid"] for key in document["keys"]] == [certificate.key_id]
    assert document["keys"][0]["kty"] == "OKP" and document["keys"][0]["crv"] == "Ed25519"
    assert document["revoked"] == [certificate.serial]
    text = response.content.decode()
    assert "张三" not in text and vaccinated.id_number_masked not in text


def test_one_tap_after_a_revoked_certificate_records_the_person_for_their_grid_worker(
    vaccinated, dispatcher, station, client
):
    certificate = certificate_issue(resident=vaccinated)
    certificate_revoke(certificate=certificate, by=dispatcher, reason="剂次更正")
    client.force_login(station)
    station_unit = station.role_assignments.get().unit

    response = client.post(
        "/certificates/check/record/",
        {"unit": station_unit.pk, "place": "县汽车站", "payload": certificate.payload},
    )

    assert response.status_code == 200, response.content
    record = CheckpointRecord.objects.get()
    assert (record.resident, record.state) == (vaccinated, CheckpointState.OPEN)
    assert record.name == "张三"
    assert record.id_number_masked == vaccinated.id_number_masked


def test_a_forged_certificate_proves_no_identity_so_the_id_number_is_asked(
    vaccinated, station, client
):
    payload = certificate_issue(resident=vaccinated).payload
    prefix, key_id, body, signature = payload.split(".")
    forged = f"{prefix}.{key_id}.{body[:-3]}AAA.{signature}"
    client.force_login(station)
    unit = station.role_assignments.get().unit

    refused = client.post(
        "/certificates/check/record/", {"unit": unit.pk, "place": "商场", "payload": forged}
    )
    assert refused.status_code == 400
    assert not CheckpointRecord.objects.exists()

    typed = client.post(
        "/certificates/check/record/",
        {"unit": unit.pk, "place": "商场", "payload": forged, "id_number": "11010519491231002X"},
    )
    assert typed.status_code == 200
    assert CheckpointRecord.objects.get().state == CheckpointState.UNMATCHED


def test_only_checkpoint_staff_may_record(vaccinated, leader, tree, client):
    client.force_login(leader)
    response = client.post(
        "/certificates/check/record/", {"unit": tree.county.pk, "place": "x", "payload": ""}
    )
    assert response.status_code == 403


def test_the_checkpoint_page_embeds_the_keys_and_revocation_list(vaccinated, station, client):
    certificate = certificate_issue(resident=vaccinated)
    client.force_login(station)
    page = client.get("/certificates/check/").content.decode()
    assert certificate.key_id in page
    assert 'id="certificate-keys"' in page
    assert "zxing_reader.wasm" in page
    assert "张三" not in page


def test_the_resident_page_costs_the_same_queries_for_1_or_3_certificates(
    tree, resident, site_staff, coronavac, worker, client, django_assert_num_queries
):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=400)
    certificate_issue(resident=resident)
    client.force_login(worker)
    url = f"/certificates/residents/{resident.pk}/"
    client.get(url)
    with django_assert_num_queries(6) as small:
        client.get(url)
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=370)
    certificate_issue(resident=resident)
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=10)
    certificate_issue(resident=resident)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("<tr data-serial=") == 3


def test_the_api_list_costs_the_same_queries_for_1_or_3_certificates(
    tree, resident, site_staff, coronavac, leader, client, django_assert_num_queries
):
    headers = _bearer(leader)
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=400)
    certificate_issue(resident=resident)
    url = f"/api/v1/certificates/residents/{resident.pk}"
    client.get(url, **headers)
    # 3: the token with its user and their roles (one statement), the resident, the list
    with django_assert_num_queries(3) as small:
        client.get(url, **headers)
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=370)
    certificate_issue(resident=resident)
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=10)
    certificate_issue(resident=resident)
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get(url, **headers).json()) == 3


def test_a_recorded_time_comes_from_the_phone_when_sent_later(vaccinated, station, client):
    certificate = certificate_issue(resident=vaccinated)
    client.force_login(station)
    unit = station.role_assignments.get().unit
    seen = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    client.post(
        "/certificates/check/record/",
        {
            "unit": unit.pk,
            "place": "车站",
            "payload": certificate.payload,
            "seen_at": seen.isoformat(),
        },
    )
    assert CheckpointRecord.objects.get().seen_at == seen


def test_the_checkpoint_page_speaks_chinese_by_default(station, client):
    client.force_login(station)
    page = client.get("/certificates/check/").content.decode()
    assert "查验接种凭证（见码）" in page
    # The script's words, from the catalogue (json_script writes them as \u escapes).
    assert json.dumps("已接种：已完成全程接种")[1:-1] in page
    assert ">接种凭证</a>" in page  # the navigation


@pytest.mark.parametrize(
    "url", ["/certificates/%00/print/", "/certificates/" + "x" * 300 + "/print/"]
)
def test_odd_serials_are_400_or_404_never_500(url, leader, client):
    client.force_login(leader)
    assert client.get(url).status_code in (400, 404)


def test_odd_checkpoint_input_is_a_400_with_a_message_never_500(station, client):
    client.force_login(station)
    unit = station.role_assignments.get().unit
    for data in (
        {"unit": unit.pk, "place": "车站\x00", "payload": "x"},
        {"unit": unit.pk, "place": "车站", "payload": "x" * 5000},
        {"unit": unit.pk, "place": "车站", "seen_at": "2021-13-45"},
        {"unit": "abc", "place": "车站"},
        {"unit": unit.pk, "place": "车站", "id_number": "12345"},
    ):
        response = client.post("/certificates/check/record/", data)
        assert response.status_code == 400, data
        assert _error_text(response)


def test_the_issue_button_is_offered_only_for_doses_the_current_certificate_lacks(
    tree, resident, site_staff, coronavac, worker, client
):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=30)
    client.force_login(worker)
    url = f"/certificates/residents/{resident.pk}/"
    assert "data-issue" in client.get(url).content.decode()
    certificate_issue(resident=resident)
    assert "data-issue" not in client.get(url).content.decode()
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=0)
    assert "data-issue" in client.get(url).content.decode()


def _error_text(response) -> str:
    """The message of a 400: the page's JSON, or the plain text with which every page
    refuses a NUL byte before it reaches the view (web.middleware.RejectNulMiddleware)."""
    if response["Content-Type"].startswith("application/json"):
        return response.json()["error"]
    return response.content.decode()
