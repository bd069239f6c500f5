"""Vaccines, their schedules (as data, versioned by effective date) and doses given.

A Dose carries a few derived fields (its booster number, whether it completes the series,
the latest day for the next dose) and each vaccinated resident has a VaccinationStatus
(DESIGN.md's ResidentStatus; renamed because `ResidentStatus` already names the registry's
present/away/... status). Both are recomputed by `rules.py` for the residents a change
touches, never for everyone.
"""

import zlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from epidispatch.core.feeds import CurrentTxid
from epidispatch.imports.models import ImportBatch
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident


class Platform(models.TextChoices):
    INACTIVATED = "inactivated", _("Inactivated (灭活疫苗)")
    ADENOVIRUS_VECTOR = "adenovirus_vector", _("Adenovirus vector (腺病毒载体疫苗)")
    RECOMBINANT_PROTEIN = "recombinant_protein", _("Recombinant protein (重组蛋白疫苗)")


class VaccineProduct(models.Model):
    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    manufacturer = models.CharField(
        _("manufacturer"), max_length=60, unique=True, help_text=_("full registered name")
    )
    manufacturer_code = models.CharField(_("manufacturer code"), max_length=20, blank=True)
    short_names = models.JSONField(
        _("short names"), default=list, blank=True, help_text=_("other spellings in files")
    )
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    cvx_code = models.CharField(_("CVX code"), max_length=4, blank=True)
    gtins = models.JSONField(_("GS1 GTINs"), default=list, blank=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("vaccine product")
        verbose_name_plural = _("vaccine products")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Schedule(models.Model):
    """The primary series of a product, as in force from `effective_from`."""

    product = models.ForeignKey(
        VaccineProduct,
        verbose_name=_("product"),
        on_delete=models.CASCADE,
        related_name="schedules",
    )
    effective_from = models.DateField(_("in force from"))
    series_doses = models.PositiveSmallIntegerField(_("doses in the primary series"))
    source = models.CharField(_("source"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["product", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "effective_from"], name="one_schedule_per_product_and_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.effective_from})"


class ScheduleStep(models.Model):
    """Dose N of a series: how soon after the previous dose, and by when after the first."""

    schedule = models.ForeignKey(
        Schedule, verbose_name=_("schedule"), on_delete=models.CASCADE, related_name="steps"
    )
    dose_number = models.PositiveSmallIntegerField(_("dose number"))
    min_days_after_previous = models.PositiveSmallIntegerField(_("at least days after previous"))
    latest_days_after_first = models.PositiveSmallIntegerField(
        _("at the latest days after the first"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("schedule step")
        verbose_name_plural = _("schedule steps")
        ordering = ["schedule", "dose_number"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "dose_number"], name="one_step_per_dose"),
            models.CheckConstraint(condition=models.Q(dose_number__gte=2), name="step_after_first"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule} #{self.dose_number}"


class BoosterRule(models.Model):
    """Who may have booster N, and how long after the previous dose (加强免疫)."""

    booster_number = models.PositiveSmallIntegerField(_("booster number"))
    effective_from = models.DateField(_("in force from"))
    min_age_years = models.PositiveSmallIntegerField(_("minimum age"))
    min_days_after_previous = models.PositiveSmallIntegerField(_("at least days after previous"))
    source = models.CharField(_("source"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("booster rule")
        verbose_name_plural = _("booster rules")
        ordering = ["booster_number", "effective_from"]

    def __str__(self) -> str:
        return f"#{self.booster_number} {self.min_age_years}+ ({self.effective_from})"


class DoseSource(models.TextChoices):
    SITE = "site", _("Recorded at a site")
    IMPORT = "import", _("Imported file")
    HL7 = "hl7", _("HL7 / FHIR message")
    OUTSIDE = "outside", _("Given elsewhere, proof accepted")


class Dose(models.Model):
    """One dose given (接种记录). (resident, dose number) is the natural key, so a file
    imported twice, or a dose both imported and entered at a site, is counted once."""

    # No index of its own: dose_natural_key (resident, dose_number) serves lookups by
    # resident, and a second index would slow every import down.
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        related_name="doses",
        db_index=False,
    )
    dose_number = models.PositiveSmallIntegerField(_("dose number"))
    # No index on product (no read filters doses by product alone; a lot's doses are found
    # through supply's lot index), batch (a BRIN index on PostgreSQL, migration 0006: a
    # batch's doses lie together) or recorded_by (indexed where set, i.e. not for imported
    # doses): each index costs every imported dose an insert (bench/RESULTS.md).
    product = models.ForeignKey(
        VaccineProduct,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    given_on = models.DateField(_("given on"))
    given_at = models.DateTimeField(_("given at"), null=True, blank=True)
    lot_number = models.CharField(_("lot number"), max_length=40, blank=True)
    trace_code = models.CharField(_("trace code"), max_length=40, blank=True)
    site = models.ForeignKey(
        OrgUnit,
        verbose_name=_("site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    site_name = models.CharField(_("site as written"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=DoseSource.choices)
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("import batch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="doses",
        db_index=False,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    county_code = models.CharField(_("county code"), max_length=6)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Derived by rules.py from the resident's doses:
    booster_number = models.PositiveSmallIntegerField(_("booster number"), default=0)
    completes_series = models.BooleanField(_("completes the series"), default=False)
    sequential = models.BooleanField(_("sequential booster"), default=False)
    next_due_by = models.DateField(_("next dose due by"), null=True, blank=True)
    # The transaction that wrote the dose last (core.feeds): the dose change feed's order.
    # A column default, so the import's COPY fills it at no other cost.
    txid = models.BigIntegerField(
        _("writing transaction"), null=True, blank=True, editable=False, db_default=CurrentTxid()
    )
    # Set by a correction (更正), which also moves txid: the feed gives the dose again.
    corrected_at = models.DateTimeField(_("corrected at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("dose")
        verbose_name_plural = _("doses")
        constraints = [
            models.UniqueConstraint(fields=["resident", "dose_number"], name="dose_natural_key")
        ]
        indexes = [
            models.Index(
                fields=["recorded_by"],
                name="dose_recorded_by",
                condition=models.Q(recorded_by__isnull=False),
            ),
            models.Index(fields=["txid", "id"], name="dose_feed_order"),
        ]

    def __str__(self) -> str:
        return f"{self.resident} #{self.dose_number} {self.given_on}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.resident.grid.path}

    @property
    def version(self) -> str:
        """What a correction form saw of the dose: the fields a correction changes (the lot
        number and trace code by their checksum). A form sent with another version was
        filled in before someone else changed the dose."""
        pack = zlib.crc32(f"{self.lot_number}\x1f{self.trace_code}".encode())
        return f"{self.product_id}:{self.given_on:%Y%m%d}:{pack:08x}"


class DoseDeletion(models.Model):
    """What is left of a dose deleted in error (删除): the dose change feed gives it once,
    as `deleted`, in the order of the deleting transaction (core.feeds). Its `dose_id` is
    the feed's id: a dose id is never used again."""

    dose_id = models.BigIntegerField(_("dose id"), unique=True)
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="+"
    )
    dose_number = models.PositiveSmallIntegerField(_("dose number"))
    at = models.DateTimeField(_("deleted at"), auto_now_add=True)
    txid = models.BigIntegerField(
        _("writing transaction"), null=True, blank=True, editable=False, db_default=CurrentTxid()
    )

    class Meta:
        verbose_name = _("deleted dose")
        verbose_name_plural = _("deleted doses")
        indexes = [models.Index(fields=["txid", "dose_id"], name="dose_deletion_feed_order")]

    def __str__(self) -> str:
        return f"#{self.dose_id} ({self.dose_number})"


class VaccinationStatus(models.Model):
    """Where a vaccinated resident stands; residents with no dose have no row."""

    resident = models.OneToOneField(
        Resident,
        verbose_name=_("resident"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="vaccination",
    )
    county_code = models.CharField(_("county code"), max_length=6)
    doses = models.PositiveSmallIntegerField(_("doses"))
    series_product = models.ForeignKey(
        VaccineProduct,
        verbose_name=_("series product"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # six products: no read filters by it; each import paid for it
    )
    first_dose_on = models.DateField(_("first dose on"))
    last_dose_on = models.DateField(_("last dose on"))
    series_complete_on = models.DateField(_("series complete on"), null=True, blank=True)
    boosters = models.PositiveSmallIntegerField(_("boosters"), default=0)
    booster_on = models.DateField(_("first booster on"), null=True, blank=True)
    sequential_booster = models.BooleanField(_("sequential booster"), default=False)
    next_dose_number = models.PositiveSmallIntegerField(_("next dose"), null=True, blank=True)
    next_due_from = models.DateField(_("next dose from"), null=True, blank=True)
    next_due_by = models.DateField(_("next dose due by"), null=True, blank=True)

    class Meta:
        verbose_name = _("vaccination status")
        verbose_name_plural = _("vaccination statuses")

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.doses}"
