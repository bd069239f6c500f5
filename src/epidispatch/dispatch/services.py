"""Writes of the daily dispatch: the cutoff snapshot with its rankings, the accountability
cases its bottom streaks propose (约谈, in the accountability app) and bulletin number;
next-day targets."""

import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accountability.models import Cause
from epidispatch.accountability.services import accountability_propose
from epidispatch.figures.models import FIGURES, Rollup
from epidispatch.figures.rollups import leaf_figures, rollups_reband
from epidispatch.orgunits.models import PATH_SEPARATOR, OrgUnit, Responsibility

from .models import (
    Bulletin,
    DailyTarget,
    Ranking,
    RankingMeasure,
    Snapshot,
    SnapshotFigure,
)
from .permissions import dispatches, freezes_figures
from .selectors import RANKED_KINDS, coverage_of


@transaction.atomic
def snapshot_take(*, at: datetime | None = None, by=None) -> Snapshot:
    """Freeze every unit's live figures at the cutoff (日调度), rank towns and
    departments, propose accountability candidates and number the bulletin. One snapshot
    per day, and days only move forward."""
    if by is not None and not freezes_figures(by):
        raise PermissionDenied(
            _("Only the dispatcher of the whole jurisdiction freezes the figures.")
        )
    at = at or timezone.now()
    day = timezone.localdate(at)
    _check_day_is_new(day)
    rollups_reband(day=day)
    leaves = Rollup.objects.values_list("grid_id", "path", "band", *FIGURES)
    return _freeze(day=day, at=at, by=by, leaves=leaves)


@transaction.atomic
def snapshot_backfill(*, day: date, by=None) -> Snapshot:
    """A snapshot of a past day as its figures stood then, recounted from the residents
    and doses (only doses given by that day count; statuses are today's). For an office
    that starts mid-campaign and wants its history, and for the demo."""
    if day >= timezone.localdate():
        raise ValidationError(_("Only a past day can be recounted."), code="not_past")
    _check_day_is_new(day)
    leaves = _recounted_leaves(day, as_of=day)
    at = timezone.make_aware(datetime.combine(day, time(*settings.EPIDISPATCH_CUTOFF)))
    return _freeze(day=day, at=at, by=by, leaves=leaves)


def _check_day_is_new(day: date) -> None:
    if Snapshot.objects.filter(day__gte=day).exists():
        raise ValidationError(
            _("The figures of %(day)s have already been frozen.") % {"day": day},
            code="already_taken",
        )


def _freeze(*, day: date, at: datetime, by, leaves) -> Snapshot:
    previous = Snapshot.objects.order_by("-day").first()
    snapshot = Snapshot.objects.create(day=day, taken_at=at, taken_by=by, previous=previous)
    figures = _unit_figures(leaves)
    before = _doses_by_unit_band(previous) if previous else _doses_before(day)
    # A band whose last people moved on (a grid's last 17-year-old turned 18) has no leaf
    # now but had doses before: it gets a row of zeros whose negative `doses_added` keeps
    # each unit's sum over bands equal to the doses it gained, never more.
    emptied = {key: [0] * len(FIGURES) for key in before.keys() - figures.keys()}
    SnapshotFigure.objects.bulk_create(
        (
            SnapshotFigure(
                snapshot=snapshot,
                unit_id=unit_id,
                band=band,
                doses_added=values[FIGURES.index("doses")] - before.get((unit_id, band), 0),
                **dict(zip(FIGURES, values, strict=True)),
            )
            for (unit_id, band), values in sorted({**figures, **emptied}.items())
        ),
        batch_size=5000,
    )
    _rank(snapshot, figures)
    _propose_candidates(snapshot)
    number = (Bulletin.objects.aggregate(last=Max("number"))["last"] or 0) + 1
    Bulletin.objects.create(snapshot=snapshot, number=number)
    return snapshot


def _unit_figures(leaves) -> dict[tuple[int, str], list[int]]:
    """Every unit's figures per band, summed from one consistent read of the leaves
    (grid id, path, band, *FIGURES): a leaf counts for each unit on its path, and for the
    departments responsible for its grid."""
    unit_ids = dict(OrgUnit.objects.values_list("code", "pk"))
    departments = defaultdict(list)
    for department, grid in Responsibility.objects.values_list("unit_id", "grid_id"):
        departments[grid].append(department)
    totals: dict[tuple[int, str], list[int]] = {}
    for grid_id, path, band, *values in leaves:
        owners = [unit_ids[code] for code in path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)]
        for unit_id in owners + departments.get(grid_id, []):
            current = totals.setdefault((unit_id, band), [0] * len(FIGURES))
            for index, value in enumerate(values):
                current[index] += value
    return totals


def _doses_before(day: date) -> dict[tuple[int, str], int]:
    """Each unit's doses given before `day`, recounted from the doses: what the first
    cutoff's "doses added" start from, so that it counts that day's doses and not the
    whole history."""
    leaves = _recounted_leaves(day, as_of=day - timedelta(days=1))
    doses = FIGURES.index("doses")
    return {key: values[doses] for key, values in _unit_figures(leaves).items()}


def _recounted_leaves(day: date, *, as_of: date) -> list[tuple]:
    """Leaves as `_unit_figures` reads them (grid id, path, band, *FIGURES), recounted
    from the residents and doses with ages on `day` and doses given by `as_of`."""
    return [
        (grid, path, band, *values)
        for (grid, band, path, _county), values in leaf_figures(
            None, banded_on=day, as_of=as_of
        ).items()
    ]


def _doses_by_unit_band(snapshot: Snapshot | None) -> dict[tuple[int, str], int]:
    if snapshot is None:
        return {}
    rows = SnapshotFigure.objects.filter(snapshot=snapshot).values_list("unit_id", "band", "doses")
    return {(unit_id, band): doses for unit_id, band, doses in rows}


def _rank(snapshot: Snapshot, figures: dict[tuple[int, str], list[int]]) -> None:
    targets = dict(DailyTarget.objects.filter(day=snapshot.day).values_list("unit_id", "doses"))
    by_unit: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    for (unit_id, band), values in figures.items():
        by_unit[unit_id][band] = dict(zip(FIGURES, values, strict=True))
    before = defaultdict(int)
    for (unit_id, _band), doses in _doses_by_unit_band(snapshot.previous).items():
        before[unit_id] += doses
    rows = []
    for group, kind in RANKED_KINDS.items():
        peers = defaultdict(list)
        for unit in OrgUnit.objects.filter(kind=kind).only("pk", "county_code"):
            peers[unit.county_code].append(unit.pk)
        for units in peers.values():
            coverage = {unit: coverage_of(by_unit.get(unit, {})) for unit in units}
            added = {
                unit: sum(v["doses"] for v in by_unit.get(unit, {}).values()) - before[unit]
                for unit in units
                if unit in targets
            }
            completion = {unit: (added[unit], targets[unit]) for unit in added}
            for measure, values in (
                (RankingMeasure.COVERAGE, coverage),
                (RankingMeasure.TARGET, completion),
            ):
                rows += _places(snapshot, group, measure, values)
    Ranking.objects.bulk_create(rows)


#: Rankings order by the rate in percent rounded half up to this many decimals — the
#: precision every page, bulletin and file shows — so units shown equal share a place.
RANK_DECIMALS = 2


def ranked_rate(numerator: int, denominator: int) -> int:
    """The rate a ranking orders by: percent × 10^RANK_DECIMALS, rounded half up."""
    scaled = Fraction(numerator * 100 * 10**RANK_DECIMALS, denominator)
    return math.floor(scaled + Fraction(1, 2))


def _places(snapshot, group, measure, values: dict[int, tuple[int, int]]) -> list[Ranking]:
    """Competition ranking (1, 2, 2, 4) by rate at the precision shown, highest first;
    units with nothing to divide by are not ranked. The bottom N are the last N positions,
    and a tie reaching into them is marked whole: ten units tied for 9th of 18 are all
    in the bottom 3, never none of them."""
    rates = {unit: Fraction(n, d) for unit, (n, d) in values.items() if d > 0}
    keys = {unit: ranked_rate(*values[unit]) for unit in rates}
    ordered = sorted(keys.values(), reverse=True)
    names = dict(OrgUnit.objects.filter(pk__in=list(rates)).values_list("pk", "name"))
    bottom_from = len(ordered) - settings.EPIDISPATCH_BOTTOM_N  # positions after this one
    return [
        Ranking(
            snapshot=snapshot,
            group=group,
            measure=measure,
            unit_id=unit,
            unit_name=names[unit],
            numerator=values[unit][0],
            denominator=values[unit][1],
            rate=float(rate),
            place=ordered.index(keys[unit]) + 1,
            of=len(ordered),
            bottom=ordered.index(keys[unit]) + ordered.count(keys[unit]) > bottom_from,
        )
        for unit, rate in rates.items()
    ]


def _propose_candidates(snapshot: Snapshot) -> None:
    """A unit in the bottom N for K consecutive snapshots, and again every K snapshots it
    stays there, is proposed for a summons (约谈): a case of the accountability record
    whose cause is the ranking row that completed the streak."""
    streak_length = settings.EPIDISPATCH_BOTTOM_STREAK
    bottom = list(snapshot.rankings.filter(bottom=True).select_related("unit"))
    if not bottom:
        return
    history = defaultdict(dict)
    for row in Ranking.objects.filter(
        unit_id__in=[row.unit_id for row in bottom],
        snapshot__day__lt=snapshot.day,
    ).select_related("snapshot"):
        history[(row.unit_id, row.measure)][row.snapshot.day] = row.bottom
    days = list(
        Snapshot.objects.filter(day__lt=snapshot.day).order_by("-day").values_list("day", flat=True)
    )
    for row in bottom:
        streak = 1
        for day in days:
            if not history[(row.unit_id, row.measure)].get(day):
                break
            streak += 1
        if streak % streak_length == 0:
            accountability_propose(
                unit=row.unit,
                cause=Cause.RANKING_STREAK,
                cause_object=row,
                summary=_("%(measure)s in the bottom for %(streak)d cutoffs in a row")
                % {"measure": row.get_measure_display(), "streak": streak},
                streak=streak,
                at=snapshot.taken_at,
            )


@transaction.atomic
def target_issue(
    *, unit: OrgUnit, day: date, doses: int, by, at: datetime | None = None
) -> DailyTarget:
    """Issue (or re-issue) a unit's quota of doses for `day` (任务清单). Due by 20:00 the day
    before; a later issue is stored and flagged late."""
    at = at or timezone.now()
    if not dispatches(by, unit):
        raise PermissionDenied(_("Only the dispatcher issues daily targets."))
    if unit.kind not in RANKED_KINDS.values():
        raise ValidationError(
            _("Targets go to towns, streets and departments, not to a %(kind)s.")
            % {"kind": unit.get_kind_display()},
            code="kind",
        )
    if doses < 0:
        raise ValidationError(_("A target cannot be negative."), code="negative")
    if day < timezone.localdate(at):
        raise ValidationError(
            _("%(day)s is past; targets are for today or later.") % {"day": day}, code="past"
        )
    if Snapshot.objects.filter(day=day).exists():
        raise ValidationError(
            _("The figures of %(day)s are frozen; its targets can no longer change.")
            % {"day": day},
            code="frozen",
        )
    target, _created = DailyTarget.objects.update_or_create(
        unit=unit,
        day=day,
        defaults={
            "doses": doses,
            "issued_by": by,
            "issued_at": at,
            "late": at > DailyTarget.deadline_for(day),
        },
    )
    return target
