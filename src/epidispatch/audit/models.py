"""The audit log (PIPL): every view of personal data in clear is written here."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    UNMASK_RESIDENT = "unmask_resident", _("Viewed a resident's ID number and phone unmasked")
    CORRECT_DOSE = "correct_dose", _("Corrected a dose")
    DELETE_DOSE = "delete_dose", _("Deleted a dose")
    IMPORT_FILE = "import_file", _("Imported a file")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    subject = models.CharField(_("subject"), max_length=120, help_text=_("masked, never in clear"))
    unit_path = models.CharField(_("unit of the subject"), max_length=255, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()} {self.subject}"
