"""HL7 v2.5.1 VXU^V04 import (DESIGN.md §8 `import_hl7`, `POST /api/v1/hl7/vxu`): the dose
file's rules, scoping and idempotence, an ACK per message, nothing stored from a bad one."""

import json
from datetime import date
from io import StringIO

import hl7
import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.core.protection import decrypt
from epidispatch.imports.models import ImportBatch
from epidispatch.interop import hl7v2
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, DoseSource, VaccinationStatus

from .dose_files import id_number

pytestmark = pytest.mark.django_db

SINOVAC = "北京科兴中维生物技术有限公司"


def vxu(
    control_id: str,
    number: str,
    *,
    given="20210501103000",
    dose="1",
    maker=f"SIN^{SINOVAC}^MVX",
    lot="L202105",
    kind="VXU^V04^VXU_V04",
    id_type="NNCHN",
    extra_rxa="",
) -> str:
    segments = [
        f"MSH|^~\\&|PROVINCE|GS|EPIDISPATCH|621121|20210501120000||{kind}|{control_id}|P|2.5.1",
        f"PID|1||{number}^^^CHN^{id_type}||张^三||19700101|M",
        "ORC|RE||1",
        f"RXA|0|1|{given}||511^CoronaVac^CVX|0.5|mL||00^new^NIP001||^^^621121970001||||{lot}||"
        f"{maker}|||CP|A",
        f"OBX|1|NM|30973-2^Dose number in series^LN|1|{dose}||||||F",
    ]
    if extra_rxa:
        segments += ["ORC|RE||2", extra_rxa]
    return "\r".join(segments) + "\r"


@pytest.fixture
def people(tree):
    return {
        "home": resident_create(name="甲", id_number=id_number(date(1970, 1, 1)), grid=tree.grid),
        "away": resident_create(
            name="乙", id_number=id_number(date(1971, 1, 1)), grid=tree.other_grid
        ),
    }


def number_of(resident) -> str:
    return decrypt(resident.id_number_encrypted)


def import_hl7(tmp_path, text: str, *args: str, encoding="utf-8") -> dict:
    path = tmp_path / "messages.hl7"
    path.write_bytes(text.encode(encoding))
    out = StringIO()
    call_command("import_hl7", str(path), "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_a_vxu_stores_its_dose_with_the_dose_files_values(people, tmp_path):
    result = import_hl7(tmp_path, vxu("M1", number_of(people["home"])))

    assert result == {
        "messages": 1,
        "stored": 1,
        "unchanged": 0,
        "rejected": 0,
        "acks": [{"control_id": "M1", "code": "AA"}],
    }
    dose = Dose.objects.get()
    assert (dose.resident, dose.dose_number, dose.given_on) == (
        people["home"],
        1,
        date(2021, 5, 1),
    )
    assert (dose.product.code, dose.lot_number, dose.source) == (
        "coronavac",
        "L202105",
        DoseSource.HL7,
    )
    assert dose.site.code == "621121970001"
    assert VaccinationStatus.objects.get(resident=people["home"]).doses == 1


def test_the_same_vxu_twice_stores_one_dose(people, tmp_path):
    message = vxu("M1", number_of(people["home"]))
    first = import_hl7(tmp_path, message)
    again = import_hl7(tmp_path, message + message)

    assert (first["stored"], first["unchanged"]) == (1, 0)
    assert (again["messages"], again["stored"], again["unchanged"]) == (2, 0, 2)
    assert [ack["code"] for ack in again["acks"]] == ["AA", "AA"]
    assert Dose.objects.count() == 1


def test_several_messages_with_mllp_framing_get_an_ack_each(people, tmp_path):
    home, away = number_of(people["home"]), number_of(people["away"])
    framed = "".join(
        f"\x0b{message}\x1c\r"
        for message in (vxu("A", home), vxu("B", away), vxu("C", home, dose="2", given="20210601"))
    )
    result = import_hl7(tmp_path, framed)

    assert result["acks"] == [
        {"control_id": "A", "code": "AA"},
        {"control_id": "B", "code": "AA"},
        {"control_id": "C", "code": "AA"},
    ]
    assert (result["messages"], result["stored"]) == (3, 3)
    assert sorted(Dose.objects.values_list("dose_number", flat=True)) == [1, 1, 2]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"kind": "ADT^A01^ADT_A01"}, "AR"),
        ({"given": "20991301"}, "AE"),
        ({"given": "20190101"}, "AE"),
        ({"dose": "9"}, "AE"),
        ({"maker": "XYZ^某某生物^MVX"}, "AE"),
        ({"id_type": "PPN"}, "AE"),
    ],
)
def test_a_malformed_vxu_is_answered_ae_or_ar_and_changes_nothing(people, tmp_path, changes, code):
    result = import_hl7(tmp_path, vxu("BAD", number_of(people["home"]), **changes))

    assert result["acks"] == [{"control_id": "BAD", "code": code}]
    assert (result["stored"], result["rejected"]) == (0, 1)
    assert not Dose.objects.exists()


def test_a_message_without_pid_or_rxa_or_control_id_is_rejected(people, tmp_path):
    header = "MSH|^~\\&|P|GS|E|621121|20210501||VXU^V04^VXU_V04|{}|P|2.5.1"
    text = "\r".join(
        [
            header.format("NOPID"),
            "RXA|0|1|20210501||511^CoronaVac^CVX",
            header.format("NORXA"),
            "PID|1||X^^^CHN^NNCHN",
            header.format(""),
            "PID|1||X^^^CHN^NNCHN",
            "RXA|0|1|20210501",
            "garbage without a header",
        ]
    )
    result = import_hl7(tmp_path, "junk first\r" + text)

    assert [ack["code"] for ack in result["acks"]] == ["AR", "AR", "AR", "AR"]
    assert result["rejected"] == 4
    assert not Dose.objects.exists()


def test_a_message_with_one_refused_dose_stores_none_of_its_doses(people, tmp_path):
    number = number_of(people["home"])
    second = (
        "RXA|0|1|20210601||511^CoronaVac^CVX|0.5|mL||||||||L2||SIN^某某生物^MVX|||CP|A\r"
        "OBX|1|NM|30973-2^Dose number in series^LN|1|2||||||F"
    )
    result = import_hl7(tmp_path, vxu("TWO", number, extra_rxa=second))

    assert result["acks"] == [{"control_id": "TWO", "code": "AE"}]
    assert not Dose.objects.exists()


def test_a_resident_outside_the_users_units_is_refused(people, tmp_path, make_user, tree):
    make_user(Role.TOWN_OFFICIAL, tree.town, username="town")
    result = import_hl7(
        tmp_path,
        vxu("IN", number_of(people["home"])) + vxu("OUT", number_of(people["away"])),
        "--user",
        "town",
    )

    assert [ack["code"] for ack in result["acks"]] == ["AA", "AE"]
    assert list(Dose.objects.values_list("resident", flat=True)) == [people["home"].pk]


def test_the_http_endpoint_answers_the_ack_and_is_scoped(people, client, make_user, tree):
    official = make_user(Role.TOWN_OFFICIAL, tree.town)
    _record, token = api_token_create(user=official, name="province feed")
    body = vxu("IN", number_of(people["home"])) + vxu("OUT", number_of(people["away"]))

    response = client.post(
        "/api/v1/hl7/vxu",
        data=body.encode(),
        content_type="x-application/hl7-v2+er7",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    answer = response.content.decode()
    first, second = ("MSH" + part for part in answer.split("MSH")[1:])
    assert [str(hl7.parse(ack)["MSA.F1"]) for ack in (first, second)] == ["AA", "AE"]
    assert [str(hl7.parse(ack)["MSA.F2"]) for ack in (first, second)] == ["IN", "OUT"]
    assert (hl7.parse(first)["MSH.F9.R1.C1"], hl7.parse(first)["MSH.F9.R1.C2"]) == ("ACK", "V04")
    assert "身份证件号码" in hl7.parse(second)["ERR.F8"]
    assert list(Dose.objects.values_list("resident", flat=True)) == [people["home"].pk]
    assert ImportBatch.objects.filter(uploaded_by=official).count() == 2


def test_the_http_endpoint_refuses_a_role_that_may_not_import(people, client, make_user, tree):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    _record, token = api_token_create(user=worker, name="phone")
    response = client.post(
        "/api/v1/hl7/vxu",
        data=vxu("M", number_of(people["home"])).encode(),
        content_type="x-application/hl7-v2+er7",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 403
    assert not Dose.objects.exists()


def test_a_gb18030_file_and_nul_bytes_lose_nothing(people, tmp_path):
    number = number_of(people["home"])
    result = import_hl7(tmp_path, vxu("G", number), encoding="gb18030")
    assert result["acks"] == [{"control_id": "G", "code": "AA"}]

    poisoned = import_hl7(tmp_path, vxu("N", number, lot="L\x00X", dose="2", given="20210601"))
    assert poisoned["acks"] == [{"control_id": "N", "code": "AR"}]
    assert Dose.objects.count() == 1


segment_text = st.text(
    alphabet=st.sampled_from("MSHPIDRXAOBX|^~\\&012 \x00\x0b\x1c张"), max_size=40
)


@settings(max_examples=200, deadline=None)
@given(st.lists(segment_text, max_size=8))
def test_any_text_is_read_as_messages_or_refused_never_a_crash(segments):
    text = "MSH|^~\\&|A|B|C|D|2021||VXU^V04|X|P|2.5.1\r" + "\r".join(segments)
    for message in hl7v2.messages_split(text):
        try:
            hl7v2.message_parse(message)
        except hl7v2.MessageRefused:
            continue
        for row in hl7v2.dose_rows(message):
            assert all(isinstance(value, str) for value in row.values())
        assert hl7.parse(hl7v2.ack(message, "AE", "原因|^~")).segment("MSA")
