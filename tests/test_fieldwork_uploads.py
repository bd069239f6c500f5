"""Proof uploads: checked by content (JPEG, PNG, PDF), by size and for emptiness, stored
under MEDIA_ROOT with a random name, and served only to users who may see the visit."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from epidispatch.fieldwork.models import Visit, VisitOutcome
from epidispatch.fieldwork.services import visit_record
from epidispatch.registry.models import Resident, ResidentStatus

from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import JPEG, PDF, PNG, upload

pytestmark = pytest.mark.django_db


def post_visit(client, resident, **fields):
    form = client.get(f"/field/residents/{resident.pk}/visit/").context["form"]
    data = {
        "outcome": "vaccinated_elsewhere",
        "seen_visit": form.initial["seen_visit"],
        "submission_id": form.initial["submission_id"],
        **fields,
    }
    return client.post(f"/field/residents/{resident.pk}/visit/", data)


def refused_for(response, code: str) -> bool:
    form = response.context["form"]
    return response.status_code == 200 and form.has_error("proof", code)


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (b"<html><script>alert(1)</script></html>", "photo.jpg", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "photo.gif", "image/gif"),
        (b"PK\x03\x04 an xlsx or a zip", "record.pdf", "application/pdf"),
        (b"MZ\x90\x00 an executable", "photo.png", "image/png"),
    ],
)
def test_a_file_that_is_not_a_photo_or_pdf_is_refused_whatever_its_name(
    resident, worker, client, content, name, content_type
):
    client.force_login(worker)
    response = post_visit(client, resident, proof=upload(content, name, content_type))
    assert refused_for(response, "proof_type")
    assert not Visit.objects.exists()
    assert Resident.objects.get().status == ResidentStatus.PRESENT
    assert not any(Path(django_settings.MEDIA_ROOT).rglob("*.*"))


def test_a_file_over_the_limit_is_refused(resident, worker, client, settings):
    settings.EPIDISPATCH_PROOF_MAX_BYTES = 1024
    client.force_login(worker)
    response = post_visit(client, resident, proof=upload(JPEG + b"\x00" * 1024))
    assert refused_for(response, "proof_too_large")
    assert not Visit.objects.exists()


def test_the_default_limit_is_5_mb(resident, worker):
    too_large = upload(JPEG + b"\x00" * (5 * 1024 * 1024))
    with pytest.raises(ValidationError) as error:
        visit_record(resident=resident, outcome="away_reached", by=worker, proof=too_large)
    assert error.value.error_dict["proof"][0].code == "proof_too_large"
    assert "5 MB" in error.value.messages[0]


def test_an_empty_file_is_refused(resident, worker, client):
    client.force_login(worker)
    response = post_visit(client, resident, proof=upload(b""))
    assert refused_for(response, "proof_empty")
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("content", "content_type", "suffix"),
    [(JPEG, "image/jpeg", "jpg"), (PNG, "image/png", "png"), (PDF, "application/pdf", "pdf")],
)
def test_a_proof_is_stored_outside_the_web_root_under_a_random_name(
    resident, worker, content, content_type, suffix
):
    result = visit_record(
        resident=resident,
        outcome=VisitOutcome.AWAY_REACHED,
        by=worker,
        proof=upload(content, "张三的接种凭证.bin", "application/octet-stream"),
    )
    visit = result.visit
    path = Path(visit.proof.path)
    assert path.is_relative_to(Path(django_settings.MEDIA_ROOT))
    assert not path.is_relative_to(Path(django_settings.STATIC_ROOT))
    assert path.read_bytes() == content
    assert path.suffix == f".{suffix}" and "张三" not in str(path)
    assert visit.proof_content_type == content_type


def test_the_proof_is_served_to_the_grid_only_with_its_checked_type(
    resident, worker, sibling_worker, far_worker, client
):
    visit = visit_record(
        resident=resident, outcome=VisitOutcome.AWAY_REACHED, by=worker, proof=upload()
    ).visit
    client.force_login(worker)
    response = client.get(f"/field/visits/{visit.pk}/proof/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == JPEG
    for outsider in (sibling_worker, far_worker):
        client.force_login(outsider)
        assert client.get(f"/field/visits/{visit.pk}/proof/").status_code == 404


def test_proofs_are_not_reachable_as_static_or_media_urls(resident, worker, client):
    visit = visit_record(
        resident=resident, outcome=VisitOutcome.AWAY_REACHED, by=worker, proof=upload()
    ).visit
    client.force_login(worker)
    for prefix in ("/static/", "/media/", "/uploads/", "/"):
        assert client.get(f"{prefix}{visit.proof.name}").status_code == 404
