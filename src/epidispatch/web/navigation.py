"""The main navigation: the platform's modules, in the order of the dispatch loop.

A module whose pages have not been built yet is listed without a link, so users see
where the platform is going without meeting a dead page.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Module:
    label: str
    url_name: str | None

    @property
    def url(self) -> str | None:
        return reverse(self.url_name) if self.url_name else None


MODULES = (
    Module(_("Home"), "home"),
    Module(_("Org units"), "unit_index"),
    Module(_("Residents"), "residents_home"),
    Module(_("Dispatch"), "dashboard"),
    Module(_("Field work"), "fieldwork:home"),
    Module(_("Certificates"), "certificates:checkpoint"),
    Module(_("Vaccine supply"), "supply:home"),
    Module(_("Vaccination sites"), "sites:load"),
    Module(_("Inspections"), None),
    Module(_("Screening"), None),
)
