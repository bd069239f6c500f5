"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accounts.models import Role, RoleAssignment
from epidispatch.core.scoping import holds_role_over
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident

from .models import Dose


def records_doses_at(user, site: OrgUnit) -> bool:
    """Recording doses is the work of the site's own staff; others who can see the site
    (a leader, the town) may not."""
    return RoleAssignment.objects.filter(user=user, role=Role.SITE_STAFF, unit=site).exists()


def accepts_outside_doses(user, resident: Resident) -> bool:
    """Proof of a dose given in another place is accepted by the county office or the
    official of the resident's town, not by the worker who brought it in."""
    return holds_role_over(user, (Role.DISPATCHER, Role.TOWN_OFFICIAL), resident.grid.path)


def corrects_doses(user, dose: Dose) -> bool:
    """A dose is corrected by the staff of the site that gave it or by a dispatcher whose
    jurisdiction holds the resident."""
    if dose.site_id and records_doses_at(user, dose.site):
        return True
    return holds_role_over(user, (Role.DISPATCHER,), dose.resident.grid.path)
