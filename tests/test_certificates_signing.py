"""Signed certificates: what verifies, what does not and why, re-issue and key rotation."""

import base64
import json
import stat

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from epidispatch.certificates import keys
from epidispatch.certificates.models import Certificate
from epidispatch.certificates.payload import Reason, sign, verify
from epidispatch.certificates.selectors import certificate_verify, keys_document, qr_code
from epidispatch.certificates.services import (
    certificate_issue,
    certificate_revoke,
    signing_key_rotate,
)
from epidispatch.core.protection import decrypt
from epidispatch.vaccination.models import Dose
from epidispatch.vaccination.services import dose_correct, dose_delete

from .certificate_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import give_dose

pytestmark = pytest.mark.django_db


def _parts(payload: str) -> list[str]:
    return payload.split(".")


def _body(payload: str) -> dict:
    body = _parts(payload)[2]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _with_body(payload: str, claim: dict) -> str:
    prefix, key_id, _body_text, signature = _parts(payload)
    body = json.dumps(claim, ensure_ascii=False, separators=(",", ":")).encode()
    encoded = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    return f"{prefix}.{key_id}.{encoded}.{signature}"


def test_a_certificate_states_the_name_masked_id_and_doses_and_verifies(vaccinated, dispatcher):
    certificate = certificate_issue(resident=vaccinated, by=dispatcher)

    result = certificate_verify(certificate.payload).as_json()

    assert result["valid"] is True
    assert result["reason"] is None
    assert result["name"] == "张三"
    assert result["id_number_masked"] == vaccinated.id_number_masked
    assert "*" in result["id_number_masked"]
    assert [dose["product"] for dose in result["doses"]] == ["coronavac", "coronavac"]
    assert [dose["dose"] for dose in result["doses"]] == [1, 2]
    assert result["series_complete"] is True
    assert result["key_id"] == certificate.key_id
    assert certificate.payload.isascii()


def test_the_payload_never_holds_the_id_number_in_clear(vaccinated):
    certificate = certificate_issue(resident=vaccinated)
    number = decrypt(vaccinated.id_number_encrypted)
    assert number not in json.dumps(_body(certificate.payload), ensure_ascii=False)


def test_a_changed_name_in_the_payload_is_tampered(vaccinated):
    payload = certificate_issue(resident=vaccinated).payload
    claim = _body(payload) | {"n": "李四"}

    result = certificate_verify(_with_body(payload, claim)).as_json()

    assert (result["valid"], result["reason"]) == (False, Reason.TAMPERED)
    assert result["name"] is None  # what a forger wrote is never shown


def test_an_added_dose_in_the_payload_is_tampered(vaccinated):
    payload = certificate_issue(resident=vaccinated).payload
    claim = _body(payload)
    claim["d"].append(["zf2001", "2022-01-01", ""])

    assert certificate_verify(_with_body(payload, claim)).reason == Reason.TAMPERED


def test_a_certificate_signed_with_a_key_the_office_does_not_publish_is_unknown_key(vaccinated):
    genuine = certificate_issue(resident=vaccinated).payload
    stranger = Ed25519PrivateKey.generate()
    forged = sign(_body(genuine), keys.key_id_of(stranger.public_key()), stranger)

    result = certificate_verify(forged)

    assert (result.valid, result.reason) == (False, Reason.UNKNOWN_KEY)


def test_a_signature_made_with_another_key_under_our_key_id_is_tampered(vaccinated):
    genuine = certificate_issue(resident=vaccinated)
    forged = sign(_body(genuine.payload), genuine.key_id, Ed25519PrivateKey.generate())

    assert certificate_verify(forged).reason == Reason.TAMPERED


def test_a_revoked_certificate_is_invalid_as_revoked_and_listed_with_the_keys(
    vaccinated, dispatcher
):
    certificate = certificate_issue(resident=vaccinated)
    certificate_revoke(certificate=certificate, by=dispatcher, reason="证件信息有误")

    result = certificate_verify(certificate.payload).as_json()

    assert (result["valid"], result["reason"]) == (False, Reason.REVOKED)
    assert result["name"] == "张三"  # genuine, so the checkpoint may compare the person
    assert certificate.serial in keys_document()["revoked"]


def test_revoking_needs_a_reason(vaccinated, dispatcher):
    certificate = certificate_issue(resident=vaccinated)
    with pytest.raises(ValidationError):
        certificate_revoke(certificate=certificate, by=dispatcher, reason="  ")
    assert certificate_verify(certificate.payload).valid


def test_a_certificate_for_a_dose_later_deleted_is_revoked_and_a_new_one_states_what_remains(
    vaccinated, dispatcher
):
    old = certificate_issue(resident=vaccinated)
    dose_delete(dose=Dose.objects.get(dose_number=2), by=dispatcher, reason="重复录入")

    assert certificate_verify(old.payload).reason == Reason.REVOKED
    new = Certificate.objects.get(resident=vaccinated, revoked_at__isnull=True)
    result = certificate_verify(new.payload).as_json()
    assert result["valid"] is True
    assert len(result["doses"]) == 1
    assert result["series_complete"] is False
    assert "重复录入" in Certificate.objects.get(pk=old.pk).revoked_reason


def test_deleting_the_only_dose_revokes_the_certificate_and_issues_none(
    tree, resident, site_staff, coronavac, dispatcher
):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=5)
    old = certificate_issue(resident=resident)

    dose_delete(dose=Dose.objects.get(), by=dispatcher, reason="录错人")

    assert certificate_verify(old.payload).reason == Reason.REVOKED
    assert not Certificate.objects.filter(revoked_at__isnull=True).exists()


def test_a_corrected_dose_revokes_the_certificate_and_the_new_one_has_the_corrected_day(
    vaccinated, dispatcher, coronavac
):
    old = certificate_issue(resident=vaccinated)
    second = Dose.objects.get(dose_number=2)
    corrected = second.given_on.replace(day=1) if second.given_on.day > 1 else second.given_on
    dose_correct(dose=second, given_on=corrected, product=coronavac, by=dispatcher, reason="日期")

    assert certificate_verify(old.payload).reason == Reason.REVOKED
    new = Certificate.objects.get(revoked_at__isnull=True)
    assert certificate_verify(new.payload).as_json()["doses"][1]["given_on"] == str(corrected)


def test_a_dose_change_for_someone_without_certificate_issues_none(vaccinated, dispatcher):
    dose_delete(dose=Dose.objects.get(dose_number=2), by=dispatcher, reason="重复录入")
    assert not Certificate.objects.exists()


def test_asking_again_with_the_same_doses_gives_the_same_certificate(vaccinated):
    first = certificate_issue(resident=vaccinated)
    assert certificate_issue(resident=vaccinated).pk == first.pk


def test_a_new_dose_gives_a_new_certificate_and_the_earlier_one_stays_valid(
    tree, resident, site_staff, coronavac
):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=30)
    first = certificate_issue(resident=resident)
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=0)

    second = certificate_issue(resident=resident)

    assert second.pk != first.pk
    assert certificate_verify(first.payload).valid
    assert certificate_verify(second.payload).as_json()["series_complete"] is True


def test_a_resident_with_no_dose_gets_no_certificate(resident):
    with pytest.raises(ValidationError) as refused:
        certificate_issue(resident=resident)
    assert refused.value.code == "no_dose"


def test_after_a_key_rotation_old_certificates_stay_valid_and_new_ones_use_the_new_key(
    tree, site_staff, coronavac, resident
):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=30)
    old = certificate_issue(resident=resident)
    new_key = signing_key_rotate()
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=0)

    new = certificate_issue(resident=resident)

    assert new.key_id == new_key.key_id != old.key_id
    assert certificate_verify(old.payload).valid
    assert certificate_verify(new.payload).valid
    published = {key["kid"] for key in keys_document()["keys"]}
    assert published == {old.key_id, new.key_id}


def test_removing_a_key_file_makes_its_certificates_unknown_key(vaccinated, _keys_dir):
    certificate = certificate_issue(resident=vaccinated)
    signing_key_rotate()
    (old_file,) = _keys_dir.glob(f"*-{certificate.key_id}.pem")
    old_file.unlink()

    assert certificate_verify(certificate.payload).reason == Reason.UNKNOWN_KEY


def test_private_keys_are_files_only_their_owner_reads(vaccinated, _keys_dir):
    certificate_issue(resident=vaccinated)
    signing_key_rotate()
    files = list(_keys_dir.glob("*.pem"))
    assert len(files) == 2
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(_keys_dir.stat().st_mode) == 0o700
    assert all("PRIVATE" not in json.dumps(key) for key in keys_document()["keys"])


def test_the_qr_code_carries_the_payload_exactly(vaccinated, tmp_path):
    certificate = certificate_issue(resident=vaccinated)
    path = tmp_path / "qr.png"
    qr_code(certificate).save(path, scale=4, border=4)

    (found,) = zxingcpp.read_barcodes(Image.open(path))

    assert found.text == certificate.payload
    assert qr_code(certificate).version <= 20  # one code a phone camera reads at arm's length


@pytest.mark.parametrize(
    "payload",
    ["", "EPC1", "EPC1...", "EPC1.a.b.c", "EPC2.x.y.z", "EPC1.k\x00.b.c", "张三", "a" * 5000],
)
def test_garbage_is_malformed(payload):
    assert verify(payload, {}, set()).reason == Reason.MALFORMED


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600))
def test_any_text_is_answered_with_a_reason_never_an_error(text):
    result = verify(text, {}, set())
    assert result.valid is False
    assert result.reason in {Reason.MALFORMED, Reason.UNKNOWN_KEY}
