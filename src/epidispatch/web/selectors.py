"""Reads composed for the pages and the API, built only from the domain apps' scoped
selectors."""

from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from huey.contrib.djhuey import HUEY

from epidispatch.orgunits import selectors as units
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.registry.selectors import data_key_decrypts_stored_data, resident_counts_by_grid


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
