"""The §8 certificate commands, run as a script would run them (a subprocess on the
installed `epidispatch` script against the test database and the data folder's keys)."""

import json
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from epidispatch.core.protection import decrypt

from .cli import run
from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import give_dose

pytestmark = pytest.mark.django_db(transaction=True)

VERIFY_KEYS = {
    "valid",
    "reason",
    "name",
    "id_number_masked",
    "doses",
    "series_complete",
    "issued_at",
    "key_id",
}


@pytest.fixture
def id_number(tree, resident, site_staff, coronavac):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=40)
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=10)
    return decrypt(resident.id_number_encrypted)


def _issue(id_number: str) -> dict:
    result = run("certificate_issue", id_number, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _verify(payload: str) -> dict:
    result = run("certificate_verify", payload, "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == VERIFY_KEYS
    return answer


def test_certificate_issue_prints_the_payload_and_a_qr_image_that_carries_it(id_number):
    issued = _issue(id_number)

    assert set(issued) == {"certificate", "qr_png"}
    assert issued["certificate"].startswith("EPC1.") and issued["certificate"].isascii()
    (found,) = zxingcpp.read_barcodes(Image.open(Path(issued["qr_png"])))
    assert found.text == issued["certificate"]


def test_certificate_verify_answers_valid_with_the_masked_id_and_doses(id_number, resident):
    answer = _verify(_issue(id_number)["certificate"])

    assert answer["valid"] is True and answer["reason"] is None
    assert answer["name"] == "张三"
    assert answer["id_number_masked"] == resident.id_number_masked
    assert [dose["dose"] for dose in answer["doses"]] == [1, 2]
    assert answer["series_complete"] is True
    assert answer["issued_at"] and answer["key_id"]


def test_certificate_verify_tells_each_reason(id_number):
    payload = _issue(id_number)["certificate"]
    prefix, key_id, body, signature = payload.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]

    assert _verify(f"{prefix}.{key_id}.{flipped}.{signature}")["reason"] == "tampered"
    assert _verify(f"{prefix}.00000000.{body}.{signature}")["reason"] == "unknown_key"
    assert _verify("not a certificate")["reason"] == "malformed"


def test_issuing_for_an_unknown_or_invalid_id_number_fails_with_a_message(tree):
    unknown = run("certificate_issue", "11010519491231002X", "--json")
    assert unknown.returncode != 0 and unknown.stderr.strip()
    invalid = run("certificate_issue", "123", "--json")
    assert invalid.returncode != 0 and invalid.stderr.strip()


def test_after_certificate_rotate_key_the_old_certificate_still_verifies(id_number):
    old = _issue(id_number)["certificate"]
    rotated = run("certificate_rotate_key", "--json")
    assert rotated.returncode == 0, rotated.stderr
    new_key = json.loads(rotated.stdout)["key_id"]

    answer = _verify(old)

    assert answer["valid"] is True
    assert answer["key_id"] != new_key
