"""Reads of the daily dispatch. Live figures come from the leaves (Rollup), frozen ones
from snapshots; neither ever reads raw doses, so a page costs the same for a county of
200,000 as for a city of 10 million. Every read is scoped to the acting user."""

from collections import defaultdict
from datetime import date

from django.db.models import F, Q, Sum
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accountability.models import Cause
from epidispatch.accountability.selectors import cases_visible_to
from epidispatch.core.scoping import path_in_scope, paths_q, role_paths, scope_q
from epidispatch.figures.models import ADULT_BANDS, FIGURES, SENIOR_BANDS, AgeBand, Rollup
from epidispatch.orgunits.models import OrgUnit, Responsibility, UnitKind
from epidispatch.orgunits.selectors import scope_roots, unit_breadcrumb, unit_for_user

from .models import (
    Bulletin,
    DailyTarget,
    Ranking,
    RankingGroup,
    RankingMeasure,
    Snapshot,
    SnapshotFigure,
)
from .permissions import BULLETIN_ROLES

#: The kinds of unit ranked against their peers of the same county, by group.
RANKED_KINDS = {RankingGroup.TOWNS: UnitKind.TOWN, RankingGroup.DEPARTMENTS: UnitKind.DEPARTMENT}

#: Length of the code of a unit's children, where figures fold up by path prefix.
CHILD_CODE_LENGTH = {
    UnitKind.CITY: 6,
    UnitKind.COUNTY: 12,
    UnitKind.TOWN: 12,
    UnitKind.VILLAGE: 15,
}
TREND_DAYS = 30
#: Kinds of unit under which no resident lives.
NO_RESIDENTS = (UnitKind.SITE, UnitKind.INDUSTRY_GRID)
SUMS = {name: Sum(name) for name in FIGURES}

Bands = dict[str, dict[str, int]]


def _leaves(unit: OrgUnit):
    """The leaves whose figures are the unit's: below it, or a department's assigned grids."""
    if unit.kind == UnitKind.DEPARTMENT:
        return Rollup.objects.filter(
            grid_id__in=Responsibility.objects.filter(unit=unit).values("grid_id")
        )
    return Rollup.objects.filter(path__startswith=unit.path)


def _bands(rows) -> Bands:
    bands: Bands = {band.value: dict.fromkeys(FIGURES, 0) for band in AgeBand}
    for row in rows:
        for name in FIGURES:
            bands[row["band"]][name] += row[name] or 0
    return bands


def live_bands(unit: OrgUnit) -> Bands:
    """The unit's live figures per age band."""
    return _bands(_leaves(unit).values("band").annotate(**SUMS).order_by())


def totals(bands: Bands) -> dict[str, int | float | None]:
    """Figures summed over bands, with the rates a leader reads: coverage, series and
    booster of the target population, and the same for 60+."""
    result = {name: sum(values[name] for values in bands.values()) for name in FIGURES}
    covered, target = coverage_of(bands)
    seniors = {b: bands[b] for b in SENIOR_BANDS}
    senior_covered, senior_target = coverage_of(seniors)
    result.update(
        covered=covered,
        coverage=_rate(covered, target),
        series_rate=_rate(result["series_complete"], target),
        booster_rate=_rate(result["booster"], target),
        adults_to_clear=sum(bands[b]["to_clear"] for b in ADULT_BANDS),
        seniors_target=senior_target,
        seniors_covered=senior_covered,
        seniors_coverage=_rate(senior_covered, senior_target),
        seniors_series=sum(bands[b]["series_complete"] for b in SENIOR_BANDS),
        seniors_booster=sum(bands[b]["booster"] for b in SENIOR_BANDS),
    )
    return result


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def latest_snapshot() -> Snapshot | None:
    return Snapshot.objects.order_by("-day").first()


def dashboard(user, code: str) -> dict:
    """Everything the dashboard shows for one unit, live: totals, bands, the increment
    since the last cutoff, the trend of daily increments, and each child's figures."""
    unit = unit_for_user(user, code)
    children = [
        child
        for child in OrgUnit.objects.filter(parent=unit).order_by("code")
        if path_in_scope(user, child.path) and child.kind not in NO_RESIDENTS
    ]
    by_child = _leaves_by_child(unit)
    if by_child is None:
        bands = live_bands(unit)
    else:  # every leaf lies under a child: the leaves are read once
        bands = _bands(row for rows in by_child.values() for row in rows)
    snapshot = latest_snapshot()
    frozen = _snapshot_doses(snapshot, [unit.pk, *(c.pk for c in children)]) if snapshot else {}
    figures = totals(bands)
    figures["doses_since_cutoff"] = figures["doses"] - frozen.get(unit.pk, 0)
    return {
        "unit": _unit_json(unit),
        "breadcrumb": [_unit_json(u) for u in unit_breadcrumb(user, unit)],
        "as_of": timezone.localtime().isoformat(timespec="seconds"),
        "last_cutoff": _snapshot_json(snapshot),
        "totals": figures,
        "bands": [
            {"band": band.value, "label": str(band.label), **bands[band.value]} for band in AgeBand
        ],
        "trend": _trend(unit, figures["doses_since_cutoff"]),
        "children": _children(children, by_child or {}, frozen),
    }


def _unit_json(unit: OrgUnit) -> dict:
    return {"code": unit.code, "name": unit.name, "kind": unit.kind}


def _snapshot_json(snapshot: Snapshot | None) -> dict | None:
    if snapshot is None:
        return None
    return {
        "day": snapshot.day.isoformat(),
        "taken_at": timezone.localtime(snapshot.taken_at).isoformat(timespec="seconds"),
    }


def _snapshot_doses(snapshot: Snapshot, unit_ids) -> dict[int, int]:
    rows = (
        SnapshotFigure.objects.filter(snapshot=snapshot, unit_id__in=unit_ids)
        .values("unit_id")
        .annotate(doses=Sum("doses"))
        .order_by()
    )
    return {row["unit_id"]: row["doses"] for row in rows}


def _trend(unit: OrgUnit, live_increment: int) -> list[dict]:
    """Doses added per cutoff over the last TREND_DAYS snapshots, then today's so far."""
    rows = (
        SnapshotFigure.objects.filter(unit=unit)
        .values("snapshot__day")
        .annotate(doses=Sum("doses_added"))
        .order_by("-snapshot__day")[:TREND_DAYS]
    )
    trend = [{"day": row["snapshot__day"].isoformat(), "doses": row["doses"]} for row in rows]
    trend.reverse()
    today = timezone.localdate().isoformat()
    if not trend or trend[-1]["day"] != today:
        trend.append({"day": today, "doses": live_increment, "live": True})
    return trend


def _leaves_by_child(unit: OrgUnit) -> dict[str, list[dict]] | None:
    """The unit's leaves summed per child code and band, in one query; None for a unit
    whose figures are not its subtree's (a grid, a department)."""
    length = CHILD_CODE_LENGTH.get(unit.kind)
    if not length:
        return None
    rows = (
        Rollup.objects.filter(path__startswith=unit.path)
        .annotate(child=Substr("path", len(unit.path) + 1, length))
        .values("child", "band")
        .annotate(**SUMS)
        .order_by()
    )
    grouped = defaultdict(list)
    for row in rows:
        grouped[row["child"]].append(row)
    return grouped


def _children(
    children: list[OrgUnit], by_child: dict[str, list[dict]], frozen: dict[int, int]
) -> list[dict]:
    """Each child's live figures; the departments of a county count their assigned grids."""
    bands_by_child = {child.pk: _bands(by_child.get(child.code, [])) for child in children}
    departments = [child for child in children if child.kind == UnitKind.DEPARTMENT]
    bands_by_child.update(_department_bands(departments))
    result = []
    for child in children:
        figures = totals(bands_by_child[child.pk])
        figures["doses_since_cutoff"] = figures["doses"] - frozen.get(child.pk, 0)
        result.append({**_unit_json(child), **figures})
    return result


def _department_bands(departments: list[OrgUnit]) -> dict[int, Bands]:
    if not departments:
        return {}
    grids = defaultdict(list)
    for department, grid in Responsibility.objects.filter(unit__in=departments).values_list(
        "unit_id", "grid_id"
    ):
        grids[grid].append(department)
    rows = defaultdict(list)
    for leaf in Rollup.objects.filter(grid_id__in=list(grids)).values("grid_id", "band", *FIGURES):
        for department in grids[leaf["grid_id"]]:
            rows[department].append(leaf)
    return {department: _bands(leaves) for department, leaves in rows.items()}


def ranking(
    user, snapshot: Snapshot, *, county: OrgUnit, group: str, measure: str
) -> list[Ranking]:
    """The places of the county's towns (or departments) at a snapshot. A user whose scope
    holds the county sees every place; a town official only their own units' places."""
    rows = Ranking.objects.filter(
        snapshot=snapshot, group=group, measure=measure, unit__county_code=county.county_code
    ).select_related("unit")
    if not path_in_scope(user, county.path):
        rows = rows.filter(scope_q(user, "unit__path"))
    return list(rows.order_by("place", "unit__code"))


def rankings_of(user, snapshot: Snapshot, county: OrgUnit) -> dict[str, list[Ranking]]:
    """Every ranking of a snapshot for a county, keyed "group:measure", in one query."""
    rows = Ranking.objects.filter(
        snapshot=snapshot, unit__county_code=county.county_code
    ).select_related("unit")
    if not path_in_scope(user, county.path):
        rows = rows.filter(scope_q(user, "unit__path"))
    keyed: dict[str, list[Ranking]] = {
        f"{group}:{measure}": [] for group in RankingGroup for measure in RankingMeasure
    }
    for row in rows.order_by("place", "unit__code"):
        keyed[f"{row.group}:{row.measure}"].append(row)
    return keyed


def latest_places(user, unit: OrgUnit) -> list[Ranking]:
    """The unit's places in the latest snapshot's rankings (none outside the scope)."""
    snapshot = latest_snapshot()
    if snapshot is None or not path_in_scope(user, unit.path):
        return []
    return list(Ranking.objects.filter(snapshot=snapshot, unit=unit).order_by("group", "measure"))


def snapshots_visible_to(user):
    """Snapshots are taken for everyone; their figures are read through scoped selectors."""
    if not user.is_authenticated:
        return Snapshot.objects.none()
    return Snapshot.objects.order_by("-day")


def bulletin_counties(user):
    """The counties whose bulletins the user reads: those inside a city or county they
    hold as dispatcher or leader (roles bound to nothing smaller), in code order."""
    paths = role_paths(user, BULLETIN_ROLES)
    return OrgUnit.objects.filter(paths_q(paths), kind=UnitKind.COUNTY).order_by("code")


def bulletins_visible_to(user):
    """Every bulletin, for those with a county to read it for; none for anyone else."""
    if not bulletin_counties(user).exists():
        return Bulletin.objects.none()
    return Bulletin.objects.select_related("snapshot").order_by("-number")


def candidates_visible_to(user):
    """The summons cases proposed by ranking streaks (连续排名靠后) about units in the
    user's scope, with the measure and the cutoff of the ranking row that caused each."""
    return (
        cases_visible_to(user)
        .filter(cause=Cause.RANKING_STREAK)
        .annotate(
            measure=F("ranking__measure"),
            snapshot_id=F("ranking__snapshot_id"),
            cutoff_day=F("ranking__snapshot__day"),
        )
    )


def targets_for(user, day: date) -> list[dict]:
    """The units the user may see that take targets, with their target for `day` and the
    doses they have added since the last cutoff (live)."""
    units = list(
        OrgUnit.objects.filter(scope_q(user), kind__in=RANKED_KINDS.values()).order_by("code")
    )
    targets = {
        t.unit_id: t
        for t in DailyTarget.objects.filter(day=day, unit__in=units).select_related("issued_by")
    }
    snapshot = Snapshot.objects.filter(day__lt=day).order_by("-day").first()
    frozen = _snapshot_doses(snapshot, [u.pk for u in units]) if snapshot else {}
    live = _live_doses(units)
    return [
        {
            "unit": unit,
            "target": targets.get(unit.pk),
            "added": live.get(unit.pk, 0) - frozen.get(unit.pk, 0),
        }
        for unit in units
    ]


def _live_doses(units: list[OrgUnit]) -> dict[int, int]:
    """Live doses of each unit (towns by path, departments by their grids)."""
    towns = [u for u in units if u.kind != UnitKind.DEPARTMENT]
    result = {}
    if towns:
        condition = Q(pk__in=[])
        for town in towns:
            condition |= Q(path__startswith=town.path)
        by_prefix = (
            Rollup.objects.filter(condition)
            .annotate(town=Substr("path", 1, len(towns[0].path)))
            .values("town")
            .annotate(doses=Sum("doses"))
            .order_by()
        )
        paths = {town.path: town.pk for town in towns}
        result = {paths[row["town"]]: row["doses"] for row in by_prefix if row["town"] in paths}
    departments = [u for u in units if u.kind == UnitKind.DEPARTMENT]
    for department, bands in _department_bands(departments).items():
        result[department] = sum(values["doses"] for values in bands.values())
    return result


def ranking_county(user, code: str | None = None) -> OrgUnit:
    """The county whose rankings the user reads: the one named, when it holds the user's
    units or lies inside them, else the county of the user's first unit. A town official
    reads their own county (the ranking selectors then keep only their own places); any
    other county is a 404."""
    roots = sorted(scope_roots(user), key=lambda unit: unit.path)
    if code:
        county = OrgUnit.objects.filter(code=code, kind=UnitKind.COUNTY).first()
        if county and any(
            root.path.startswith(county.path) or county.path.startswith(root.path) for root in roots
        ):
            return county
        raise Http404(_("No county %(code)s within your units.") % {"code": code})
    for root in roots:
        if root.kind == UnitKind.CITY:
            county = OrgUnit.objects.filter(parent=root, kind=UnitKind.COUNTY).order_by("code")
        else:
            county = OrgUnit.objects.filter(code=root.county_code, kind=UnitKind.COUNTY)
        if found := county.first():
            return found
    raise Http404(_("Your account is not bound to any county."))


def coverage_of(figures_by_band: dict[str, dict[str, int]]) -> tuple[int, int]:
    """(people of the target bands with a first dose, target population)."""
    covered = sum(
        values["first_dose"] for band, values in figures_by_band.items() if band != AgeBand.UNDER_3
    )
    return covered, sum(values["target"] for values in figures_by_band.values())


def bulletin_for_user(user, number: int, county_code: str | None = None):
    """A bulletin the user reads (第N期) and the county it is read for: the one named, or
    the user's first. A number or county outside what the user reads is a 404."""
    bulletin = bulletins_visible_to(user).filter(number=number).first()
    if bulletin is None:
        raise Http404(_("No bulletin No. %(number)d for you.") % {"number": number})
    counties = bulletin_counties(user)
    county = counties.filter(code=county_code).first() if county_code else counties.first()
    if county is None:
        raise Http404(_("No county %(code)s within your units.") % {"code": county_code})
    return bulletin, county


def unit_snapshot(user, code: str, day: date) -> dict:
    """A unit's figures frozen at the cutoff of `day` (日调度), per age band and in total
    with the doses added since the previous cutoff, and its places in that day's rankings.
    A unit outside the user's scope, or a day without a cutoff, is a 404."""
    unit = unit_for_user(user, code)
    snapshot = snapshots_visible_to(user).filter(day=day).first()
    if snapshot is None:
        raise Http404(_("No cutoff was taken on %(day)s.") % {"day": day})
    bands: Bands = {band.value: dict.fromkeys(FIGURES, 0) for band in AgeBand}
    added = {band.value: 0 for band in AgeBand}
    for row in SnapshotFigure.objects.filter(snapshot=snapshot, unit=unit).values(
        "band", "doses_added", *FIGURES
    ):
        bands[row["band"]] = {name: row[name] for name in FIGURES}
        added[row["band"]] = row["doses_added"]
    figures = totals(bands)
    figures["doses_added"] = sum(added.values())
    places = Ranking.objects.filter(snapshot=snapshot, unit=unit).order_by("group", "measure")
    return {
        "unit": _unit_json(unit),
        "cutoff": {"day": snapshot.day, "taken_at": snapshot.taken_at},
        "totals": figures,
        "bands": [
            {
                "band": band.value,
                "label": str(band.label),
                "doses_added": added[band.value],
                **bands[band.value],
            }
            for band in AgeBand
        ],
        "places": list(places),
    }
