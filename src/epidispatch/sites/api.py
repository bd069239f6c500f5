"""Sites in the JSON API (/api/v1/sites/…): a site's appointments of a day (ID numbers
masked), the load of every site, its roster, equipment checks and training sessions,
scoped to the caller's units like every read."""

from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from epidispatch.core.bounds import RecordId, UnitCode
from epidispatch.registry.selectors import resident_find

from .models import Appointment, StaffRole
from .selectors import (
    appointment_for_user,
    equipment_for_user,
    roster_day,
    site_appointments,
    site_equipment,
    site_for_user,
    site_loads,
    site_slots,
    slot_get,
    staff_visible_to,
    training_sessions_visible_to,
)
from .services import (
    appointment_cancel,
    appointment_no_show,
    appointments_book_batch,
    equipment_check_record,
    roster_assign,
)

router = Router(tags=["sites"])

#: How many rows a list answers at most.
LIST_LIMIT = 1000


class AppointmentOut(Schema):
    id: int
    starts_at: time = Field(alias="slot.starts_at")
    name: str = Field(alias="resident.name")
    id_number: str = Field(alias="resident.id_number_masked")
    state: str
    walk_in: bool
    group: str
    transport: str


class LoadOut(Schema):
    site: str = Field(alias="site.code")
    name: str = Field(alias="site.name")
    expected: int
    due_second: int
    clearance_share: int
    capacity: int
    staffed: int


class BatchIn(Schema):
    id_numbers: list[str] = Field(..., min_length=1, max_length=200)
    group: str = Field("", max_length=100)
    transport: str = Field("", max_length=100)


class BookingOut(Schema):
    id: int
    id_number: str = Field(alias="resident.id_number_masked")
    starts_at: time = Field(alias="slot.starts_at")
    day: date


@router.post("/slots/{slot_id}/bookings", response={201: list[BookingOut]})
def post_bookings(request, slot_id: int, data: BatchIn):
    """A unit books residents of its units into a slot (a class, a department, elderly
    people a grid worker brings): all or none. 409 when the slot has too few places or a
    person already has an appointment that day; 422 for an ID number not in your units."""
    slot = slot_get(slot_id)
    residents = []
    for row, number in enumerate(data.id_numbers, start=1):
        resident = resident_find(request.user, number[:24])
        if resident is None:
            raise HttpError(
                422, _("Row %(row)d: no resident with this ID number in your units.") % {"row": row}
            )
        residents.append(resident)
    try:
        booked = appointments_book_batch(
            slot=slot,
            residents=residents,
            by=request.user,
            group=data.group,
            transport=data.transport,
        )
    except PermissionDenied as error:
        raise HttpError(403, str(error) or "Forbidden") from None
    except ValidationError as error:
        raise HttpError(409, " ".join(error.messages)) from None
    return Status(201, booked)


@router.get("/load", response=list[LoadOut])
def list_load(request, day: date | None = None):
    """Each site in your units: people expected, session capacity, staffed capacity."""
    return site_loads(request.user, day or timezone.localdate())


@router.get("/{code}/appointments", response=list[AppointmentOut])
def list_appointments(request, code: str, day: date | None = None):
    """A site's appointments of a day (today by default), ID numbers masked."""
    site = site_for_user(request.user, code[:15])
    return site_appointments(request.user, site, day or timezone.localdate())[:LIST_LIMIT]


class AppointmentActedOut(Schema):
    id: int
    state: str


@router.post("/{code}/appointments/{appointment_id}/cancel", response={200: AppointmentActedOut})
def post_appointment_cancel(request, code: UnitCode, appointment_id: RecordId):
    """Cancel a booking at the site, as the desk does: its place is free again. 409 when
    it is no longer booked; 403 when you may not cancel bookings there."""
    return _desk_action(request, code, appointment_id, appointment_cancel)


@router.post("/{code}/appointments/{appointment_id}/no-show", response={200: AppointmentActedOut})
def post_appointment_no_show(request, code: UnitCode, appointment_id: RecordId):
    """Mark that the person of a booking did not come (the site's staff, once its hour has
    begun), as the desk does; the place is not given back. 409 when it is not booked or its
    hour has not begun."""
    return _desk_action(request, code, appointment_id, appointment_no_show)


def _desk_action(request, code: str, appointment_id: int, service: Callable[..., Appointment]):
    """What the desk does to one booking of a site in your units (cancel, no-show): 404
    outside them, the service's refusal as 403 or 409."""
    site = site_for_user(request.user, code[:15])
    appointment = appointment_for_user(request.user, site, appointment_id)
    try:
        return service(appointment=appointment, by=request.user)
    except (PermissionDenied, ValidationError) as error:
        raise _refusal(error) from None


class SlotOut(Schema):
    id: int
    starts_at: time
    capacity: int
    booked: int
    used: int
    kind: str = Field(alias="session.kind")
    place: str = Field(alias="session.place")


@router.get("/{code}/slots", response=list[SlotOut])
def list_slots(request, code: str, day: date | None = None):
    """A site's slots of a day (today by default): places, bookings and doses given, and
    the id a unit books into (`POST /sites/slots/{slot_id}/bookings`)."""
    site = site_for_user(request.user, code[:15])
    return site_slots(request.user, site, day or timezone.localdate())


class RosterOut(Schema):
    id: int
    staff_id: int
    staff: str = Field(alias="staff.name")
    role: str
    day: date
    starts_at: time
    ends_at: time
    qualified_until: date | None = None


class RosterIn(Schema):
    staff_id: int = Field(..., ge=1, lt=2**31)
    role: str = Field(..., max_length=20)
    day: date
    starts_at: time
    ends_at: time


def _refusal(error: Exception) -> HttpError:
    if isinstance(error, PermissionDenied):
        return HttpError(403, str(error) or "Forbidden")
    return HttpError(409, " ".join(error.messages))


@router.get("/{code}/roster", response=list[RosterOut])
def list_roster(request, code: str, day: date | None = None):
    """A site's roster (排班) of a day (today by default)."""
    site = site_for_user(request.user, code[:15])
    return roster_day(request.user, site, day or timezone.localdate())


@router.post("/{code}/roster", response={201: RosterOut})
def post_roster(request, code: str, data: RosterIn):
    """Put a person on a post: 409 with the reason when they are not qualified for it
    that day or are already somewhere else at that time; 403 when you may not plan."""
    site = site_for_user(request.user, code[:15])
    staff = staff_visible_to(request.user).filter(pk=data.staff_id).first()
    if staff is None:
        raise HttpError(404, _("No staff member %(id)d in your units.") % {"id": data.staff_id})
    if data.role not in StaffRole.values:
        raise HttpError(422, _("Unknown post."))
    try:
        entry = roster_assign(
            staff=staff,
            site=site,
            role=data.role,
            day=data.day,
            # A roster's hours are the site's local clock: an offset, if sent, is dropped.
            starts_at=data.starts_at.replace(tzinfo=None),
            ends_at=data.ends_at.replace(tzinfo=None),
            by=request.user,
        )
    except (PermissionDenied, ValidationError) as error:
        raise _refusal(error) from None
    return Status(201, entry)


class EquipmentOut(Schema):
    id: int
    kind: str
    label: str
    last_checked_at: datetime | None = Field(None, alias="last_at")
    last_temperature: Decimal | None = None
    #: The latest check's flag; null while the equipment has never been checked.
    out_of_range: bool | None = Field(None, alias="last_out_of_range")
    checked_today: bool


class CheckIn(Schema):
    working: bool
    temperature: Decimal | None = Field(None, max_digits=4, decimal_places=1)
    note: str = Field("", max_length=200)


class CheckOut(Schema):
    id: int
    checked_at: datetime
    temperature: Decimal | None
    working: bool
    out_of_range: bool


@router.get("/{code}/equipment", response=list[EquipmentOut])
def list_equipment(request, code: str):
    """A site's equipment with its latest check and whether it is out of range."""
    site = site_for_user(request.user, code[:15])
    return site_equipment(request.user, site)


@router.post("/equipment/{equipment_id}/checks", response={201: CheckOut})
def post_check(request, equipment_id: int, data: CheckIn):
    """Record a check; a refrigerator needs its temperature (out of range outside 2–8 °C)."""
    equipment = equipment_for_user(request.user, equipment_id)
    try:
        check = equipment_check_record(
            equipment=equipment,
            working=data.working,
            temperature=data.temperature,
            note=data.note,
            by=request.user,
        )
    except PermissionDenied as error:
        raise _refusal(error) from None
    except ValidationError as error:
        raise HttpError(422, " ".join(error.messages)) from None
    return Status(201, check)


class TrainingOut(Schema):
    id: int
    title: str
    role: str
    held_on: date
    valid_months: int
    unit: str = Field(alias="unit.code")
    attended: int
    passed: int


@router.get("/training", response=list[TrainingOut])
def list_training(request):
    """Training sessions of your units, with how many attended and passed."""
    return training_sessions_visible_to(request.user)[:LIST_LIMIT]
