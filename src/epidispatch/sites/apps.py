from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitesConfig(AppConfig):
    name = "epidispatch.sites"
    label = "vaccination_sites"
    verbose_name = _("Vaccination sites")

    def ready(self):
        from auditlog.registry import auditlog

        from epidispatch.vaccination.signals import dose_recorded

        from . import models
        from .services import appointment_mark_vaccinated

        dose_recorded.connect(
            appointment_mark_vaccinated, dispatch_uid="sites.appointment_mark_vaccinated"
        )
        # The sites' writes go on the audit trail like those listed in settings
        # (AUDITLOG_INCLUDE_TRACKING_MODELS); registered here so the app carries its own list.
        # Slots (a counter) and booking codes (a digest) are not worth a trail entry.
        for model in (
            models.Session,
            models.Appointment,
            models.StaffMember,
            models.Qualification,
            models.RosterEntry,
            models.TrainingSession,
            models.TrainingAttendance,
            models.Equipment,
            models.EquipmentCheck,
        ):
            if not auditlog.contains(model):
                auditlog.register(model)
