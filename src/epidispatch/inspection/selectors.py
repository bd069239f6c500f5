"""Reads of inspections, scoped to the user before anything else.

A user sees the key places, inspections and problems of the units in their scope (the
place's responsible unit), plus what their inspection teams are assigned to. A place or
problem outside both is a 404, like everything outside the scope.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accountability.models import Accountability
from epidispatch.accountability.selectors import cases_visible_to
from epidispatch.core.scoping import paths_q, scope_q
from epidispatch.orgunits.models import OrgUnit

from .models import (
    OPEN_STATES,
    Evidence,
    Inspection,
    KeyPlace,
    PlaceCategory,
    Problem,
    ProblemState,
    Rectification,
    Team,
)


def _team_q(user, prefix: str = "") -> Q:
    """Places the user's teams are assigned to, one by one or through a unit."""
    if not (user and user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    teams = Team.objects.filter(members=user)
    unit_paths = [p for p in teams.values_list("units__path", flat=True) if p]
    place_ids = KeyPlace.objects.filter(teams__in=teams).values("pk")
    return (
        Q(**{f"{prefix}pk__in": place_ids})
        | paths_q(unit_paths, f"{prefix}responsible_unit__path")
        | paths_q(unit_paths, f"{prefix}grid__path")
    )


def places_visible_to(user):
    return (
        KeyPlace.objects.filter(scope_q(user, "responsible_unit__path") | _team_q(user))
        .select_related("category", "responsible_unit", "grid")
        .order_by("responsible_unit__code", "name", "pk")
    )


def places_to_inspect(user):
    """The places the user's inspection teams are assigned to."""
    return (
        KeyPlace.objects.filter(_team_q(user))
        .select_related("category", "responsible_unit", "grid")
        .order_by("responsible_unit__code", "name", "pk")
    )


def place_for_user(user, pk: int) -> KeyPlace:
    try:
        return places_visible_to(user).get(pk=pk)
    except KeyPlace.DoesNotExist:
        raise Http404(_("No such key place within your units.")) from None


def places_of_unit(user, unit: OrgUnit):
    """The key places a unit answers for, itself and its sub-units (the list per unit)."""
    return places_visible_to(user).filter(responsible_unit__path__startswith=unit.path)


def _problem_q(user) -> Q:
    return (
        scope_q(user, "responsible_unit__path")
        | _team_q(user, "place__")
        | Q(inspection__inspector=user)
    )


def problems_visible_to(user):
    return (
        Problem.objects.filter(_problem_q(user))
        .select_related("place", "place__category", "responsible_unit", "item", "inspection")
        .order_by("deadline", "pk")
    )


def problem_for_user(user, pk: int) -> Problem:
    try:
        return problems_visible_to(user).get(pk=pk)
    except Problem.DoesNotExist:
        raise Http404(_("No such problem within your units.")) from None


def inspections_visible_to(user):
    return (
        Inspection.objects.filter(
            scope_q(user, "place__responsible_unit__path")
            | _team_q(user, "place__")
            | Q(inspector=user)
        )
        .select_related("place", "place__category", "team", "inspector")
        .annotate(problem_count=Count("problems"))
        .order_by("-done_at", "pk")
    )


def rectifications_visible_to(user):
    return (
        Rectification.objects.filter(problem__in=Problem.objects.filter(_problem_q(user)))
        .select_related("submitted_by", "reviewed_by")
        .order_by("problem_id", "submitted_at", "pk")
    )


def evidence_for_user(user, pk: int) -> Evidence:
    try:
        return Evidence.objects.filter(problem__in=Problem.objects.filter(_problem_q(user))).get(
            pk=pk
        )
    except Evidence.DoesNotExist:
        raise Http404(_("No such evidence within your units.")) from None


def categories():
    return PlaceCategory.objects.all()


# The report of a unit and a period (督导检查情况).


@dataclass
class CategoryLine:
    category: str
    problems: int
    verified: int
    open: int
    overdue: int


@dataclass
class OffenderLine:
    place: str
    unit: str
    problems: int


@dataclass
class Report:
    unit: OrgUnit
    start: date
    end: date
    inspections: int
    self_inspections: int
    problems: int
    verified: int
    overdue: int
    categories: list[CategoryLine]
    repeat_offenders: list[OffenderLine]
    cases: list[Accountability]
    closed_problems: list[Problem]


def _period(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def report(user, unit: OrgUnit, start: date, end: date, *, now=None) -> Report:
    """What inspections found under `unit` from `start` to `end` (both included): problems
    by category, how many were rectified (verified) and how many are overdue, places with
    more than one problem (repeat offenders) and the accountability cases of the period."""
    now = now or timezone.now()
    since, until = _period(start, end)
    inspections = inspections_visible_to(user).filter(
        place__responsible_unit__path__startswith=unit.path, done_at__gte=since, done_at__lt=until
    )
    problems = problems_visible_to(user).filter(
        responsible_unit__path__startswith=unit.path, found_at__gte=since, found_at__lt=until
    )
    overdue_q = Q(state__in=OPEN_STATES, deadline__lt=now) | Q(escalated_at__isnull=False)
    by_category = (
        problems.values("place__category__name", "place__category__order")
        .annotate(
            total=Count("pk"),
            verified=Count("pk", filter=Q(state=ProblemState.VERIFIED)),
            open=Count("pk", filter=~Q(state=ProblemState.VERIFIED)),
            overdue=Count("pk", filter=overdue_q),
        )
        .order_by("place__category__order", "place__category__name")
    )
    offenders = (
        problems.values("place__name", "place__responsible_unit__name")
        .annotate(total=Count("inspection", distinct=True))
        .filter(total__gt=1)
        .order_by("-total", "place__name")
    )
    cases = list(
        cases_visible_to(user).filter(
            unit__path__startswith=unit.path, created_at__gte=since, created_at__lt=until
        )
    )
    kinds = inspections.values("kind").annotate(n=Count("pk")).order_by()
    counted = {row["kind"]: row["n"] for row in kinds}
    lines = [
        CategoryLine(
            row["place__category__name"], row["total"], row["verified"], row["open"], row["overdue"]
        )
        for row in by_category
    ]
    return Report(
        unit=unit,
        start=start,
        end=end,
        inspections=sum(n for kind, n in counted.items() if kind != "self_inspection"),
        self_inspections=counted.get("self_inspection", 0),
        problems=sum(line.problems for line in lines),
        verified=sum(line.verified for line in lines),
        overdue=sum(line.overdue for line in lines),
        categories=lines,
        repeat_offenders=[
            OffenderLine(row["place__name"], row["place__responsible_unit__name"], row["total"])
            for row in offenders
        ],
        cases=cases,
        closed_problems=list(problems.filter(state=ProblemState.VERIFIED)),
    )
