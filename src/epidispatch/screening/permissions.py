"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.core.scoping import holds_role_over, role_paths
from epidispatch.orgunits.models import OrgUnit

from .models import ScreeningRound, TestingGroup
from .rules import COLLECTOR_ROLES, GROUP_KEEPER_ROLES, OFFICER_ROLES


def runs_rounds(user, unit: OrgUnit) -> bool:
    return holds_role_over(user, OFFICER_ROLES, unit.path)


def collects_for(user, screening_round: ScreeningRound) -> bool:
    """Collectors hold a collector role on the round's unit, above it or below it (a
    collection point or a grid inside the unit)."""
    path = screening_round.unit.path
    return any(
        path.startswith(root) or root.startswith(path) for root in role_paths(user, COLLECTOR_ROLES)
    )


def keeps_group(user, group: TestingGroup) -> bool:
    """Who keeps a group's member list: the officers, the town and the workers of the
    group's unit (an industry grid's worker keeps its employees)."""
    return holds_role_over(user, GROUP_KEEPER_ROLES, group.unit.path)
