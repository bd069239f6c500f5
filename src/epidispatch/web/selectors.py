"""Reads composed for the pages and the API, built only from the domain apps' scoped
selectors."""

from dataclasses import dataclass, field

from epidispatch.orgunits import selectors as units
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.registry.selectors import resident_counts_by_grid


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
