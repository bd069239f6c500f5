"""Sites in the JSON API (/api/v1/sites/…): a site's appointments of a day (ID numbers
masked) and the load of every site, scoped to the caller's units like every read."""

from datetime import date, time

from django.utils import timezone
from ninja import Field, Router, Schema

from .selectors import site_appointments, site_for_user, site_loads

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


@router.get("/load", response=list[LoadOut])
def list_load(request, day: date | None = None):
    """Each site in your units: people expected, session capacity, staffed capacity."""
    return site_loads(request.user, day or timezone.localdate())


@router.get("/{code}/appointments", response=list[AppointmentOut])
def list_appointments(request, code: str, day: date | None = None):
    """A site's appointments of a day (today by default), ID numbers masked."""
    site = site_for_user(request.user, code[:15])
    return site_appointments(request.user, site, day or timezone.localdate())[:LIST_LIMIT]
