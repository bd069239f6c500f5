"""Reads of vaccination figures and lists. Figures count residents by where they live
(their grid), never by where they were vaccinated."""

from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from epidispatch.core.bounds import MAX_BIGINT
from epidispatch.core.dates import latest_birth_date_for_age
from epidispatch.core.scoping import scope_q
from epidispatch.orgunits.models import OrgUnit
from epidispatch.orgunits.selectors import under_unit_q
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
    residents = Resident.objects.filter(under_unit_q(unit, "grid__path")).annotate(
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


#: The 清零 list's age filters: (youngest, oldest) in whole years, None for no bound.
CLEARANCE_AGES = {"18+": (18, None), "12-17": (12, 17), "3-11": (3, 11), "60+": (60, None)}
#: The target population starts at 3 (the live figures' `target` and `to_clear`).
TARGET_AGE = 3


def clearance_list(
    user, unit: OrgUnit, *, grid_code: str = "", reason: str | None = None, ages: str = ""
):
    """清零 list: the target population (3 and over) in the user's scope under `unit`
    with no dose who are not excused, by grid and name — exactly who the live figure
    `to_clear` counts, so the list and the dashboard agree. `ages` is one of
    `CLEARANCE_AGES`; `reason` filters by 未接种原因 ("" for none recorded)."""
    today = timezone.localdate()
    youngest, oldest = CLEARANCE_AGES.get(ages, (TARGET_AGE, None))
    residents = (
        residents_visible_to(user)
        .filter(
            _under(unit, grid_code),
            birth_date__lte=latest_birth_date_for_age(today, youngest),
            vaccination__isnull=True,
        )
        .exclude(status__in=EXCUSED_STATUSES)
    )
    if oldest is not None:
        residents = residents.filter(birth_date__gt=latest_birth_date_for_age(today, oldest + 1))
    if reason is not None:
        residents = residents.filter(unvaccinated_reason=reason)
    return residents.select_related("grid").order_by("grid__code", "name", "pk")


def clearance_counts_by_grid(user, grid_ids: list[int]) -> dict[int, int]:
    """How many of these grids' residents are on the 清零 list, by grid id (grids with
    nobody left are absent)."""
    today = timezone.localdate()
    rows = (
        residents_visible_to(user)
        .filter(
            grid_id__in=grid_ids,
            birth_date__lte=latest_birth_date_for_age(today, TARGET_AGE),
            vaccination__isnull=True,
        )
        .exclude(status__in=EXCUSED_STATUSES)
        .order_by()
        .values_list("grid_id")
        .annotate(count=Count("pk"))
    )
    return dict(rows)


def clearance_counts_by_reason(
    user, unit: OrgUnit, *, grid_code: str = "", ages: str = ""
) -> dict[str, int]:
    """How many on the 清零 list have each 未接种原因 ("" when none is recorded)."""
    rows = (
        clearance_list(user, unit, grid_code=grid_code, ages=ages)
        .order_by()
        .values_list("unvaccinated_reason")
        .annotate(count=Count("pk"))
    )
    return dict(rows)


def doses_given_at(user, site: OrgUnit, day: date):
    """The doses given at a site on a day, newest first: the site's daily register.
    Scoped by the site, which its staff hold (the people come from all over the county)."""
    return (
        Dose.objects.filter(scope_q(user, "site__path"), site=site, given_on=day)
        .select_related("resident", "product")
        .order_by("-created_at", "-pk")
    )


def dose_for_user(user, dose_id: int) -> Dose:
    """One dose the user can see, or Http404 (never saying whether it exists): a dose given
    at a site in their scope (the site's register) or of a resident who lives in it."""
    if not 1 <= dose_id <= MAX_BIGINT:
        raise Http404
    doses = Dose.objects.filter(
        scope_q(user, "site__path") | scope_q(user, "resident__grid__path"), pk=dose_id
    )
    return get_object_or_404(doses.select_related("resident__grid", "site", "product"))


def due_list(user, unit: OrgUnit, *, grid_code: str = "", overdue_only: bool = False):
    """People in the user's scope whose primary series is not complete, by the latest day
    of their next dose; `overdue` is True once that day has passed (first dose ≥ day 56)."""
    today = timezone.localdate()
    statuses = VaccinationStatus.objects.filter(
        scope_q(user, "resident__grid__path"),
        _under(unit, grid_code, "resident__grid__path"),
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


def _under(unit: OrgUnit, grid_code: str, path_field: str = "grid__path") -> Q:
    """The unit's residents (a department's: its assigned grids'), or one of its grids'
    (a grid outside the unit matches nothing rather than widening the list)."""
    if not grid_code:
        return under_unit_q(unit, path_field)
    grid = OrgUnit.objects.filter(under_unit_q(unit), code=grid_code).first()
    return Q(**{f"{path_field}__startswith": grid.path}) if grid else Q(pk__in=[])
