"""The daily dispatch in the JSON API (/api/v1/dispatch/…): the dashboard figures of a unit
and the rankings of a cutoff, from the same scoped selectors as the pages.

    curl -H "Authorization: Bearer $TOKEN" \\
        http://127.0.0.1:8000/api/v1/dispatch/units/621121100000/dashboard
"""

from datetime import date, datetime
from typing import Annotated

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from epidispatch.core.bounds import Day, UnitCode
from epidispatch.core.paging import CursorQuery, cursor_page

from . import selectors
from .bulletin import docx as docx_writer
from .bulletin import xlsx as xlsx_writer
from .bulletin.content import BulletinContent, bulletin_content
from .models import RankingGroup, RankingMeasure
from .permissions import reads_bulletins

router = Router(tags=["dispatch"])


class UnitRef(Schema):
    code: str
    name: str
    kind: str


class CutoffOut(Schema):
    day: date
    taken_at: datetime


class FiguresOut(Schema):
    residents: int
    target: int
    doses: int
    first_dose: int
    series_complete: int
    booster: int
    sequential_booster: int
    to_clear: int


class VaccinationCoverageOut(FiguresOut):
    """The coverage figures that the live totals and a cutoff's frozen totals share; each
    adds its own count of the day's doses."""

    covered: int
    #: Shares of the target population (0–1); null when it is empty.
    coverage: float | None
    series_rate: float | None
    booster_rate: float | None
    adults_to_clear: int
    seniors_target: int
    seniors_covered: int
    seniors_coverage: float | None
    seniors_series: int
    seniors_booster: int


class TotalsOut(VaccinationCoverageOut):
    doses_since_cutoff: int


class BandOut(FiguresOut):
    band: str
    label: str


class TrendPoint(Schema):
    day: date
    doses: int
    #: True for today's figure so far (no cutoff yet).
    live: bool = False


class DashboardChildOut(TotalsOut):
    code: str
    name: str
    kind: str


class DashboardOut(Schema):
    unit: UnitRef
    breadcrumb: list[UnitRef]
    as_of: datetime
    last_cutoff: CutoffOut | None
    totals: TotalsOut
    bands: list[BandOut]
    trend: list[TrendPoint]
    children: list[DashboardChildOut]


@router.get("/units/{code}/dashboard", response=DashboardOut)
def unit_dashboard(request, code: str):
    """The unit's live figures as its dashboard shows them: totals, age bands, the daily
    increments at the last cutoffs and today's so far, and each sub-unit (404 outside your
    scope)."""
    return selectors.dashboard(request.user, code)


class RankingOut(Schema):
    group: RankingGroup
    measure: RankingMeasure
    code: str
    name: str
    numerator: int
    denominator: int
    rate: float | None
    #: Equal rates share a place; the next place is skipped (1, 2, 2, 4).
    place: int
    of: int
    bottom: bool


class RankingsOut(Schema):
    county: UnitRef
    cutoff: CutoffOut
    rankings: list[RankingOut]


@router.get("/rankings", response=RankingsOut)
def rankings(request, county: UnitCode | None = None, day: Day | None = None):
    """The places of a county's towns and departments at a cutoff (the latest unless `day`),
    by coverage and by target completion. A town official gets their own places only;
    a county outside your units is a 404, as is a day without a cutoff."""
    unit = selectors.ranking_county(request.user, county)
    snapshots = selectors.snapshots_visible_to(request.user)
    snapshot = (snapshots.filter(day=day) if day else snapshots).first()
    if snapshot is None:
        raise Http404
    keyed = selectors.rankings_of(request.user, snapshot, unit)
    return {
        "county": unit,
        "cutoff": {"day": snapshot.day, "taken_at": snapshot.taken_at},
        "rankings": [
            {
                "group": row.group,
                "measure": row.measure,
                "code": row.unit.code,
                "name": row.unit_name,
                "numerator": row.numerator,
                "denominator": row.denominator,
                "rate": row.rate,
                "place": row.place,
                "of": row.of,
                "bottom": row.bottom,
            }
            for rows in keyed.values()
            for row in rows
        ],
    }


class TargetOut(Schema):
    unit: UnitRef
    #: The doses to give that day (任务清单), None when no target was issued.
    doses: int | None
    issued_at: datetime | None
    late: bool | None
    #: Doses added since the last cutoff before the day (live).
    added: int


@router.get("/targets", response=list[TargetOut])
def list_targets(request, day: Day | None = None):
    """The daily targets of the towns and departments of your units for `day` (default
    today), with the doses each has added since the last cutoff before it."""
    rows = selectors.targets_for(request.user, day or timezone.localdate())
    return [
        {
            "unit": row["unit"],
            "doses": row["target"].doses if row["target"] else None,
            "issued_at": row["target"].issued_at if row["target"] else None,
            "late": row["target"].late if row["target"] else None,
            "added": row["added"],
        }
        for row in rows
    ]


class BandSnapshotOut(BandOut):
    doses_added: int


class SnapshotTotalsOut(VaccinationCoverageOut):
    #: Doses given since the previous cutoff (日增量).
    doses_added: int


class RankingPlaceOut(Schema):
    group: RankingGroup
    measure: RankingMeasure
    numerator: int
    denominator: int
    rate: float | None
    place: int
    of: int
    bottom: bool


class UnitSnapshotOut(Schema):
    unit: UnitRef
    cutoff: CutoffOut
    totals: SnapshotTotalsOut
    bands: list[BandSnapshotOut]
    #: The unit's places in that day's rankings (none for a unit that is not ranked).
    places: list[RankingPlaceOut]


@router.get("/snapshots/{day}/units/{code}", response=UnitSnapshotOut)
def unit_snapshot(request, day: Day, code: UnitCode):
    """A unit's figures frozen at the cutoff of `day` (日调度) and its places in that day's
    rankings: what the unit stood at then, whatever changed since. 404 for a unit outside
    your scope or a day without a cutoff."""
    return selectors.unit_snapshot(request.user, code, day)


class SnapshotListOut(Schema):
    id: int
    day: date
    taken_at: datetime


class SnapshotPageOut(Schema):
    items: list[SnapshotListOut]
    next_cursor: int
    has_more: bool


@router.get("/snapshots", response=SnapshotPageOut)
def list_snapshots(request, filters: Query[CursorQuery]):
    """The days whose figures were frozen at the cutoff, oldest first (cursor-paged); read a
    unit's figures of one with `/snapshots/{day}/units/{code}`."""
    return cursor_page(
        selectors.snapshots_visible_to(request.user), cursor=filters.cursor, limit=filters.limit
    )


#: A bulletin number (第N期): a PostgreSQL integer.
BulletinNumber = Annotated[int, Field(ge=1, le=2**31 - 1)]


class BulletinListOut(Schema):
    number: int
    day: date = Field(alias="snapshot.day")
    taken_at: datetime = Field(alias="snapshot.taken_at")


class BulletinPageOut(Schema):
    items: list[BulletinListOut]
    next_cursor: int
    has_more: bool


class BulletinFilters(CursorQuery):
    day: Day | None = None


@router.get("/bulletins", response=BulletinPageOut)
def list_bulletins(request, filters: Query[BulletinFilters]):
    """The 日通报 bulletins, oldest first (cursor-paged by number; `day` keeps that day's).
    They go to the dispatchers and leaders of a county or city: the list is empty for
    anyone else."""
    bulletins = selectors.bulletins_visible_to(request.user)
    if filters.day:
        bulletins = bulletins.filter(snapshot__day=filters.day)
    return cursor_page(bulletins, cursor=filters.cursor, limit=filters.limit, key="number")


class FigureLineOut(Schema):
    key: str
    label: str
    #: A count, or a rate in percent (two decimals); null when there is nothing to divide by.
    value: float | None
    is_rate: bool
    text: str


class RankRowOut(Schema):
    place: int
    of: int
    tied: bool
    code: str
    name: str
    numerator: int
    denominator: int
    #: In percent, two decimals; null when there is nothing to divide by.
    rate: float | None
    doses_added: int
    bottom: bool
    met: bool


class RankingTableOut(Schema):
    group: RankingGroup
    measure: RankingMeasure
    heading: str
    columns: list[str]
    rows: list[RankRowOut]


class InterviewCandidateOut(Schema):
    code: str
    name: str
    measure: RankingMeasure
    streak: int


class BulletinOut(Schema):
    number: int
    day: date
    cutoff: datetime
    county: UnitRef
    title: str
    number_text: str
    cutoff_text: str
    issuer: str
    issued_text: str
    summary: str
    figures: list[FigureLineOut]
    tables: list[RankingTableOut]
    #: Codes of the units that did not meet the day's target.
    below_target: list[str]
    candidates: list[InterviewCandidateOut]


class BulletinQuery(Schema):
    #: The county to read the bulletin for (a city's users read each of its counties'); the
    #: first of yours when none is named.
    county: UnitCode | None = None


def _bulletin(request, number: int, county: str | None) -> BulletinContent:
    if not reads_bulletins(request.user):
        raise HttpError(403, _("Bulletins go to those who hold a whole county or city."))
    bulletin, unit = selectors.bulletin_for_user(request.user, number, county)
    return bulletin_content(bulletin, unit)


def _number(value) -> float | None:
    return None if value is None else float(value)


@router.get("/bulletins/{number}", response=BulletinOut)
def get_bulletin(request, number: BulletinNumber, query: Query[BulletinQuery]):
    """What the 日通报 第N期 says for a county, as its page shows it: the headline figures,
    the ranking tables, the units below target and the summons proposed. 403 for a role
    that does not read bulletins; 404 for a number or county you do not read."""
    content = _bulletin(request, number, query.county)
    return {
        "number": content.number,
        "day": content.day,
        "cutoff": content.cutoff,
        "county": {"code": content.unit_code, "name": content.unit_name, "kind": "county"},
        "title": content.title,
        "number_text": content.number_text,
        "cutoff_text": content.cutoff_text,
        "issuer": content.issuer,
        "issued_text": content.issued_text,
        "summary": content.summary,
        "figures": [
            {
                "key": line.key,
                "label": line.label,
                "value": _number(line.value),
                "is_rate": line.is_rate,
                "text": line.text,
            }
            for line in content.figures
        ],
        "tables": [
            {
                "group": table.group,
                "measure": table.measure,
                "heading": table.heading,
                "columns": list(table.columns),
                "rows": [
                    {
                        "place": row.place,
                        "of": row.of,
                        "tied": row.tied,
                        "code": row.unit_code,
                        "name": row.unit_name,
                        "numerator": row.numerator,
                        "denominator": row.denominator,
                        "rate": _number(row.rate),
                        "doses_added": row.doses_added,
                        "bottom": row.bottom,
                        "met": row.met,
                    }
                    for row in table.rows
                ],
            }
            for table in content.tables
        ],
        "below_target": [row.unit_code for row in content.below_target],
        "candidates": [
            {"code": c.unit_code, "name": c.unit_name, "measure": c.measure, "streak": c.streak}
            for c in content.candidates
        ],
    }


def _download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    """The file as an attachment; a Chinese name goes out as RFC 5987 `filename*`."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, max-age=0"
    return response


def _file_response(content_type: str, description: str) -> dict:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {200: {"description": description, "content": {content_type: binary}}}}


@router.get(
    "/bulletins/{number}/docx",
    response={200: None},
    openapi_extra=_file_response(docx_writer.DOCX_TYPE, "The bulletin as a Word document"),
)
def get_bulletin_docx(request, number: BulletinNumber, query: Query[BulletinQuery]):
    """The 日通报 第N期 of a county as the .docx the office sends out (statuses as for the
    bulletin itself)."""
    content = _bulletin(request, number, query.county)
    return _download(
        docx_writer.bulletin_docx(content), f"{content.file_stem}.docx", docx_writer.DOCX_TYPE
    )


@router.get(
    "/bulletins/{number}/xlsx",
    response={200: None},
    openapi_extra=_file_response(xlsx_writer.XLSX_TYPE, "The bulletin as a workbook"),
)
def get_bulletin_xlsx(request, number: BulletinNumber, query: Query[BulletinQuery]):
    """The 日通报 第N期 of a county as an .xlsx workbook: its figures and ranking tables."""
    content = _bulletin(request, number, query.county)
    return _download(
        xlsx_writer.bulletin_xlsx(content), f"{content.file_stem}.xlsx", xlsx_writer.XLSX_TYPE
    )
