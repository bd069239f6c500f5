"""The vaccination lists in the JSON API (/api/v1/vaccination/…): a unit's 清零 list and
its due list of second doses, the same scoped selectors as the pages, ID numbers and
phones masked; a unit outside the caller's scope is a 404. Cursor-paged.

Doses are recorded (接种登记, by the site's staff), corrected (更正) and deleted (删除)
through the same services as the pages, so the same rules, audit entries and live
figures follow. A correction or deletion carries the `version` of the dose the caller
read: when someone else changed the dose since, the answer is 409 and nothing changes.

    curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
        -d '{"id_number": "…", "product": "coronavac", "given_on": "2021-06-01"}' \
        http://127.0.0.1:8000/api/v1/vaccination/sites/621121970001/doses
"""

import contextlib
from datetime import date, datetime
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from epidispatch.core.bounds import Day, RecordId, UnitCode, text
from epidispatch.core.paging import CursorQuery, cursor_page
from epidispatch.orgunits.models import UnitKind
from epidispatch.orgunits.selectors import unit_for_user
from epidispatch.registry.models import UnvaccinatedReason
from epidispatch.registry.selectors import resident_find_for_site

from .models import Dose, VaccineProduct
from .permissions import records_doses_at
from .selectors import CLEARANCE_AGES, clearance_list, dose_for_user, due_list
from .services import PACK_FIELD_MAX, dose_correct, dose_delete, dose_record

router = Router(tags=["vaccination"])


class ClearanceOut(Schema):
    id: int
    name: str
    id_number_masked: str
    phone_masked: str
    birth_date: date
    grid: str = Field(alias="grid.code")
    status: str
    unvaccinated_reason: str


class ClearancePageOut(Schema):
    items: list[ClearanceOut]
    next_cursor: int
    has_more: bool


class ClearanceFilters(CursorQuery):
    grid: UnitCode | None = None
    #: 未接种原因; "none" for the people with no reason recorded yet.
    reason: UnvaccinatedReason | Literal["none"] | None = None
    ages: Literal[tuple(CLEARANCE_AGES)] | None = None


@router.get("/units/{code}/clearance-list", response=ClearancePageOut)
def list_clearance(request, code: UnitCode, filters: Query[ClearanceFilters]):
    """清零 list of the unit: the target population with no dose who are not excused
    (exactly who the dashboard's `to_clear` counts), a page of `limit` after `cursor`."""
    unit = unit_for_user(request.user, code)
    reason = "" if filters.reason == "none" else filters.reason
    residents = clearance_list(
        request.user, unit, grid_code=filters.grid or "", reason=reason, ages=filters.ages or ""
    )
    return cursor_page(residents, cursor=filters.cursor, limit=filters.limit)


class DueOut(Schema):
    resident: int = Field(alias="resident_id")
    name: str = Field(alias="resident.name")
    id_number_masked: str = Field(alias="resident.id_number_masked")
    grid: str = Field(alias="resident.grid.code")
    doses: int
    series_product: str = Field(alias="series_product.code")
    next_dose_number: int | None
    next_due_from: date | None
    next_due_by: date | None
    overdue: bool


class DuePageOut(Schema):
    items: list[DueOut]
    next_cursor: int
    has_more: bool


class DueFilters(CursorQuery):
    grid: UnitCode | None = None
    overdue: bool = False


@router.get("/units/{code}/due", response=DuePageOut)
def list_due(request, code: UnitCode, filters: Query[DueFilters]):
    """People of the unit whose series is not complete, with the latest day of their next
    dose (`overdue` once past it; `overdue=true` keeps those alone)."""
    unit = unit_for_user(request.user, code)
    statuses = due_list(
        request.user, unit, grid_code=filters.grid or "", overdue_only=filters.overdue
    )
    return cursor_page(statuses, cursor=filters.cursor, limit=filters.limit)


#: The longest reason a correction or deletion keeps (the audit entry's subject).
REASON_MAX = 60
#: Refusals by the state of the records rather than the request: the dose is no longer
#: what the caller read, someone else recorded the same dose a moment before, or a record
#: that must be kept refers to it.
STALE = ("changed", "gone", "concurrent", "protected")


class Problem(Schema):
    """Why a write was refused: the dose changed meanwhile (409)."""

    detail: str


class DoseRecordOut(Schema):
    id: int
    resident: int = Field(alias="resident_id")
    dose_number: int
    product: str = Field(alias="product.code")
    given_on: date
    lot_number: str
    trace_code: str
    site: str | None
    source: str
    booster_number: int
    completes_series: bool
    created_at: datetime
    #: What a correction or deletion must send back as `version`.
    version: str

    @staticmethod
    def resolve_site(dose) -> str | None:
        return dose.site.code if dose.site_id else None


class DoseIn(Schema):
    id_number: text(24)
    #: The product's code (coronavac, bibp, …).
    product: text(40)
    given_on: Day
    lot_number: text(PACK_FIELD_MAX) = ""
    trace_code: text(PACK_FIELD_MAX) = ""


@contextlib.contextmanager
def _refusals():
    """Domain refusals as HTTP: 403 for the role, 409 for the state of the records (STALE),
    422 for a rule (the message says which, in Chinese)."""
    try:
        yield
    except PermissionDenied as error:
        raise HttpError(403, str(error) or _("You may not do this.")) from None
    except ValidationError as error:
        status = 409 if getattr(error, "code", None) in STALE else 422
        raise HttpError(status, " ".join(error.messages)) from None


def _product(code: str) -> VaccineProduct:
    product = VaccineProduct.objects.filter(code=code, active=True).first()
    if product is None:
        raise HttpError(422, _("Unknown vaccine product %(code)s.") % {"code": code[:40]})
    return product


def _dose_out(dose: Dose) -> Dose:
    return Dose.objects.select_related("product", "site").get(pk=dose.pk)


@router.post("/sites/{code}/doses", response={201: DoseRecordOut, 409: Problem})
def post_dose(request, code: UnitCode, data: DoseIn):
    """接种登记: the site's staff record a dose given to a resident of the site's county
    (found by the exact ID number), checked against the schedule and, with a trace code,
    the pack (known, this vaccine, not expired, not used up); the live figures move at once.
    403 for anyone but the site's staff; 404 for a site outside your units; 409 when the
    same dose was recorded a moment ago; 422 for a rule (too soon, another platform …)."""
    site = unit_for_user(request.user, code)
    if site.kind != UnitKind.SITE:
        raise Http404(_("No vaccination site %(code)s within your units.") % {"code": code})
    if not records_doses_at(request.user, site):
        raise HttpError(403, _("Only the staff of this site may record its doses."))
    resident = resident_find_for_site(request.user, site, data.id_number)
    if resident is None:
        raise HttpError(422, _("No resident with this ID number in this county."))
    product = _product(data.product)
    with _refusals():
        dose = dose_record(
            resident=resident,
            product=product,
            given_on=data.given_on,
            site=site,
            by=request.user,
            lot_number=data.lot_number,
            trace_code=data.trace_code,
        )
    return Status(201, _dose_out(dose))


@router.get("/doses/{dose_id}", response=DoseRecordOut)
def get_dose(request, dose_id: RecordId):
    """One dose given at a site of your units or to a resident of them, with its
    `version` (404 otherwise)."""
    return _dose_out(dose_for_user(request.user, dose_id))


class DoseCorrectionIn(Schema):
    #: The `version` of the dose as you read it.
    version: text(40)
    reason: text(REASON_MAX)
    #: Fields left out stay as they are.
    given_on: Day | None = None
    product: text(40) | None = None
    lot_number: text(PACK_FIELD_MAX) | None = None
    trace_code: text(PACK_FIELD_MAX) | None = None


@router.post("/doses/{dose_id}/correction", response={200: DoseRecordOut, 409: Problem})
def post_dose_correction(request, dose_id: RecordId, data: DoseCorrectionIn):
    """更正: correct a dose's day, vaccine, lot number or trace code, with the reason (kept
    in the audit trail). The resident's status and the live figures follow; a changed pack
    is checked as at the site's table and the stock moves to its lot. 403 for anyone but
    the staff of the site that gave it and the dispatchers over the resident; 409 when the
    dose changed (or was deleted) since you read its `version`; 422 for a rule."""
    dose = dose_for_user(request.user, dose_id)
    product = _product(data.product) if data.product is not None else dose.product
    with _refusals():
        corrected = dose_correct(
            dose=dose,
            given_on=data.given_on or dose.given_on,
            product=product,
            by=request.user,
            reason=data.reason,
            seen=data.version,
            lot_number=data.lot_number,
            trace_code=data.trace_code,
        )
    return _dose_out(corrected)


class DoseDeletionQuery(Schema):
    version: text(40)
    reason: text(REASON_MAX)


@router.delete("/doses/{dose_id}", response={204: None, 409: Problem})
def delete_dose(request, dose_id: RecordId, query: Query[DoseDeletionQuery]):
    """删除: delete a dose recorded in error, with the reason (kept in the audit trail);
    only a person's latest dose can go. It goes back into the stock it came from and the
    live figures follow. Statuses as for a correction; 409 also for a dose an adverse
    reaction report refers to (it is kept: correct it instead)."""
    dose = dose_for_user(request.user, dose_id)
    with _refusals():
        dose_delete(dose=dose, by=request.user, reason=query.reason, seen=query.version)
    return Status(204, None)
