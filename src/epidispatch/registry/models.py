"""The resident registry (常住人口): who lives in which grid.

ID number and phone are never stored in clear (see `epidispatch.core.protection`): each
has an encrypted copy, a keyed digest for exact-match lookup and a masked form for display.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from epidispatch.orgunits.models import OrgUnit


class ResidentStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    AWAY = "away", _("Away, with proof")
    CONTRAINDICATED = "contraindicated", _("Contraindicated")
    REFUSED = "refused", _("Refused")
    DECEASED = "deceased", _("Deceased")
    MOVED_OUT = "moved_out", _("Moved out")


#: Statuses that take a resident off the 清零 list: vaccinated elsewhere (away, with proof),
#: medically exempt, or no longer living here.
EXCUSED_STATUSES = (
    ResidentStatus.AWAY,
    ResidentStatus.CONTRAINDICATED,
    ResidentStatus.DECEASED,
    ResidentStatus.MOVED_OUT,
)


class UnvaccinatedReason(models.TextChoices):
    """未接种原因, coded as the provincial systems code them; each has its own remedy."""

    UNWILLING = "1", _("Unwilling (无接种意愿)")
    CONTRAINDICATED = "2", _("Contraindicated (接种禁忌)")
    NO_RESOURCE = "3", _("Willing, no vaccine or slot (有意愿无资源)")
    REGISTERED = "4", _("Registered, not yet vaccinated (已报名未接种)")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Resident(models.Model):
    name = models.CharField(_("name"), max_length=60)
    id_number_digest = models.CharField(_("ID number lookup key"), max_length=64, unique=True)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"))
    id_number_masked = models.CharField(_("ID number"), max_length=18)
    phone_digest = models.CharField(_("phone lookup key"), max_length=64, blank=True, db_index=True)
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    grid = models.ForeignKey(
        OrgUnit,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="residents",
        limit_choices_to={"kind": "grid"},
    )
    county_code = models.CharField(_("county code"), max_length=6, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.PRESENT
    )
    unvaccinated_reason = models.CharField(
        _("reason not vaccinated"), max_length=1, choices=UnvaccinatedReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.grid.path}


class ImportKind(models.TextChoices):
    RESIDENTS = "residents", _("Residents")
    DOSES = "doses", _("Doses")


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportBatch(models.Model):
    """The import ledger: one row per file imported, from the command line or the web.

    The row is written before the import starts and its counts when it ends; the data
    itself lands in one transaction, so a batch that never reached "done" stored nothing.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=ImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scope_path = models.CharField(
        _("scope"), max_length=255, blank=True, help_text=_("who may see this batch")
    )
    state = models.CharField(
        _("state"), max_length=8, choices=ImportState.choices, default=ImportState.QUEUED
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read so far"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    stored = models.PositiveIntegerField(_("stored"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    extra_columns = models.JSONField(_("columns not imported"), default=list, blank=True)
    error_report = models.CharField(_("error report"), max_length=255, blank=True)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"
