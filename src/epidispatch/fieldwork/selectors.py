"""Reads of field work, each scoped to the acting user first (a grid worker sees their
grid(s) only). Masked ID numbers and phones only."""

from django.db.models import OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404

from epidispatch.core.scoping import scope_q
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.orgunits.selectors import under_unit_q, units_visible_to
from epidispatch.registry.models import Resident
from epidispatch.vaccination.selectors import clearance_counts_by_grid, clearance_list, due_list

from .models import CheckpointRecord, CheckpointState, FollowUp, Visit


def field_grids(user):
    """The grids (and industry grids) a user may work in, in code order."""
    return (
        units_visible_to(user)
        .filter(kind__in=(UnitKind.GRID, UnitKind.INDUSTRY_GRID))
        .order_by("code")
    )


def field_grids_by_village(user) -> list[tuple[OrgUnit, list[tuple[OrgUnit, int]]]]:
    """The user's grids grouped under their village (industry grids under their county),
    each with how many people its 清零 list still holds: where the round starts."""
    grids = list(field_grids(user).select_related("parent"))
    pending = clearance_counts_by_grid(user, [grid.pk for grid in grids])
    groups: dict[int, tuple[OrgUnit, list[tuple[OrgUnit, int]]]] = {}
    for grid in grids:
        groups.setdefault(grid.parent_id, (grid.parent, []))[1].append(
            (grid, pending.get(grid.pk, 0))
        )
    return list(groups.values())


def _latest_visit(resident_ref: str):
    return Visit.objects.filter(resident_id=OuterRef(resident_ref)).order_by("-id")


def to_visit_clearance(user, unit: OrgUnit):
    """The 清零 list under `unit` (the vaccination app's rule), each resident with their
    latest visit's outcome and time, for the worker's round."""
    latest = _latest_visit("pk")
    return clearance_list(user, unit).annotate(
        last_outcome=Subquery(latest.values("outcome")[:1]),
        last_visited_at=Subquery(latest.values("visited_at")[:1]),
    )


def to_visit_due(user, unit: OrgUnit):
    """People under `unit` whose next dose of the primary series is due, the overdue first
    (their latest day is earliest), with their latest visit."""
    latest = _latest_visit("resident_id")
    return due_list(user, unit).annotate(
        last_outcome=Subquery(latest.values("outcome")[:1]),
        last_visited_at=Subquery(latest.values("visited_at")[:1]),
    )


def checkpoint_tasks(user, unit: OrgUnit):
    """Open checkpoint records of residents living under `unit`: people seen unvaccinated
    at a checkpoint, waiting for a visit."""
    return (
        CheckpointRecord.objects.filter(
            scope_q(user, "resident__grid__path"),
            under_unit_q(unit, "resident__grid__path"),
            state=CheckpointState.OPEN,
        )
        .select_related("resident__grid")
        .order_by("-seen_at", "-id")
    )


def follow_ups_open(user, unit: OrgUnit):
    """60+ follow-ups not yet recorded for grids under `unit`, the most urgent first."""
    return (
        FollowUp.objects.filter(
            scope_q(user, "grid__path"),
            under_unit_q(unit, "grid__path"),
            done_at__isnull=True,
        )
        .select_related("resident", "dose__product")
        .order_by("due_by", "id")
    )


def follow_up_for_user(user, pk: int) -> FollowUp:
    return get_object_or_404(
        FollowUp.objects.filter(scope_q(user, "grid__path")).select_related(
            "resident", "grid", "dose__product"
        ),
        pk=pk,
    )


def visits_visible_to(user):
    return Visit.objects.filter(scope_q(user, "grid__path"))


def visits_of(user, resident: Resident):
    """A resident's visits, newest first (the resident must be in scope: see
    `resident_for_user`; the filter here keeps that true on its own)."""
    return (
        visits_visible_to(user)
        .filter(resident_id=resident.pk)
        .select_related("worker")
        .order_by("-id")
    )


def latest_visit_id(user, resident: Resident) -> int:
    """The id of the resident's latest visit (0 when none): the token a visit form carries."""
    return (
        visits_visible_to(user)
        .filter(resident_id=resident.pk)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def visit_for_user(user, pk: int) -> Visit:
    return get_object_or_404(visits_visible_to(user), pk=pk)


def checkpoint_records_visible_to(user):
    """Checkpoint records the user registered, and those registered for units in the
    user's scope (the county office sees its county's unmatched people)."""
    return (
        CheckpointRecord.objects.filter(Q(recorded_by=user) | scope_q(user, "unit__path"))
        .select_related("unit")
        .order_by("-seen_at", "-id")
    )
