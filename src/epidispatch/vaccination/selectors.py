"""Reads of vaccination figures and lists. Figures count residents by where they live
(their grid), never by where they were vaccinated."""

from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from epidispatch.core.dates import latest_birth_date_for_age
from epidispatch.core.scoping import scope_q
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import EXCUSED_STATUSES, Resident
from epidispatch.registry.selectors import residents_visible_to

from .models import Dose, VaccinationStatus

ADULT_AGE = 18
#: The keys of the coverage figures, in the order DESIGN.md §7 lists them.
COVERAGE_KEYS = (
    "residents",
    "adults",
    "first_dose",
    "series_complete",
    "booster",
    "to_clear",
    "overdue_second",
)


def unit_coverage(unit: OrgUnit, as_of: date) -> dict[str, int]:
    """The unit's figures on `as_of`, counting only doses given on or before that day.

    Adults are 18 or older on that day; `to_clear` counts adults with no dose who are not
    excused; `overdue_second` counts people whose series is not complete and whose next
    dose is past its latest recommended day. Doses of people not in the registry are never
    stored, so they can never be counted.
    """
    doses = Dose.objects.filter(resident=OuterRef("pk"), given_on__lte=as_of)
    adult = Q(birth_date__lte=latest_birth_date_for_age(as_of, ADULT_AGE))
    residents = Resident.objects.filter(grid__path__startswith=unit.path).annotate(
        has_dose=Exists(doses),
        has_series=Exists(doses.filter(completes_series=True)),
        has_booster=Exists(doses.filter(booster_number__gte=1)),
        due_by=Subquery(doses.order_by("-dose_number").values("next_due_by")[:1]),
    )
    return residents.aggregate(
        residents=Count("pk"),
        adults=Count("pk", filter=adult),
        first_dose=Count("pk", filter=Q(has_dose=True)),
        series_complete=Count("pk", filter=Q(has_series=True)),
        booster=Count("pk", filter=Q(has_booster=True)),
        to_clear=Count("pk", filter=adult & Q(has_dose=False) & ~Q(status__in=EXCUSED_STATUSES)),
        overdue_second=Count("pk", filter=Q(due_by__lt=as_of)),
    )


def clearance_list(user, unit: OrgUnit, *, grid_code: str = "", reason: str | None = None):
    """清零 list: adults in the user's scope under `unit` with no dose who are not excused,
    by grid and name. `reason` filters by 未接种原因 ("" for none recorded)."""
    today = timezone.localdate()
    residents = (
        residents_visible_to(user)
        .filter(
            grid__path__startswith=_under(unit, grid_code),
            birth_date__lte=latest_birth_date_for_age(today, ADULT_AGE),
            vaccination__isnull=True,
        )
        .exclude(status__in=EXCUSED_STATUSES)
    )
    if reason is not None:
        residents = residents.filter(unvaccinated_reason=reason)
    return residents.select_related("grid").order_by("grid__code", "name", "pk")


def clearance_counts_by_reason(user, unit: OrgUnit, *, grid_code: str = "") -> dict[str, int]:
    """How many on the 清零 list have each 未接种原因 ("" when none is recorded)."""
    rows = (
        clearance_list(user, unit, grid_code=grid_code)
        .order_by()
        .values_list("unvaccinated_reason")
        .annotate(count=Count("pk"))
    )
    return dict(rows)


def due_list(user, unit: OrgUnit, *, grid_code: str = "", overdue_only: bool = False):
    """People in the user's scope whose primary series is not complete, by the latest day
    of their next dose; `overdue` is True once that day has passed (first dose ≥ day 56)."""
    today = timezone.localdate()
    statuses = VaccinationStatus.objects.filter(
        scope_q(user, "resident__grid__path"),
        resident__grid__path__startswith=_under(unit, grid_code),
        series_complete_on__isnull=True,
        next_due_by__isnull=False,
    )
    if overdue_only:
        statuses = statuses.filter(next_due_by__lt=today)
    return (
        statuses.annotate(overdue=Q(next_due_by__lt=today))
        .select_related("resident__grid", "series_product")
        .order_by("next_due_by", "resident__grid__code", "resident__name")
    )


def _under(unit: OrgUnit, grid_code: str) -> str:
    """The path to filter by: the unit's, or one of its grids' (a grid outside the unit
    matches nothing rather than widening the list)."""
    if not grid_code:
        return unit.path
    grid = OrgUnit.objects.filter(code=grid_code, path__startswith=unit.path).first()
    return grid.path if grid else f"{unit.path}{grid_code}/∅"
