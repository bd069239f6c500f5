"""Proof of vaccination elsewhere: brought in by a visit, accepted by the county office
or the town, it counts as a dose given elsewhere with its source (DESIGN.md §6, 获取接种凭证)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.certificates.models import ProofReview
from epidispatch.certificates.selectors import certificate_verify
from epidispatch.certificates.services import certificate_issue, proof_accept, proof_refuse
from epidispatch.dispatch.selectors import live_bands, totals
from epidispatch.fieldwork.models import VisitOutcome
from epidispatch.fieldwork.services import visit_record
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.models import Dose, DoseSource, VaccinationStatus

from .certificate_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import give_dose, upload
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_official(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.town, username="pingxiang-official")


@pytest.fixture
def other_official(tree, make_user):
    return make_user(Role.TOWN_OFFICIAL, tree.other_town, username="jichuan-official")


def _proof_visit(resident, worker):
    return visit_record(
        resident=resident,
        outcome=VisitOutcome.VACCINATED_ELSEWHERE,
        by=worker,
        note="在兰州接种",
        proof=upload(),
    ).visit


def test_an_accepted_proof_counts_as_a_dose_given_elsewhere_with_its_source(
    tree, resident, worker, town_official, coronavac
):
    visit = _proof_visit(resident, worker)
    before = totals(live_bands(tree.town))
    day = timezone.localdate() - timedelta(days=40)

    review = proof_accept(
        visit=visit,
        product=coronavac,
        given_on=day,
        place="甘肃省兰州市城关区接种门诊",
        lot_number="202104012",
        by=town_official,
    )

    dose = Dose.objects.get(resident=resident)
    assert (dose.source, dose.site_name, dose.given_on) == (
        DoseSource.OUTSIDE,
        "甘肃省兰州市城关区接种门诊",
        day,
    )
    assert (dose.dose_number, dose.site_id, dose.recorded_by) == (1, None, town_official)
    assert review.accepted and review.dose == dose
    after = totals(live_bands(tree.town))
    assert after["doses"] == before["doses"] + 1
    assert after["first_dose"] == before["first_dose"] + 1
    assert VaccinationStatus.objects.get(resident=resident).doses == 1


def test_an_accepted_dose_elsewhere_is_on_the_next_certificate(
    tree, resident, worker, town_official, coronavac, site_staff
):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=60)
    proof_accept(
        visit=_proof_visit(resident, worker),
        product=coronavac,
        given_on=timezone.localdate() - timedelta(days=30),
        place="兰州",
        by=town_official,
    )
    answer = certificate_verify(certificate_issue(resident=resident).payload).as_json()
    assert len(answer["doses"]) == 2 and answer["series_complete"] is True


def test_the_grid_worker_who_brought_the_proof_may_not_accept_it(resident, worker, coronavac):
    visit = _proof_visit(resident, worker)
    with pytest.raises(PermissionDenied):
        proof_accept(
            visit=visit, product=coronavac, given_on=timezone.localdate(), place="x", by=worker
        )
    assert not Dose.objects.exists()


def test_an_official_of_another_town_may_not_accept_it(resident, worker, other_official, coronavac):
    visit = _proof_visit(resident, worker)
    with pytest.raises(PermissionDenied):
        proof_accept(
            visit=visit,
            product=coronavac,
            given_on=timezone.localdate(),
            place="x",
            by=other_official,
        )


def test_a_dose_elsewhere_before_the_last_recorded_dose_is_refused_with_a_reason(
    tree, resident, worker, town_official, coronavac, site_staff
):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=10)
    visit = _proof_visit(resident, worker)
    with pytest.raises(ValidationError) as refused:
        proof_accept(
            visit=visit,
            product=coronavac,
            given_on=timezone.localdate() - timedelta(days=20),
            place="兰州",
            by=town_official,
        )
    assert refused.value.code == "before_previous"
    assert not ProofReview.objects.exists()


def test_a_future_date_or_no_place_is_refused(resident, worker, town_official, coronavac):
    visit = _proof_visit(resident, worker)
    for day, place in (
        (timezone.localdate() + timedelta(days=1), "兰州"),
        (timezone.localdate(), " "),
    ):
        with pytest.raises(ValidationError):
            proof_accept(
                visit=visit, product=coronavac, given_on=day, place=place, by=town_official
            )
    assert not Dose.objects.exists()


def test_a_refused_proof_adds_no_dose_and_needs_a_reason(resident, worker, town_official):
    visit = _proof_visit(resident, worker)
    with pytest.raises(ValidationError):
        proof_refuse(visit=visit, note="", by=town_official)
    review = proof_refuse(visit=visit, note="照片看不清", by=town_official)
    assert not review.accepted
    assert not Dose.objects.exists()


def test_a_proof_is_reviewed_once(resident, worker, town_official, coronavac):
    visit = _proof_visit(resident, worker)
    proof_refuse(visit=visit, note="照片看不清", by=town_official)
    with pytest.raises(ValidationError):
        proof_accept(
            visit=visit,
            product=coronavac,
            given_on=timezone.localdate(),
            place="兰州",
            by=town_official,
        )
    assert not Dose.objects.exists()


def test_the_review_page_accepts_a_proof_and_another_town_gets_404(
    resident, worker, town_official, other_official, coronavac, client
):
    visit = _proof_visit(resident, worker)
    client.force_login(other_official)
    assert client.get(f"/certificates/proofs/{visit.pk}/").status_code == 404
    assert f'data-visit="{visit.pk}"' not in client.get("/certificates/proofs/").content.decode()

    client.force_login(town_official)
    assert f'data-visit="{visit.pk}"' in client.get("/certificates/proofs/").content.decode()
    response = client.post(
        f"/certificates/proofs/{visit.pk}/",
        {
            "decision": "accept",
            "product": coronavac.pk,
            "given_on": str(timezone.localdate() - timedelta(days=3)),
            "place": "兰州市城关区",
        },
    )
    assert response.status_code == 302
    assert Dose.objects.get().source == DoseSource.OUTSIDE
    assert f'data-visit="{visit.pk}"' not in client.get("/certificates/proofs/").content.decode()


def test_accepting_without_the_dose_details_says_which_are_missing(
    resident, worker, town_official, client
):
    visit = _proof_visit(resident, worker)
    client.force_login(town_official)
    response = client.post(f"/certificates/proofs/{visit.pk}/", {"decision": "accept"})
    assert response.status_code == 200
    assert response.content.decode().count("errorlist") == 3
    assert not Dose.objects.exists()


def test_the_proof_list_costs_the_same_queries_for_2_or_8(
    tree, worker, town_official, client, django_assert_num_queries
):
    def add(start: int, count: int):
        for n in range(start, start + count):
            person = resident_create(name=f"居民{n}", id_number=id_number(n), grid=tree.grid)
            _proof_visit(person, worker)

    add(10, 2)
    client.force_login(town_official)
    client.get("/certificates/proofs/")
    with django_assert_num_queries(5) as small:
        client.get("/certificates/proofs/")
    add(20, 6)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get("/certificates/proofs/")
    assert response.content.decode().count("<tr data-visit=") == 8
