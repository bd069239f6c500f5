"""Two workers saving the same resident at the same moment, on a real PostgreSQL server:
nothing is lost, and the later one is told. Reminders sent by two senders at once go out
once."""

import threading

import pytest
from django.db import connection

from epidispatch.fieldwork import reminders
from epidispatch.fieldwork.models import Reminder, ReminderState, Visit, VisitOutcome
from epidispatch.fieldwork.services import reminders_queue, reminders_send, visit_record
from epidispatch.figures.models import FIGURES, Rollup
from epidispatch.figures.rollups import banded_on, leaf_figures
from epidispatch.registry.models import Resident
from epidispatch.registry.services import resident_create

from .fieldwork_fixtures import *  # noqa: F403 - the fixtures
from .fieldwork_fixtures import give_dose
from .test_registry_pages import id_number

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*jobs):
    """Run the jobs in threads released at the same instant; their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_workers_saving_one_resident_at_once_both_land_and_the_later_is_told(
    resident, worker, second_worker
):
    """Both opened the form when the resident had no visit (token 0)."""
    results = run_together(
        lambda: visit_record(
            resident=resident, outcome=VisitOutcome.REFUSED, by=worker, seen_visit_id=0
        ),
        lambda: visit_record(
            resident=resident, outcome=VisitOutcome.MOVED, by=second_worker, seen_visit_id=0
        ),
    )
    assert not any(isinstance(result, Exception) for result in results), results
    assert Visit.objects.count() == 2
    first, later = sorted(results, key=lambda result: result.visit.pk)
    assert first.conflict is None
    assert later.conflict == first.visit
    # The later visit is the resident's status.
    assert (
        Resident.objects.get().status
        == {"refused": "refused", "moved": "moved_out"}[later.visit.outcome]
    )


def test_many_saves_of_one_resident_at_once_are_all_kept(resident, worker, second_worker):
    jobs = [
        (lambda by=by: visit_record(resident=resident, outcome=VisitOutcome.NOT_FOUND, by=by))
        for by in [worker, second_worker] * 4
    ]
    results = run_together(*jobs)
    assert not any(isinstance(result, Exception) for result in results), results
    assert Visit.objects.count() == 8


def test_status_changes_of_many_residents_of_one_leaf_at_once_move_its_figures_exactly(
    tree, worker, second_worker
):
    """Sixteen workers at once, each changing the status of another adult of the same grid
    and age band (so all share one leaf row of the live figures): every change counts,
    once, and the leaf equals a recount."""
    people = [
        resident_create(name="甲", id_number=id_number(10 + n), grid=tree.grid) for n in range(16)
    ]
    outcomes = [VisitOutcome.MOVED, VisitOutcome.REFUSED, VisitOutcome.CONTRAINDICATED]
    jobs = [
        (
            lambda person=person, n=n: visit_record(
                resident=person,
                outcome=outcomes[n % 3],
                by=(worker, second_worker)[n % 2],
                reason="对疫苗成分过敏" if outcomes[n % 3] == VisitOutcome.CONTRAINDICATED else "",
            )
        )
        for n, person in enumerate(people)
    ]
    results = run_together(*jobs)
    assert not any(isinstance(result, Exception) for result in results), results
    leaf = Rollup.objects.get(grid=tree.grid, band="18-59")
    moved = sum(1 for n in range(16) if outcomes[n % 3] == VisitOutcome.MOVED)
    excused = sum(1 for n in range(16) if outcomes[n % 3] != VisitOutcome.REFUSED)
    assert (leaf.residents, leaf.target, leaf.to_clear) == (16, 16 - moved, 16 - excused)
    recounted = leaf_figures(None, banded_on=banded_on())
    assert [getattr(leaf, name) for name in FIGURES] == next(
        values for (grid, band, _p, _c), values in recounted.items()
        if (grid, band) == (tree.grid.pk, "18-59")
    )  # fmt: skip


def test_one_form_sent_twice_at_once_is_stored_once(resident, worker):
    """A double tap, or a retry racing the first attempt after the signal came back."""
    import uuid

    submission = uuid.uuid4()
    results = run_together(
        *[
            lambda: visit_record(
                resident=resident, outcome=VisitOutcome.REFUSED, by=worker, submission_id=submission
            )
        ]
        * 2
    )
    assert not any(isinstance(result, Exception) for result in results), results
    assert sorted(result.duplicate for result in results) == [False, True]
    assert Visit.objects.count() == 1


def test_two_senders_at_once_send_each_reminder_once(tree, resident, site_staff, coronavac):
    give_dose(resident, tree.site, site_staff, coronavac, days_ago=21)
    assert reminders_queue() == 1
    reminders.outbox.clear()
    backend = reminders.LocmemBackend()
    results = run_together(
        lambda: reminders_send(backend=backend), lambda: reminders_send(backend=backend)
    )
    assert sorted(result.sent for result in results) == [0, 1]
    assert len(reminders.outbox) == 1
    assert Reminder.objects.get().state == ReminderState.SENT
