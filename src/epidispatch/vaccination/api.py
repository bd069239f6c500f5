"""The vaccination lists in the JSON API (/api/v1/vaccination/…): a unit's 清零 list and
its due list of second doses, the same scoped selectors as the pages, ID numbers and
phones masked; a unit outside the caller's scope is a 404. Cursor-paged."""

from datetime import date
from typing import Literal

from ninja import Field, Query, Router, Schema

from epidispatch.core.bounds import UnitCode
from epidispatch.core.paging import CursorQuery, cursor_page
from epidispatch.orgunits.selectors import unit_for_user
from epidispatch.registry.models import UnvaccinatedReason

from .selectors import CLEARANCE_AGES, clearance_list, due_list

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
