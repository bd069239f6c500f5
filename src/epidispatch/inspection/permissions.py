"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accountability.permissions import decides_on
from epidispatch.accounts.models import Role
from epidispatch.core.scoping import holds_role_over, role_paths
from epidispatch.orgunits.models import OrgUnit

from .models import (
    KeyPlace,
    Problem,
    Team,
)

#: The roles that act for a responsible unit (and for the units below it).
UNIT_ROLES = (Role.TOWN_OFFICIAL, Role.GRID_WORKER, Role.SITE_STAFF)


def acts_for_unit(user, unit: OrgUnit) -> bool:
    """Whether the user works for `unit` (or a unit above it) on the unit side."""
    return holds_role_over(user, UNIT_ROLES, unit.path)


def files_self_inspection(user, place: KeyPlace) -> bool:
    return acts_for_unit(user, place.responsible_unit)


def reviews(user, problem: Problem) -> bool:
    """The office over the unit, or a member of the team that found the problem."""
    if decides_on(user, problem.responsible_unit):
        return True
    team_id = problem.inspection.team_id
    return team_id is not None and Team.objects.filter(pk=team_id, members=user).exists()


def edits_checklists(user) -> bool:
    return bool(role_paths(user, (Role.DISPATCHER,)))
