"""Who may do what in this app: one predicate per permission, and nothing else, so that
services, selectors, views and `web.permissions` check the same function."""

from epidispatch.accounts.models import Role, RoleAssignment
from epidispatch.core.scoping import holds_role_over
from epidispatch.orgunits.models import OrgUnit, UnitKind
from epidispatch.vaccination.models import Dose
from epidispatch.vaccination.permissions import records_doses_at

from .models import (
    AEFIReport,
)


def manages_stock_of(user, holder: OrgUnit) -> bool:
    """The supply officer (CDC) manages every store and site under them; a site's own staff
    manage the site's stock (receive a delivery, write off, count)."""
    if holder.kind == UnitKind.SITE and (
        RoleAssignment.objects.filter(user=user, role=Role.SITE_STAFF, unit=holder).exists()
    ):
        return True
    return holds_role_over(user, (Role.SUPPLY_OFFICER,), holder.path)


def investigates_aefi(user, report: AEFIReport) -> bool:
    """The county CDC (supply officer over the person's home) investigates and classifies."""
    return holds_role_over(user, (Role.SUPPLY_OFFICER,), report.resident.grid.path)


def reports_aefi(user, report: AEFIReport) -> bool:
    """The staff of the site that gave the dose report it, and the CDC."""
    if report.site_id and records_doses_at(user, report.site):
        return True
    return investigates_aefi(user, report)


def files_aefi(user, dose: Dose) -> bool:
    """A suspected reaction is filed directly by the staff of the site that gave the dose
    or by the CDC over the person's home (a grid worker's 60+ follow-up files it too, by
    its own rule in field work)."""
    if dose.site_id and records_doses_at(user, dose.site):
        return True
    return holds_role_over(user, (Role.SUPPLY_OFFICER,), dose.resident.grid.path)
