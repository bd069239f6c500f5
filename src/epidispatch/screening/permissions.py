"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.core.scoping import holds_role_over, role_paths
from epidispatch.orgunits.models import OrgUnit

from .models import (
    ScreeningRound,
)
from .rules import COLLECTOR_ROLES, OFFICER_ROLES


def runs_rounds(user, unit: OrgUnit) -> bool:
    return holds_role_over(user, OFFICER_ROLES, unit.path)


def collects_for(user, screening_round: ScreeningRound) -> bool:
    """Collectors hold a collector role on the round's unit, above it or below it (a
    collection point or a grid inside the unit)."""
    path = screening_round.unit.path
    return any(
        path.startswith(root) or root.startswith(path) for root in role_paths(user, COLLECTOR_ROLES)
    )
