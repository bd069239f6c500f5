"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import holds_role_over
from epidispatch.orgunits.models import OrgUnit


def decides_on(user, unit: OrgUnit) -> bool:
    """Whether the user is the office (防控办 dispatcher) over `unit`: who decides."""
    return holds_role_over(user, (Role.DISPATCHER,), unit.path)
