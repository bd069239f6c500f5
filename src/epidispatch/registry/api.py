"""The resident register in the JSON API (/api/v1/registry/…): the residents of the
caller's units with their doses, ID number and phone masked. A caller whose role may
unmask asks for one resident in clear with a POST, written to the audit trail first (PIPL);
nobody else learns even whether the resident exists (404 outside the units, 403 inside
them without the role). Lists are cursor-paged (`next_cursor`, `has_more`)."""

from datetime import date

from django.core.exceptions import PermissionDenied
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from epidispatch.audit.services import client_ip
from epidispatch.core.bounds import RecordId, UnitCode, text
from epidispatch.core.paging import CursorQuery, cursor_page
from epidispatch.orgunits.selectors import under_unit_q, unit_for_user

from .models import ResidentStatus, Sex
from .selectors import (
    SEARCH_MAX_LENGTH,
    household_for_user,
    household_id_of,
    households_under,
    resident_for_user,
    residents_matching,
    residents_visible_to,
)
from .services import resident_unmask

router = Router(tags=["residents"])


class ResidentOut(Schema):
    id: int
    name: str
    id_number_masked: str
    phone_masked: str
    birth_date: date
    sex: Sex
    grid: str = Field(alias="grid.code")
    status: ResidentStatus
    unvaccinated_reason: str


class ResidentPageOut(Schema):
    items: list[ResidentOut]
    next_cursor: int
    has_more: bool


class ResidentFilters(CursorQuery):
    under: UnitCode | None = None
    status: ResidentStatus | None = None
    #: A name (or part of it), or an exact ID number or phone.
    q: text(SEARCH_MAX_LENGTH) = ""


@router.get("/residents", response=ResidentPageOut)
def list_residents(request, filters: Query[ResidentFilters]):
    """Residents of your units (below `under`, in `status`, matching `q`), masked, in
    the order they were registered: a page of `limit` after `cursor`."""
    residents = residents_visible_to(request.user).select_related("grid")
    if filters.under:
        unit = unit_for_user(request.user, filters.under)
        residents = residents.filter(under_unit_q(unit, "grid__path"))
    if filters.status:
        residents = residents.filter(status=filters.status)
    residents = residents_matching(residents, filters.q)
    return cursor_page(residents, cursor=filters.cursor, limit=filters.limit)


class ResidentDoseOut(Schema):
    id: int
    dose_number: int
    product: str = Field(alias="product.code")
    given_on: date
    lot_number: str
    trace_code: str
    site: str | None
    source: str

    @staticmethod
    def resolve_site(dose) -> str | None:
        return dose.site.code if dose.site_id else None


class ResidentDetailOut(ResidentOut):
    doses: list[ResidentDoseOut]
    #: The resident's household (`/registry/households/{id}`), null when not recorded.
    household: int | None

    @staticmethod
    def resolve_household(resident) -> int | None:
        return household_id_of(resident)

    @staticmethod
    def resolve_doses(resident) -> list:
        return list(resident.doses.select_related("product", "site").order_by("dose_number"))


@router.get("/residents/{resident_id}", response=ResidentDetailOut)
def get_resident(request, resident_id: RecordId):
    """One resident of your units, masked, with every dose recorded (404 outside them)."""
    return resident_for_user(request.user, resident_id)


class UnmaskedOut(Schema):
    id: int
    id_number: str
    phone: str


@router.post("/residents/{resident_id}/unmask", response=UnmaskedOut)
def post_unmask(request, resident_id: RecordId):
    """The resident's ID number and phone in clear, for a role that may unmask over the
    resident's grid: every call is written to the audit trail before it answers."""
    resident = resident_for_user(request.user, resident_id)
    try:
        unmasked = resident_unmask(
            user=request.user, resident=resident, ip_address=client_ip(request)
        )
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from None
    return {"id": resident.pk, "id_number": unmasked.id_number, "phone": unmasked.phone}


class HouseholdMemberOut(Schema):
    resident: int = Field(alias="resident_id")
    name: str = Field(alias="resident.name")
    id_number_masked: str = Field(alias="resident.id_number_masked")
    phone_masked: str = Field(alias="resident.phone_masked")
    birth_date: date = Field(alias="resident.birth_date")
    sex: Sex = Field(alias="resident.sex")
    status: ResidentStatus = Field(alias="resident.status")
    #: 与户主关系, as the grid wrote it.
    relation: str


class HouseholdOut(Schema):
    id: int
    grid: str = Field(alias="grid.code")
    address: str
    #: The members you may see, eldest first, masked like residents.
    members: list[HouseholdMemberOut]

    @staticmethod
    def resolve_members(household) -> list:
        return list(household.members.all())


class HouseholdPageOut(Schema):
    items: list[HouseholdOut]
    next_cursor: int
    has_more: bool


class HouseholdFilters(CursorQuery):
    #: A grid, or a unit above grids (a village, a town): its households.
    under: UnitCode | None = None


@router.get("/households", response=HouseholdPageOut)
def list_households(request, filters: Query[HouseholdFilters]):
    """户: the households of your grids (below `under`) with their members, ID numbers and
    phones masked, in the order they were recorded: a page of `limit` after `cursor`.
    A unit outside your scope is a 404."""
    unit = unit_for_user(request.user, filters.under) if filters.under else None
    households = households_under(request.user, unit)
    return cursor_page(households, cursor=filters.cursor, limit=filters.limit)


@router.get("/households/{household_id}", response=HouseholdOut)
def get_household(request, household_id: RecordId):
    """One household of your grids with its members, masked (404 outside your units)."""
    return household_for_user(request.user, household_id)
