from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupplyConfig(AppConfig):
    name = "epidispatch.supply"
    verbose_name = _("Vaccine supply")

    def ready(self):
        from django.db.models.signals import pre_delete

        from epidispatch.vaccination.models import Dose
        from epidispatch.vaccination.signals import (
            adverse_reaction_suspected,
            dose_pack_changed,
            dose_recorded,
            doses_imported,
        )

        from .services import (
            aefi_from_follow_up,
            dose_administer,
            dose_repack,
            dose_withdraw,
            doses_imported_administer,
        )

        dose_recorded.connect(dose_administer, dispatch_uid="supply.dose_administer")
        doses_imported.connect(
            doses_imported_administer, dispatch_uid="supply.doses_imported_administer"
        )
        adverse_reaction_suspected.connect(
            aefi_from_follow_up, dispatch_uid="supply.aefi_from_follow_up"
        )
        dose_pack_changed.connect(dose_repack, dispatch_uid="supply.dose_repack")
        pre_delete.connect(dose_withdraw, sender=Dose, dispatch_uid="supply.dose_withdraw")
