from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldworkConfig(AppConfig):
    name = "epidispatch.fieldwork"
    verbose_name = _("Field work")

    def ready(self):
        from epidispatch.vaccination.signals import dose_recorded

        from .services import follow_up_open_for_dose

        dose_recorded.connect(
            follow_up_open_for_dose, dispatch_uid="fieldwork.follow_up_open_for_dose"
        )
