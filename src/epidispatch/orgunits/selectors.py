"""Reads of the org-unit tree, always scoped to the acting user."""

from collections import Counter
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from epidispatch.core.scoping import path_in_scope, paths_q, root_paths, scope_q

from .models import PATH_SEPARATOR, OrgUnit, Responsibility, UnitKind


def units_visible_to(user, *, kind: str | None = None):
    """Every unit inside the user's scope, in tree order."""
    units = OrgUnit.objects.filter(scope_q(user))
    if kind:
        units = units.filter(kind=kind)
    return units


def units_below(units, root: OrgUnit):
    """Those of `units` that lie strictly below `root` (the `--under` / `?under=` filter)."""
    return units.filter(path__startswith=root.path).exclude(pk=root.pk)


def unit_for_user(user, code: str) -> OrgUnit:
    """The unit with this code if the user may see it; 404 otherwise, so that a unit
    outside the scope cannot even be told apart from one that does not exist."""
    try:
        return units_visible_to(user).get(code=code)
    except OrgUnit.DoesNotExist:
        raise Http404(_("No org unit %(code)s within your units.") % {"code": code}) from None


def scope_roots(user) -> list[OrgUnit]:
    """The top units of the user's scope (what their home page starts from)."""
    return list(OrgUnit.objects.filter(path__in=root_paths(user)))


def unit_breadcrumb(user, unit: OrgUnit) -> list[OrgUnit]:
    """The unit's ancestors the user may see, top first, then the unit itself."""
    codes = unit.path.rstrip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    ancestors = OrgUnit.objects.filter(code__in=codes).order_by("depth")
    return [ancestor for ancestor in ancestors if path_in_scope(user, ancestor.path)]


def unit_leaf_paths(unit: OrgUnit) -> list[str]:
    """The paths whose residents are the unit's: its own subtree, or for a department
    (包抓) the grids assigned to it, which lie elsewhere in the tree."""
    if unit.kind == UnitKind.DEPARTMENT:
        return list(
            Responsibility.objects.filter(unit=unit)
            .order_by("grid__path")
            .values_list("grid__path", flat=True)
        )
    return [unit.path]


def under_unit_q(unit: OrgUnit, path_field: str = "path"):
    """A filter keeping rows whose `path_field` lies under the unit as `unit_leaf_paths`
    reads it: what every list, round and count of a unit filters by."""
    return paths_q(unit_leaf_paths(unit), path_field)


def unit_place(unit: OrgUnit) -> str:
    """Where a unit lies, as people say it: the names from the town down (平襄镇 北关社区
    北关社区第1网格). Unit names are not personal data, so no scope applies."""
    codes = unit.path.rstrip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    names = OrgUnit.objects.filter(code__in=codes, depth__gte=2).order_by("depth")
    return " ".join(names.values_list("name", flat=True))


def unit_children(user, unit: OrgUnit) -> list[OrgUnit]:
    """Direct sub-units of a unit the user may see; a department's are its assigned grids."""
    if not path_in_scope(user, unit.path):
        return []
    if unit.kind == UnitKind.DEPARTMENT:
        return list(
            OrgUnit.objects.filter(pk__in=Responsibility.objects.filter(unit=unit).values("grid"))
        )
    return list(OrgUnit.objects.filter(parent=unit).order_by("code"))


def child_code_under(unit: OrgUnit, path: str) -> str | None:
    """The code of the child of `unit` on the way down to `path` (None for `unit` itself).
    A path outside the unit is one of a department's assigned grids: its own child."""
    if not path.startswith(unit.path):
        return path.rstrip(PATH_SEPARATOR).rsplit(PATH_SEPARATOR, 1)[-1]
    rest = path[len(unit.path) :]
    return rest.split(PATH_SEPARATOR, 1)[0] or None


def fold_into_children(unit: OrgUnit, rows: Iterable[tuple[str, int]]) -> Counter:
    """Sum (path, count) rows from anywhere below `unit` into its direct children."""
    totals: Counter = Counter()
    for path, count in rows:
        child = child_code_under(unit, path)
        if child:
            totals[child] += count
    return totals


def subunit_kind_counts(unit: OrgUnit) -> dict[str, Counter]:
    """For each direct child of `unit`: how many units of each kind lie below it."""
    by_child: dict[str, Counter] = {}
    for path, kind in OrgUnit.objects.filter(path__startswith=unit.path).values_list(
        "path", "kind"
    ):
        child = child_code_under(unit, path)
        if child and path != f"{unit.path}{child}{PATH_SEPARATOR}":
            by_child.setdefault(child, Counter())[kind] += 1
    return by_child


class UnknownUnitCode(ValidationError):
    """A code that names no org unit."""

    def __init__(self, code: str):
        super().__init__(
            _("Unknown org-unit code: %(code)s.") % {"code": code}, code="unknown_unit"
        )
        self.unit_code = code


def unit_by_code(code: str) -> OrgUnit:
    """The unit with this code, or UnknownUnitCode. Not scoped: for commands and services."""
    try:
        return OrgUnit.objects.get(code=code.strip())
    except OrgUnit.DoesNotExist:
        raise UnknownUnitCode(code) from None
