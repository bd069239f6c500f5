"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accounts.models import Role, RoleAssignment
from epidispatch.core.scoping import holds_role_over
from epidispatch.orgunits.models import OrgUnit
from epidispatch.orgunits.selectors import unit_leaf_paths

#: Roles that go door to door (or phone people) and record what they found.
VISIT_ROLES = (Role.GRID_WORKER, Role.TOWN_OFFICIAL)


#: Roles that staff 二码联查 checkpoints: grid workers (industry grids cover stations and
#: markets), town officials, inspectors at key places, the county office and control group.
CHECKPOINT_ROLES = (
    Role.GRID_WORKER,
    Role.TOWN_OFFICIAL,
    Role.INSPECTOR,
    Role.DISPATCHER,
    Role.CONTROL_OFFICER,
)


def records_visits_for(user, grid: OrgUnit) -> bool:
    """Recording a visit is the work of the grid's workers and of the town above it;
    others who may see the grid (a leader, the supply officer) may not."""
    return holds_role_over(user, VISIT_ROLES, grid.path)


def records_visits_under(user, unit: OrgUnit) -> bool:
    """Whether the user records visits in every grid of `unit`'s round (a department's:
    its assigned grids), so the round offers the visit form only to those it lets in."""
    paths = unit_leaf_paths(unit)
    return bool(paths) and all(holds_role_over(user, VISIT_ROLES, path) for path in paths)


def checkpoint_units(user):
    """The units a user may register checkpoint records for (their own role units)."""
    return OrgUnit.objects.filter(
        pk__in=RoleAssignment.objects.filter(user=user, role__in=CHECKPOINT_ROLES).values("unit")
    ).order_by("path")


def registers_checkpoints(user) -> bool:
    """Whether the user works a checkpoint (二码联查): the checkpoint page checks it, and
    links to it show only when it holds."""
    return checkpoint_units(user).exists()
