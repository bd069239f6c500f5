"""Sites in the JSON API (/api/v1/sites/…): a site's appointments of a day (ID numbers
masked) and the load of every site, scoped to the caller's units like every read."""

from datetime import date, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from epidispatch.registry.selectors import resident_find

from .selectors import site_appointments, site_for_user, site_loads, site_slots, slot_get
from .services import appointments_book_batch

router = Router(tags=["sites"])

#: How many rows a list answers at most.
LIST_LIMIT = 1000


class AppointmentOut(Schema):
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
