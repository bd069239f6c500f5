"""Reads composed for the pages and the API, built only from the domain apps' scoped
selectors."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import DatabaseError, connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from huey.contrib.djhuey import HUEY

from epidispatch.accountability.models import CaseState
from epidispatch.accounts.models import Role, RoleAssignment
from epidispatch.dispatch.selectors import (
    candidates_visible_to,
    latest_places,
    latest_snapshot,
    targets_for,
)
from epidispatch.orgunits import selectors as units
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.registry.selectors import data_key_decrypts_stored_data, resident_counts_by_grid
from epidispatch.vaccination.selectors import clearance_list, doses_given_at, due_list


@dataclass
class ChildRow:
    unit: OrgUnit
    subunits: int
    grids: int
    residents: int


@dataclass
class UnitOverview:
    unit: OrgUnit
    breadcrumb: list[OrgUnit]
    residents: int
    grids: int
    children: list[ChildRow] = field(default_factory=list)


def unit_overview(user, code: str) -> UnitOverview:
    """A unit with its direct children and, for each, its sub-units, grids and residents.

    A fixed number of queries whatever the size of the subtree: the per-grid resident
    counts and the unit kinds below are read once and folded into the children in Python.
    """
    unit = units.unit_for_user(user, code)
    grid_counts = resident_counts_by_grid(user, unit)
    residents_by_child = units.fold_into_children(unit, grid_counts)
    kinds_by_child = units.subunit_kind_counts(unit)
    children = []
    for child in units.unit_children(user, unit):
        kinds = kinds_by_child.get(child.code, {})
        children.append(
            ChildRow(
                unit=child,
                subunits=sum(kinds.values()),
                grids=kinds.get(UnitKind.GRID, 0) + (child.kind == UnitKind.GRID),
                residents=residents_by_child.get(child.code, 0),
            )
        )
    return UnitOverview(
        unit=unit,
        breadcrumb=units.unit_breadcrumb(user, unit),
        residents=sum(count for _path, count in grid_counts),
        grids=sum(row.grids for row in children) + (unit.kind == UnitKind.GRID),
        children=children,
    )


def health_report() -> dict[str, str]:
    """What `/health/` answers: "ok" or what is wrong, for the database, the task queue and
    the data key (that it decrypts the stored data)."""
    report = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = "ok"
    except DatabaseError as error:
        report["database"] = f"error: {error.__class__.__name__}"
    try:
        HUEY.pending_count()
        report["queue"] = "ok"
    except Exception as error:  # any broker failure (Redis down, queue file unreadable)
        report["queue"] = f"error: {error.__class__.__name__}"
    if report["database"] != "ok":
        report["data_key"] = "unknown"
    else:
        try:
            report["data_key"] = "ok" if data_key_decrypts_stored_data() else "error: mismatch"
        except DatabaseError as error:
            report["data_key"] = f"error: {error.__class__.__name__}"
    return report


@dataclass
class Task:
    """One card of a user's start page: what their role does today, with its figures."""

    title: str
    figures: list[tuple[str, str]]
    links: list[tuple[str, str]]


def start_tasks(user) -> list[Task]:
    """The start page of each role held (one card per role and unit): site staff record
    doses and see today's; grid workers open today's round; towns and departments see
    their rank and what is left to clear; dispatchers the cutoff, tomorrow's targets and
    the candidates waiting. Other roles start from their units alone."""
    tasks: list[Task] = []
    for assignment in (
        RoleAssignment.objects.filter(user=user).select_related("unit").order_by("unit__path")
    ):
        builder = _TASKS.get(assignment.role)
        if builder is not None:
            tasks.append(builder(user, assignment.unit))
    return tasks


def _site_task(user, site: OrgUnit) -> Task:
    today = doses_given_at(user, site, timezone.localdate()).count()
    return Task(
        site.name,
        [(_("Doses given here today"), str(today))],
        [
            (_("Record a dose"), reverse("dose_new", args=[site.code])),
            (_("Doses given here today"), reverse("unit_detail", args=[site.code])),
        ],
    )


def _grid_task(user, grid: OrgUnit) -> Task:
    return Task(
        grid.name,
        [
            (_("Clearance list"), str(clearance_list(user, grid).count())),
            (_("Overdue"), str(due_list(user, grid, overdue_only=True).count())),
        ],
        [(_("Today's round"), reverse("fieldwork:grid", args=[grid.code]))],
    )


def _town_task(user, unit: OrgUnit) -> Task:
    figures = [(_("Remaining to clear"), str(clearance_list(user, unit).count()))]
    for place in latest_places(user, unit):
        figures.append(
            (
                str(place.get_measure_display()),
                _("No. %(place)s of %(of)s") % {"place": place.place, "of": place.of},
            )
        )
    return Task(
        unit.name,
        figures,
        [
            (_("Clearance list"), reverse("clearance", args=[unit.code])),
            (_("Rankings"), reverse("rankings")),
        ],
    )


def _dispatcher_task(user, unit: OrgUnit) -> Task:
    latest = latest_snapshot()
    today = timezone.localdate()
    cutoff = (
        _("Taken at %(time)s") % {"time": f"{timezone.localtime(latest.taken_at):%H:%M}"}
        if latest and latest.day == today
        else _("Not yet taken today")
    )
    missing = sum(1 for row in targets_for(user, today + timedelta(days=1)) if not row["target"])
    waiting = candidates_visible_to(user).filter(state=CaseState.PROPOSED).count()
    return Task(
        unit.name,
        [
            (_("Today's cutoff"), cutoff),
            (_("Units without tomorrow's target"), str(missing)),
            (_("Summons candidates waiting"), str(waiting)),
        ],
        [
            (_("Rankings"), reverse("rankings")),
            (_("Daily targets"), reverse("targets")),
            (_("Dashboard"), reverse("dashboard")),
        ],
    )


_TASKS = {
    Role.SITE_STAFF: _site_task,
    Role.GRID_WORKER: _grid_task,
    Role.TOWN_OFFICIAL: _town_task,
    Role.DISPATCHER: _dispatcher_task,
}
