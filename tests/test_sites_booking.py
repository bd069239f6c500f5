"""Appointments: capacity holds under concurrent booking, one booking per person per day,
cancellation, no-show, walk-in, check-in and the batch booked by a unit."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from epidispatch.accounts.models import Role
from epidispatch.sites.models import Appointment, AppointmentState, Slot
from epidispatch.sites.services import (
    _book,
    appointment_cancel,
    appointment_check_in,
    appointment_no_show,
    appointments_book_batch,
)
from epidispatch.vaccination.models import VaccineProduct
from epidispatch.vaccination.services import dose_record

from .sites_fixtures import *  # noqa: F403
from .sites_fixtures import current_slot, residents


@pytest.mark.django_db(transaction=True)
def test_last_slot_race_books_exactly_the_free_places(tree, session):
    slot = current_slot(session)
    Slot.objects.filter(pk=slot.pk).update(booked=slot.capacity - 3)
    people = residents(tree, 12)
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def book(resident) -> None:
        try:
            barrier.wait(timeout=10)
            _book(
                slot=Slot.objects.select_related("session").get(pk=slot.pk),
                resident=resident,
                by=None,
            )
            outcomes.append("booked")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["booked"] * 3 + ["full"] * 9
    slot.refresh_from_db()
    assert slot.booked == slot.capacity
    assert Appointment.objects.filter(slot=slot).count() == 3


def test_a_person_booked_twice_for_one_day_is_refused(tree, session, resident):
    first, second = session.slots.all()[:2]
    _book(slot=first, resident=resident, by=None)
    with pytest.raises(ValidationError) as refused:
        _book(slot=second, resident=resident, by=None)
    assert refused.value.code == "booked_twice"
    assert "已有预约" in refused.value.messages[0]
    second.refresh_from_db()
    assert second.booked == 0


def test_cancelling_gives_the_place_back_and_frees_the_day(tree, session, resident, dispatcher):
    first, second = session.slots.all()[:2]
    appointment = _book(slot=first, resident=resident, by=None)
    appointment_cancel(appointment=appointment, by=dispatcher)
    first.refresh_from_db()
    assert first.booked == 0
    assert _book(slot=second, resident=resident, by=None).state == AppointmentState.BOOKED


def test_a_no_show_keeps_the_place_and_only_site_staff_mark_it(
    tree, session, resident, site_staff, dispatcher, make_user
):
    slot = session.slots.first()
    appointment = _book(slot=slot, resident=resident, by=None)
    other_site_staff = make_user(Role.SITE_STAFF, tree.other_site)
    with pytest.raises(PermissionDenied):
        appointment_no_show(appointment=appointment, by=other_site_staff)
    appointment_no_show(appointment=appointment, by=site_staff)
    appointment.refresh_from_db()
    slot.refresh_from_db()
    assert (appointment.state, slot.booked) == (AppointmentState.NO_SHOW, 1)


def test_a_walk_in_is_checked_in_in_the_current_slot_even_when_full(
    tree, session, resident, site_staff
):
    slot = current_slot(session)
    Slot.objects.filter(pk=slot.pk).update(booked=slot.capacity)
    appointment = appointment_check_in(site=tree.site, resident=resident, by=site_staff)
    assert (appointment.walk_in, appointment.state) == (True, AppointmentState.CHECKED_IN)
    assert appointment.slot_id == slot.pk


def test_check_in_at_another_site_than_the_booked_one_is_refused(
    tree, session, resident, make_user
):
    _book(slot=session.slots.first(), resident=resident, by=None)
    other_staff = make_user(Role.SITE_STAFF, tree.other_site)
    with pytest.raises(ValidationError, match="平襄镇卫生院接种点"):
        appointment_check_in(site=tree.other_site, resident=resident, by=other_staff)


def test_a_recorded_dose_marks_the_checked_in_appointment_vaccinated(
    tree, session, resident, site_staff
):
    appointment = _book(slot=current_slot(session), resident=resident, by=None)
    appointment_check_in(site=tree.site, resident=resident, by=site_staff)
    dose_record(
        resident=resident,
        product=VaccineProduct.objects.get(code="coronavac"),
        given_on=timezone.localdate(),
        site=tree.site,
        by=site_staff,
    )
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.VACCINATED


def test_a_grid_worker_books_a_group_of_their_grid_with_transport(tree, session, make_user):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    elderly = residents(tree, 4)
    booked = appointments_book_batch(
        slot=session.slots.first(),
        residents=elderly,
        by=worker,
        group="北关社区老人",
        transport="面包车 甘J12345",
    )
    assert [a.booked_by for a in booked] == [worker] * 4
    assert {a.transport for a in booked} == {"面包车 甘J12345"}


def test_a_batch_with_one_resident_outside_the_units_books_nobody(tree, session, make_user):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    group = residents(tree, 2) + residents(tree, 1, start=200, grid=tree.other_grid)
    with pytest.raises(PermissionDenied):
        appointments_book_batch(slot=session.slots.first(), residents=group, by=worker, group="x")
    assert not Appointment.objects.exists()


def test_a_batch_larger_than_the_free_places_books_nobody(tree, session, make_user):
    worker = make_user(Role.GRID_WORKER, tree.grid)
    slot = session.slots.first()
    with pytest.raises(ValidationError, match="已约满"):
        appointments_book_batch(slot=slot, residents=residents(tree, 11), by=worker, group="x")
    slot.refresh_from_db()
    assert slot.booked == 0
