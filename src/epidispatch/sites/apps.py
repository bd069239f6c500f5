from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitesConfig(AppConfig):
    name = "epidispatch.sites"
    label = "vaccination_sites"
    verbose_name = _("Vaccination sites")

    def ready(self):
        from epidispatch.vaccination.signals import dose_recorded

        from .services import appointment_mark_vaccinated

        dose_recorded.connect(
            appointment_mark_vaccinated, dispatch_uid="sites.appointment_mark_vaccinated"
        )
