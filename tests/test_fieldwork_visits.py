"""Visits (入户核查): each outcome moves the resident's status at once, proof and reason are
required where the outcome needs them, and a form sent twice is stored once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epidispatch.fieldwork.models import CheckpointRecord, CheckpointState, Visit, VisitOutcome
from epidispatch.fieldwork.selectors import to_visit_clearance
from epidispatch.fieldwork.services import checkpoint_record_create, visit_record
from epidispatch.registry.models import Resident, ResidentStatus, UnvaccinatedReason
from epidispatch.registry.services import resident_create
from epidispatch.vaccination.selectors import clearance_list, unit_coverage

from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import new_submission, upload
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("outcome", "status", "reason"),
    [
        (VisitOutcome.VACCINATED_ELSEWHERE, ResidentStatus.AWAY, ""),
        (VisitOutcome.AWAY_REACHED, ResidentStatus.AWAY, ""),
        (VisitOutcome.CONTRAINDICATED, ResidentStatus.CONTRAINDICATED, "2"),
        (VisitOutcome.REFUSED, ResidentStatus.REFUSED, "1"),
        (VisitOutcome.MOVED, ResidentStatus.MOVED_OUT, ""),
        (VisitOutcome.DECEASED, ResidentStatus.DECEASED, ""),
        (VisitOutcome.NOT_FOUND, ResidentStatus.PRESENT, ""),
    ],
)
def test_each_outcome_sets_the_residents_status(resident, worker, outcome, status, reason):
    visit_record(
        resident=resident,
        outcome=outcome,
        by=worker,
        reason="对疫苗成分过敏" if outcome == VisitOutcome.CONTRAINDICATED else "",
        proof=upload() if outcome in ("vaccinated_elsewhere", "away_reached") else None,
    )
    resident.refresh_from_db()
    assert (resident.status, resident.unvaccinated_reason) == (status, reason)
    assert Visit.objects.get().status_before == ResidentStatus.PRESENT


def test_an_excusing_outcome_takes_the_resident_off_the_clearance_list_and_the_figures(
    tree, resident, worker
):
    assert list(clearance_list(worker, tree.grid)) == [resident]
    assert unit_coverage(tree.grid, resident.created_at.date())["to_clear"] == 1
    visit_record(
        resident=resident, outcome=VisitOutcome.VACCINATED_ELSEWHERE, by=worker, proof=upload()
    )
    assert list(clearance_list(worker, tree.grid)) == []
    assert unit_coverage(tree.grid, resident.created_at.date())["to_clear"] == 0


def test_a_refusal_keeps_the_resident_on_the_list_with_reason_unwilling(tree, resident, worker):
    visit_record(resident=resident, outcome=VisitOutcome.REFUSED, by=worker)
    listed = to_visit_clearance(worker, tree.grid).get()
    assert listed.unvaccinated_reason == UnvaccinatedReason.UNWILLING
    assert listed.last_outcome == VisitOutcome.REFUSED


@pytest.mark.parametrize("outcome", [VisitOutcome.VACCINATED_ELSEWHERE, VisitOutcome.AWAY_REACHED])
def test_outcomes_of_people_vaccinated_elsewhere_need_a_proof(resident, worker, outcome):
    with pytest.raises(ValidationError) as error:
        visit_record(resident=resident, outcome=outcome, by=worker)
    assert "proof" in error.value.error_dict
    assert not Visit.objects.exists()
    assert Resident.objects.get().status == ResidentStatus.PRESENT


def test_a_contraindication_needs_its_reason(resident, worker):
    with pytest.raises(ValidationError) as error:
        visit_record(resident=resident, outcome=VisitOutcome.CONTRAINDICATED, by=worker, reason=" ")
    assert "reason" in error.value.error_dict


def test_a_form_sent_twice_is_stored_once(resident, worker):
    submission = new_submission()
    first = visit_record(
        resident=resident, outcome=VisitOutcome.REFUSED, by=worker, submission_id=submission
    )
    again = visit_record(
        resident=resident, outcome=VisitOutcome.REFUSED, by=worker, submission_id=submission
    )
    assert not first.duplicate and again.duplicate
    assert again.visit.pk == first.visit.pk
    assert Visit.objects.count() == 1


def test_a_later_save_over_a_stale_form_lands_and_names_the_earlier_visit(resident, worker):
    """The worker opened the form when there was no visit; another was saved meanwhile."""
    earlier = visit_record(resident=resident, outcome=VisitOutcome.NOT_FOUND, by=worker)
    later = visit_record(
        resident=resident, outcome=VisitOutcome.REFUSED, by=worker, seen_visit_id=0
    )
    assert later.conflict == earlier.visit
    assert Visit.objects.count() == 2
    up_to_date = visit_record(
        resident=resident, outcome=VisitOutcome.MOVED, by=worker, seen_visit_id=later.visit.pk
    )
    assert up_to_date.conflict is None


def test_a_leader_may_see_a_resident_but_not_record_a_visit(resident, leader):
    with pytest.raises(PermissionDenied):
        visit_record(resident=resident, outcome=VisitOutcome.REFUSED, by=leader)
    assert not Visit.objects.exists()


def test_a_visit_closes_the_residents_checkpoint_tasks(tree, resident, worker):
    record = checkpoint_record_create(
        unit=tree.grid,
        place="通渭汽车站",
        seen_at=resident.created_at,
        id_number=id_number(1),
        by=worker,
    )
    assert record.state == CheckpointState.OPEN
    result = visit_record(resident=resident, outcome=VisitOutcome.REFUSED, by=worker)
    record = CheckpointRecord.objects.get()
    assert (record.state, record.closed_by) == (CheckpointState.DONE, result.visit)


def test_the_visit_page_saves_and_returns_to_the_round_with_the_draft_cleared(
    tree, resident, worker, client
):
    client.force_login(worker)
    page = client.get(f"/field/residents/{resident.pk}/visit/")
    assert page.status_code == 200
    form = page.context["form"]
    response = client.post(
        f"/field/residents/{resident.pk}/visit/",
        {
            "outcome": "vaccinated_elsewhere",
            "proof": upload(),
            "seen_visit": form.initial["seen_visit"],
            "submission_id": form.initial["submission_id"],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == (
        f"/field/grids/{tree.grid.code}/?saved={resident.pk}#resident-{resident.pk}"
    )
    round_page = client.get(response["Location"]).content.decode()
    assert f'data-saved-draft="epidispatch:visit:{worker.pk}:{resident.pk}"' in round_page
    assert f'data-resident="{resident.pk}"' not in round_page


def test_the_visit_page_tells_the_later_worker(resident, worker, second_worker, client):
    client.force_login(second_worker)
    form = client.get(f"/field/residents/{resident.pk}/visit/").context["form"]
    visit_record(resident=resident, outcome=VisitOutcome.NOT_FOUND, by=worker)
    response = client.post(
        f"/field/residents/{resident.pk}/visit/",
        {
            "outcome": "refused",
            "seen_visit": form.initial["seen_visit"],
            "submission_id": form.initial["submission_id"],
        },
        follow=True,
    )
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and str(worker) in warnings[0]
    assert Visit.objects.count() == 2


def test_a_form_replayed_for_another_resident_is_refused(tree, resident, worker):
    submission = new_submission()
    visit_record(
        resident=resident, outcome=VisitOutcome.REFUSED, by=worker, submission_id=submission
    )
    neighbour = resident_create(name="李四", id_number=id_number(2), grid=tree.grid)
    with pytest.raises(ValidationError):
        visit_record(
            resident=neighbour, outcome=VisitOutcome.MOVED, by=worker, submission_id=submission
        )
    neighbour.refresh_from_db()
    assert neighbour.status == ResidentStatus.PRESENT
    assert Visit.objects.count() == 1


def test_a_visit_that_changes_the_status_costs_a_pinned_number_of_statements(resident, worker):
    """The write path of a grid worker's evening (bench/visits.py). Seven statements: the
    worker's roles; the resident's lock, which is the figures' lock and count before; the
    resident's row with the visit's context; the visit's insert; the status update; one
    upsert of the figures' difference; the visit's and the status change's trail entries
    in one insert (`changes_batched`). No savepoint of its own (the one counted is the
    test's transaction around the service's atomic block)."""
    with CaptureQueriesContext(connection) as context:
        visit_record(resident=resident, outcome=VisitOutcome.MOVED, by=worker)
    statements = [
        query["sql"]
        for query in context.captured_queries
        if "django_content_type" not in query["sql"]  # cached after a process's first write
    ]
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 1, statements
    assert len(statements) == 7 + 2, statements
    assert sum(sql.startswith('INSERT INTO "audit_change"') for sql in statements) == 1
    assert sum(sql.startswith('INSERT INTO "figures_rollup"') for sql in statements) == 1
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.MOVED_OUT


@pytest.mark.parametrize("outcome", [*VisitOutcome.values, "no_such_outcome"])
def test_a_visit_is_named_by_its_outcomes_label_in_the_trail(resident, worker, outcome):
    """`str(visit)` (the trail's name of the record) gives the label `get_outcome_display`
    gives, and an unknown value as it is."""
    visit = Visit(resident=resident, worker=worker, outcome=outcome, visited_at=timezone.now())
    assert str(visit) == (
        f"{resident} · {visit.get_outcome_display()} ({visit.visited_at:%Y-%m-%d})"
    )
