from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "epidispatch.screening"
    verbose_name = _("Nucleic-acid screening")

    def ready(self):
        from epidispatch.audit.models import track_by_hand
        from epidispatch.control.signals import contact_candidates_wanted

        from . import models
        from .contacts import pooled_tube_contacts

        track_by_hand(models.Tube)

        contact_candidates_wanted.connect(pooled_tube_contacts, dispatch_uid="screening-pools")
