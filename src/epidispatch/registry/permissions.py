"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accounts.models import Role
from epidispatch.core.scoping import holds_role_over
from epidispatch.orgunits.models import OrgUnit

from .models import Resident

#: Roles whose work needs a resident's ID number or phone in clear: the dispatcher, town
#: officials and grid workers who phone people, site staff who check an ID at the table.
UNMASK_ROLES = (
    Role.DISPATCHER,
    Role.TOWN_OFFICIAL,
    Role.GRID_WORKER,
    Role.SITE_STAFF,
    Role.CONTROL_OFFICER,
)


def unmasks(user, resident: Resident) -> bool:
    """Whether one of the user's roles that may unmask covers the resident's grid: the
    services check it, and the pages offer the button only when it holds."""
    return holds_role_over(user, UNMASK_ROLES, resident.grid.path)


#: Who keeps the households of a grid: its grid workers, the town, the dispatcher.
HOUSEHOLD_ROLES = (Role.GRID_WORKER, Role.TOWN_OFFICIAL, Role.DISPATCHER)


def records_households(user, grid: OrgUnit) -> bool:
    """Whether the user keeps the households of `grid` (pages offer the form only then)."""
    return holds_role_over(user, HOUSEHOLD_ROLES, grid.path)
