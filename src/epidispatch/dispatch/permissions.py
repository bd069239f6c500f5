"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import holds_role_over, role_paths
from epidispatch.orgunits.models import OrgUnit, UnitKind


def dispatches(user, unit: OrgUnit) -> bool:
    """Whether the user is a dispatcher (防控办) whose jurisdiction holds `unit`."""
    return holds_role_over(user, (Role.DISPATCHER,), unit.path)


def freezes_figures(user) -> bool:
    """A cutoff freezes every unit at once, so taking one by hand is for a dispatcher
    whose jurisdiction holds every county."""
    paths = role_paths(user, (Role.DISPATCHER,))
    counties = OrgUnit.objects.filter(kind=UnitKind.COUNTY).values_list("path", flat=True)
    return bool(paths) and all(any(c.startswith(p) for p in paths) for c in counties)


#: Who reads the 日通报: the dispatchers and leaders of a jurisdiction.
BULLETIN_ROLES = (Role.DISPATCHER, Role.LEADER)


def reads_bulletins(user) -> bool:
    """Whether the user reads the 日通报: a dispatcher or leader (bound to a county or
    city). The bulletin pages check it, and every link to them shows only when it holds."""
    return bool(role_paths(user, BULLETIN_ROLES))
