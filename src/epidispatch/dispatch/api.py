"""The daily dispatch in the JSON API (/api/v1/dispatch/…): the dashboard figures of a unit
and the rankings of a cutoff, from the same scoped selectors as the pages.

    curl -H "Authorization: Bearer $TOKEN" \\
        http://127.0.0.1:8000/api/v1/dispatch/units/621121100000/dashboard
"""

from datetime import date, datetime

from django.http import Http404
from django.utils import timezone
from ninja import Router, Schema

from epidispatch.core.bounds import Day, UnitCode

from . import selectors
from .models import RankingGroup, RankingMeasure

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


class TotalsOut(FiguresOut):
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
