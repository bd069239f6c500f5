"""FHIR R4 export (DESIGN.md §8 `export_fhir` and its GET endpoints) and the dose change
feed: valid resources carrying exactly the unit's doses up to the date, scoped, masked."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.immunization import Immunization
from fhir.resources.R4B.patient import Patient

from epidispatch.accounts.models import Role
from epidispatch.accounts.services import api_token_create
from epidispatch.audit.models import AuditAction, AuditEntry
from epidispatch.core.protection import decrypt
from epidispatch.interop.services import vxu_messages_import
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose

from .dose_files import id_number
from .test_interop_hl7 import vxu

pytestmark = pytest.mark.django_db

WIBP = "WIBP^武汉生物制品研究所有限责任公司^MVX"
KCONVAC = "KT^深圳康泰生物制品股份有限公司^MVX"


def number_of(resident) -> str:
    return decrypt(resident.id_number_encrypted)


@pytest.fixture
def people(tree):
    """平襄镇 (town): 甲 with two doses (05-01 CoronaVac, 06-01 KCONVAC), 丙 with one on
    07-01 (WIBP, no CVX code); 鸡川镇 (other town): 乙 with one on 05-01."""
    people = {
        "home": resident_create(name="甲", id_number=id_number(date(1970, 1, 1)), grid=tree.grid),
        "neighbour": resident_create(
            name="丙", id_number=id_number(date(1980, 2, 2)), grid=tree.sibling_grid
        ),
        "away": resident_create(
            name="乙", id_number=id_number(date(1971, 1, 1)), grid=tree.other_grid
        ),
    }
    text = (
        vxu("1", number_of(people["home"]), lot="L1")
        + vxu("2", number_of(people["home"]), dose="2", given="20210601", maker=KCONVAC, lot="L2")
        + vxu("3", number_of(people["neighbour"]), given="20210701", maker=WIBP, lot="L3")
        + vxu("4", number_of(people["away"]))
    )
    result = vxu_messages_import(text=text, source_name="fixture")
    assert result.stored == 4
    return people


@pytest.fixture
def town_token(tree, make_user):
    _record, token = api_token_create(user=make_user(Role.TOWN_OFFICIAL, tree.town), name="t")
    return {"Authorization": f"Bearer {token}"}


def dose_of(resident, number: int) -> Dose:
    return Dose.objects.get(resident=resident, dose_number=number)


def test_the_unit_bundle_validates_and_carries_exactly_its_doses_up_to_the_date(
    people, tree, client, town_token
):
    response = client.get(
        f"/api/v1/fhir/units/{tree.town.code}/Bundle?as_of=2021-06-15", headers=town_token
    )

    assert response.status_code == 200
    bundle = response.json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    resources = [entry["resource"] for entry in bundle["entry"]]
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    immunizations = [r for r in resources if r["resourceType"] == "Immunization"]
    assert sorted(p["name"][0]["text"] for p in patients) == ["丙", "甲"]
    assert {p["identifier"][0]["value"] for p in patients} == {
        people["home"].id_number_masked,
        people["neighbour"].id_number_masked,
    }
    home = people["home"]
    assert sorted(i["id"] for i in immunizations) == sorted(
        [str(dose_of(home, 1).pk), str(dose_of(home, 2).pk)]
    )
    first = next(i for i in immunizations if i["id"] == str(dose_of(home, 1).pk))
    assert first["vaccineCode"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/cvx",
        "code": "511",
    }
    assert first["vaccineCode"]["text"] == "新冠病毒灭活疫苗（Vero细胞）科兴"
    assert first["occurrenceDateTime"] == "2021-05-01T10:30:00+08:00"
    assert first["lotNumber"] == "L1"
    assert first["protocolApplied"] == [{"doseNumberPositiveInt": 1}]
    assert first["patient"] == {"reference": f"Patient/{home.pk}"}


def test_a_product_without_a_cvx_code_carries_only_its_product_name(people, tree):
    out = StringIO()
    call_command("export_fhir", tree.town.code, "--as-of", "2021-07-01", stdout=out)
    bundle = json.loads(out.getvalue())
    Bundle.model_validate(bundle)

    wibp = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["id"] == str(dose_of(people["neighbour"], 1).pk)
        and e["resource"]["resourceType"] == "Immunization"
    )
    assert [c["system"] for c in wibp["vaccineCode"]["coding"]] == [
        "urn:epidispatch:vaccine-product"
    ]
    assert wibp["vaccineCode"]["text"] == "新冠病毒灭活疫苗（Vero细胞）武汉生物"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert (kinds.count("Patient"), kinds.count("Immunization")) == (2, 3)
    assert number_of(people["home"]) not in out.getvalue()


def test_patient_and_immunization_endpoints_validate(people, client, town_token):
    home = people["home"]
    patient = client.get(f"/api/v1/fhir/Patient/{home.pk}", headers=town_token)
    immunization = client.get(
        f"/api/v1/fhir/Immunization/{dose_of(home, 2).pk}", headers=town_token
    )

    assert (patient.status_code, immunization.status_code) == (200, 200)
    Patient.model_validate(patient.json())
    Immunization.model_validate(immunization.json())
    assert patient.json()["identifier"][0]["value"] == home.id_number_masked
    assert immunization.json()["protocolApplied"] == [{"doseNumberPositiveInt": 2}]


def test_a_town_token_cannot_read_another_towns_fhir_or_changes(people, tree, client, town_token):
    away = people["away"]
    refused = [
        f"/api/v1/fhir/units/{tree.other_town.code}/Bundle",
        f"/api/v1/fhir/units/{tree.far_town.code}/Bundle",
        f"/api/v1/fhir/Patient/{away.pk}",
        f"/api/v1/fhir/Immunization/{dose_of(away, 1).pk}",
    ]
    for url in refused:
        assert client.get(url, headers=town_token).status_code == 404, url
    feed = client.get("/api/v1/changes/doses", headers=town_token).json()
    assert away.pk not in {item["resident_id"] for item in feed["items"]}
    assert len(feed["items"]) == 3


def test_the_bundle_unmasks_only_for_a_role_that_may_and_audits_it(
    people, tree, client, town_token, make_user
):
    url = f"/api/v1/fhir/units/{tree.town.code}/Bundle?as_of=2021-06-15&unmask=true"
    response = client.get(url, headers=town_token)

    assert response.status_code == 200
    values = {e["resource"]["identifier"][0]["value"] for e in response.json()["entry"][:2]}
    assert values == {number_of(people["home"]), number_of(people["neighbour"])}
    assert AuditEntry.objects.filter(action=AuditAction.UNMASK_RESIDENT).count() == 1

    _record, token = api_token_create(user=make_user(Role.LEADER, tree.county), name="l")
    leader = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert leader.status_code == 403
    assert AuditEntry.objects.filter(action=AuditAction.UNMASK_RESIDENT).count() == 1


def test_the_change_feed_pages_by_cursor_and_gives_each_dose_once(people, client, town_token):
    seen, cursor = [], 0
    for _page in range(5):
        page = client.get(
            f"/api/v1/changes/doses?cursor={cursor}&limit=2", headers=town_token
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    town_doses = Dose.objects.exclude(resident=people["away"]).order_by("pk")
    assert seen == list(town_doses.values_list("pk", flat=True))

    idle = client.get(f"/api/v1/changes/doses?cursor={cursor}", headers=town_token).json()
    assert idle == {"items": [], "next_cursor": cursor, "has_more": False}


@pytest.mark.parametrize(
    "query", ["cursor=-1", "cursor=99999999999999999999999", "limit=0", "limit=5000", "cursor=x"]
)
def test_the_change_feed_refuses_bad_cursors_without_a_500(people, client, town_token, query):
    assert client.get(f"/api/v1/changes/doses?{query}", headers=town_token).status_code == 422


def test_fhir_ids_beyond_a_bigint_are_refused_without_a_500(people, client, town_token):
    for url in ("/api/v1/fhir/Patient/99999999999999999999", "/api/v1/fhir/Immunization/0"):
        assert client.get(url, headers=town_token).status_code == 422


@pytest.mark.parametrize("extra_residents", [0, 6])
def test_bundle_and_feed_queries_are_pinned_at_two_data_sizes(
    people, tree, client, town_token, django_assert_num_queries, extra_residents
):
    """Bundle: token with its user and scope, its last use, unit, residents, doses; feed:
    token with scope, doses, deleted doses."""
    more = [
        resident_create(name=f"丁{n}", id_number=id_number(date(1990, 1, n + 1)), grid=tree.grid)
        for n in range(extra_residents)
    ]
    vxu_messages_import(
        text="".join(vxu(f"X{n}", number_of(r)) for n, r in enumerate(more)), source_name="more"
    )
    bundle = f"/api/v1/fhir/units/{tree.town.code}/Bundle?as_of=2022-01-01"
    with django_assert_num_queries(5):
        response = client.get(bundle, headers=town_token)
    assert len(response.json()["entry"]) == 2 + 3 + 2 * extra_residents
    with django_assert_num_queries(3):
        response = client.get("/api/v1/changes/doses", headers=town_token)
    assert len(response.json()["items"]) == 3 + extra_residents
