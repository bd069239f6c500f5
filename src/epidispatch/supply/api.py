"""Supply in the JSON API (/api/v1/supply/…): stock on hand, the ledger, a lot's trace,
a resident's lots, demand against stock, the 国家督察 quality figures and the AEFI reports,
scoped to the caller's units like every read (a unit or record outside them is a 404);
and the ledger's writes (transfers, stocktakes, write-offs) through its services, which
check who manages the stock (403) and refuse what the ledger refuses (422). Deliveries
come in as delivery-note files (`POST /api/v1/imports/stock_receipts`)."""

import contextlib
from datetime import date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from epidispatch.core.bounds import NOTE_MAX, Day, Moment, RecordId, UnitCode, text
from epidispatch.core.paging import CursorQuery, cursor_page
from epidispatch.orgunits.selectors import unit_for_user
from epidispatch.registry.selectors import resident_for_user
from epidispatch.vaccination.selectors import dose_for_user

from .models import AEFIClassification, AEFISeverity, AEFIStatus, MoveKind
from .selectors import (
    aefi_report_for,
    aefi_reports_visible_to,
    lot_get,
    lot_trace_for,
    quality_report,
    resident_lots,
    site_demand,
    stock_moves,
    stock_on_hand,
)
from .services import (
    MAX_QUANTITY,
    aefi_classify,
    aefi_close,
    aefi_investigation_start,
    aefi_mark_reported,
    aefi_report_submit,
    stock_transfer,
    stock_write_off,
    stocktake,
)

router = Router(tags=["supply"])

#: How many rows a list answers at most.
LIST_LIMIT = 1000


class BalanceOut(Schema):
    holder: str = Field(alias="holder.code")
    lot_id: int
    item: str = Field(alias="lot.item.name")
    lot: str = Field(alias="lot.number")
    expires_on: date = Field(alias="lot.expires_on")
    on_hand: int


class SiteDosesOut(Schema):
    code: str | None
    doses: int


class TraceOut(Schema):
    lot: str
    product: str | None
    doses: int
    residents: int
    sites: list[SiteDosesOut]
    received: int
    on_hand: int


@router.get("/stock", response=list[BalanceOut])
def list_stock(request):
    """Stock on hand of every store and site in your units, the first to expire first."""
    return stock_on_hand(request.user)[:LIST_LIMIT]


@router.get("/lots/{number}/trace", response=TraceOut)
def get_lot_trace(request, number: str):
    """`trace_lot`'s figures within your units: doses, people, sites, receipts, on hand."""
    return lot_trace_for(request.user, number[:40])


class MoveOut(Schema):
    id: int
    holder: str = Field(alias="holder.code")
    lot_id: int
    item: str = Field(alias="lot.item.name")
    lot: str = Field(alias="lot.number")
    kind: MoveKind
    quantity: int
    counterpart: str | None
    receipt: str
    note: str
    reverses: int | None = Field(alias="reverses_id")
    at: datetime

    @staticmethod
    def resolve_counterpart(move) -> str | None:
        return move.counterpart.code if move.counterpart_id else None


class MovePageOut(Schema):
    items: list[MoveOut]
    next_cursor: int
    has_more: bool


class MoveFilters(CursorQuery):
    holder: UnitCode | None = None


@router.get("/moves", response=MovePageOut)
def list_moves(request, filters: Query[MoveFilters]):
    """The stock ledger of the stores and sites in your units (one `holder`'s with its
    code), oldest first by id: a page of `limit` after `cursor`."""
    holder = unit_for_user(request.user, filters.holder) if filters.holder else None
    moves = stock_moves(request.user, holder=holder)
    return cursor_page(moves, cursor=filters.cursor, limit=filters.limit)


class ResidentLotOut(Schema):
    dose: int
    dose_number: int
    product: str
    given_on: date
    lot_number: str
    trace_code: str
    site: str | None
    #: Whether the ledger knows the lot (a dose of an unknown lot is a 国家督察 finding).
    lot_known: bool
    expires_on: date | None


@router.get("/residents/{resident_id}/lots", response=list[ResidentLotOut])
def list_resident_lots(request, resident_id: RecordId):
    """Resident → lots: each dose of a resident of your units with the ledger's lot."""
    resident = resident_for_user(request.user, resident_id)
    return [
        {
            "dose": dose.pk,
            "dose_number": dose.dose_number,
            "product": dose.product.code,
            "given_on": dose.given_on,
            "lot_number": dose.lot_number,
            "trace_code": dose.trace_code,
            "site": dose.site.code if dose.site_id else None,
            "lot_known": lot is not None,
            "expires_on": lot.expires_on if lot else None,
        }
        for dose, lot in resident_lots(request.user, resident.pk)
    ]


class QualityOut(Schema):
    doses: int
    missing_trace_code: int
    malformed_trace_code: int
    trace_code_overused: int
    unknown_lot: int


class QualityQuery(Schema):
    start: Day | None = Field(None, alias="from")
    end: Day | None = Field(None, alias="to")


@router.get("/units/{code}/quality", response=QualityOut)
def get_quality(request, code: UnitCode, query: Query[QualityQuery]):
    """`quality_report`'s figures for the doses given from `from` to `to` (default: the
    last 30 days) to the residents living under the unit."""
    unit = unit_for_user(request.user, code)
    end = query.end or timezone.localdate()
    start = query.start or end - timedelta(days=30)
    return quality_report(unit, start, end)


class DemandOut(Schema):
    site: str
    name: str
    clearance: int
    second_due: int
    booster_due: int
    need: int
    on_hand: int
    daily_use: float
    days_of_supply: float | None
    shortfall: int
    use_first: str | None
    expiring_soon: bool


@router.get("/units/{code}/demand", response=list[DemandOut])
def list_demand(request, code: UnitCode):
    """Per site of your units under the unit: doses still needed against stock on hand,
    days of supply, the shortfall and the lot to open first (先到期先出)."""
    unit = unit_for_user(request.user, code)
    return [
        {
            "site": row.site.code,
            "name": row.site.name,
            "clearance": row.clearance,
            "second_due": row.second_due,
            "booster_due": row.booster_due,
            "need": row.need,
            "on_hand": row.on_hand,
            "daily_use": round(row.daily_use, 2),
            "days_of_supply": row.days_of_supply,
            "shortfall": row.shortfall,
            "use_first": row.use_first.number if row.use_first else None,
            "expiring_soon": row.expiring_soon,
        }
        for row in site_demand(request.user, unit)
    ]


class AEFIReportOut(Schema):
    id: int
    resident: int = Field(alias="resident_id")
    dose: int = Field(alias="dose_id")
    product: str = Field(alias="product.code")
    lot_number: str
    site: str | None
    severity: AEFISeverity
    clustered: bool
    status: AEFIStatus
    classification: AEFIClassification | None
    discovered_at: datetime
    report_due_by: datetime
    reported_at: datetime | None
    investigation_due_by: datetime | None
    investigation_started_at: datetime | None
    report_overdue: bool
    investigation_overdue: bool

    @staticmethod
    def resolve_site(report) -> str | None:
        return report.site.code if report.site_id else None

    @staticmethod
    def resolve_classification(report) -> str | None:
        return report.classification or None


class AEFIPageOut(Schema):
    items: list[AEFIReportOut]
    next_cursor: int
    has_more: bool


class AEFIFilters(CursorQuery):
    status: AEFIStatus | None = None


@router.get("/aefi-reports", response=AEFIPageOut)
def list_aefi_reports(request, filters: Query[AEFIFilters]):
    """Suspected adverse reactions of the people of your units or given at your sites,
    with the overdue flags of their deadlines: a page of `limit` after `cursor`."""
    reports = aefi_reports_visible_to(request.user)
    if filters.status:
        reports = reports.filter(status=filters.status)
    return cursor_page(reports, cursor=filters.cursor, limit=filters.limit)


class AEFIReportDetailOut(AEFIReportOut):
    description: str


@router.get("/aefi-reports/{report_id}", response=AEFIReportDetailOut)
def get_aefi_report(request, report_id: RecordId):
    """One report of your units with its description."""
    return aefi_report_for(request.user, report_id)


@contextlib.contextmanager
def _ledger_errors():
    """The ledger's refusals as HTTP answers: not yours is 403, invalid is 422 (in Chinese,
    saying why: not enough stock, an expired lot …)."""
    try:
        yield
    except PermissionDenied as error:
        raise HttpError(403, str(error) or "Forbidden") from None
    except ValidationError as error:
        raise HttpError(422, " ".join(error.messages)) from None


Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


class TransferIn(Schema):
    source: UnitCode
    target: UnitCode
    lot: RecordId
    quantity: Quantity
    note: text(200) = ""


class TransferOut(Schema):
    group: UUID
    moves: list[MoveOut]


@router.post("/transfers", response={201: TransferOut})
def post_transfer(request, data: TransferIn):
    """Move stock from a store or site to another (分配 from the county's store, 平级调拨
    between sites), ordered by the supply officer over both ends: two moves posted
    together, or 422 with the reason (never below zero, never an expired lot)."""
    source = unit_for_user(request.user, data.source)
    target = unit_for_user(request.user, data.target)
    lot = lot_get(data.lot)
    with _ledger_errors():
        group = stock_transfer(
            source=source, target=target, lot=lot, quantity=data.quantity,
            by=request.user, note=data.note,
        )  # fmt: skip
    moves = stock_moves(request.user).filter(group=group).order_by("quantity")
    return Status(201, {"group": group, "moves": list(moves)})


class StocktakeIn(Schema):
    holder: UnitCode
    lot: RecordId
    counted: Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
    note: text(200) = ""


class StocktakeOut(Schema):
    #: The difference posted, none when the count equals the ledger.
    move: MoveOut | None


@router.post("/stocktakes", response={201: StocktakeOut})
def post_stocktake(request, data: StocktakeIn):
    """A count (盘点) of a lot at a store or site you manage: the difference from the
    ledger is posted as a move."""
    holder = unit_for_user(request.user, data.holder)
    lot = lot_get(data.lot)
    with _ledger_errors():
        move = stocktake(
            holder=holder, lot=lot, counted=data.counted, by=request.user, note=data.note
        )
    return Status(201, {"move": move})


class WriteOffIn(Schema):
    holder: UnitCode
    lot: RecordId
    quantity: Quantity
    reason: text(NOTE_MAX)


@router.post("/write-offs", response={201: MoveOut})
def post_write_off(request, data: WriteOffIn):
    """Wasted or damaged stock (报损) of a store or site you manage, with the reason."""
    holder = unit_for_user(request.user, data.holder)
    lot = lot_get(data.lot)
    with _ledger_errors():
        move = stock_write_off(
            holder=holder, lot=lot, quantity=data.quantity, by=request.user, reason=data.reason
        )
    return Status(201, move)


# AEFI handling (疑似预防接种异常反应): filed, reported, investigated, classified, closed,
# through the same services as the report's page (who may: 403; a step not open: 422).


class AEFIIn(Schema):
    dose: RecordId
    severity: AEFISeverity
    clustered: bool = False
    description: text(4000)
    #: When the reaction was found; now when absent.
    discovered_at: Moment | None = None


@router.post("/aefi-reports", response={201: AEFIReportDetailOut})
def post_aefi_report(request, data: AEFIIn):
    """File a suspected reaction after a dose of your units (the staff of the site that
    gave it, or the CDC): its report falls due 48 h after it was found, 2 h for a death,
    a severe or a clustered case."""
    dose = dose_for_user(request.user, data.dose)
    discovered_at = data.discovered_at or timezone.now()
    if timezone.is_naive(discovered_at):
        discovered_at = timezone.make_aware(discovered_at)
    with _ledger_errors():
        report = aefi_report_submit(
            dose=dose, severity=data.severity, description=data.description,
            discovered_at=discovered_at, by=request.user, clustered=data.clustered,
        )  # fmt: skip
    return Status(201, aefi_report_for(request.user, report.pk))


def _aefi_step(request, report_id: int, step, **fields):
    report = aefi_report_for(request.user, report_id)
    with _ledger_errors():
        step(report=report, by=request.user, **fields)
    return aefi_report_for(request.user, report_id)


@router.post("/aefi-reports/{report_id}/report", response={200: AEFIReportDetailOut})
def post_aefi_reported(request, report_id: RecordId):
    """The case was reported (网络直报), by the site that gave the dose or the CDC; the
    CDC's investigation falls due from now."""
    return _aefi_step(request, report_id, aefi_mark_reported)


@router.post("/aefi-reports/{report_id}/investigation", response={200: AEFIReportDetailOut})
def post_aefi_investigation(request, report_id: RecordId):
    """The county CDC began its investigation (调查) of a reported case."""
    return _aefi_step(request, report_id, aefi_investigation_start)


class ClassifyIn(Schema):
    classification: AEFIClassification


@router.post("/aefi-reports/{report_id}/classification", response={200: AEFIReportDetailOut})
def post_aefi_classification(request, report_id: RecordId, data: ClassifyIn):
    """The investigation's conclusion (诊断/鉴定), by the county CDC; it may be revised
    until the case is closed."""
    return _aefi_step(request, report_id, aefi_classify, classification=data.classification)


@router.post("/aefi-reports/{report_id}/close", response={200: AEFIReportDetailOut})
def post_aefi_close(request, report_id: RecordId):
    """Handling finished (结案), once classified, by the county CDC."""
    return _aefi_step(request, report_id, aefi_close)
