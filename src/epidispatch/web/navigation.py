"""The main navigation: the platform's modules, in the order of the dispatch loop.

Each entry names the permission (web/permissions.py) its page checks, so adding a module
is one line and its link shows exactly to those its view lets in. A module whose pages
have not been built yet is listed without a link, so users see where the platform is
going without meeting a dead page.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .permissions import Permissions


@dataclass(frozen=True)
class Module:
    label: str
    url_name: str | None
    permission: str | None = None

    @property
    def url(self) -> str | None:
        return reverse(self.url_name) if self.url_name else None


MODULES = (
    Module(_("Home"), "home"),
    Module(_("Org units"), "unit_index"),
    Module(_("Residents"), "residents_home"),
    Module(_("Dispatch"), "dashboard"),
    Module(_("Field work"), "fieldwork:home"),
    Module(_("Audit log"), "audit_log", "audit_log"),
    Module(_("Key persons"), "control:home"),
    Module(_("Certificates"), "certificates:checkpoint"),
    Module(_("Vaccine supply"), "supply:home"),
    Module(_("Inspections"), "inspection:home"),
    Module(_("Meetings and action items"), "meetings:home", "meetings"),
    Module(_("Screening"), "screening:home"),
    Module(_("Vaccination sites"), "sites:load"),
)


def modules_for(may: Permissions) -> list[Module]:
    """The modules whose permission the user holds (modules without one are for all)."""
    return [module for module in MODULES if may.allows(module.permission)]
