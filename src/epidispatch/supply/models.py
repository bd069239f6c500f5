"""Vaccine supply (疫苗调配 · 流向追溯): what the office holds, in lots and packs, the
append-only stock ledger of every site and store, and the adverse reactions (AEFI) found
after doses, by lot.

Stock on hand is the ledger's sum. `StockBalance` keeps that sum per holder and lot so a
move can lock one row (SELECT … FOR UPDATE) and refuse to go below zero; the CHECK
constraint is the last guard, and a test recounts the ledger against it. A move is never
edited or deleted (a PostgreSQL trigger refuses it too), only reversed by another. Every
move posted one at a time is on the audit trail (django-auditlog, filed under its holder).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident
from epidispatch.vaccination.models import Dose, VaccineProduct


class ItemKind(models.TextChoices):
    VACCINE = "vaccine", _("Vaccine")
    TEST_KIT = "test_kit", _("Test kits")
    SAMPLING_TUBE = "sampling_tube", _("Sampling tubes")
    MASK = "mask", _("Masks")
    PROTECTIVE_GEAR = "protective_gear", _("Protective gear")


class SupplyItem(models.Model):
    """Something the office keeps stock of: a vaccine product's packs or an emergency supply
    (物资储备). Stock of a vaccine is counted in doses."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ItemKind.choices)
    unit_label = models.CharField(
        _("counted in"), max_length=8, default="剂", help_text=_("剂, 盒, 个 …")
    )
    product = models.OneToOneField(
        VaccineProduct,
        verbose_name=_("vaccine product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supply_item",
    )
    doses_per_package = models.PositiveSmallIntegerField(_("doses per package"), default=1)
    trace_prefix = models.CharField(
        _("trace code product identifier"),
        max_length=7,
        blank=True,
        help_text=_("the first 7 digits of the packs' 20-digit trace codes"),
    )

    class Meta:
        verbose_name = _("supply item")
        verbose_name_plural = _("supply items")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="vaccine", product__isnull=False)
                | (~models.Q(kind="vaccine") & models.Q(product__isnull=True)),
                name="supply_item_vaccine_iff_product",
            ),
            models.CheckConstraint(
                condition=models.Q(doses_per_package__gte=1), name="supply_item_package_holds"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Lot(models.Model):
    """A production lot (批号) of an item, with its expiry."""

    item = models.ForeignKey(
        SupplyItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="lots"
    )
    number = models.CharField(_("lot number"), max_length=40)
    expires_on = models.DateField(_("expires on"))
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["expires_on", "number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="lot_unique")]
        indexes = [models.Index(fields=["number"], name="lot_number")]

    def __str__(self) -> str:
        return f"{self.item} {self.number}"

    def expired_on(self, day) -> bool:
        return self.expires_on < day


class Package(models.Model):
    """One pack (最小销售包装) of a lot and the code printed on it."""

    code = models.CharField(_("trace code"), max_length=40, unique=True)
    lot = models.ForeignKey(
        Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="packages"
    )
    doses = models.PositiveSmallIntegerField(_("doses in the pack"))

    class Meta:
        verbose_name = _("package")
        verbose_name_plural = _("packages")

    def __str__(self) -> str:
        return self.code


class MoveKind(models.TextChoices):
    RECEIVE = "receive", _("Received (平台入库)")
    ALLOCATE = "allocate", _("Allocated from the county (分配)")
    TRANSFER = "transfer", _("Transferred between sites (平级调拨)")
    ADMINISTER = "administer", _("Administered (接种出库)")
    WRITE_OFF = "write_off", _("Written off: wasted or damaged (报损)")
    EXPIRE = "expire", _("Expired (过期)")
    STOCKTAKE = "stocktake", _("Stocktake difference (盘点)")
    REVERSAL = "reversal", pgettext_lazy("stock move", "Reversal (冲正)")


class StockMove(models.Model):
    """One line of the ledger: `quantity` (signed) of a lot in or out of a holder's stock.

    Moves posted together (the two legs of a transfer) share a `group`, and reversing one
    reverses the group. An administered move names its dose by id only (no foreign key):
    the ledger outlives a dose deleted in error, whose withdrawal is posted as a reversal.
    """

    holder = models.ForeignKey(
        OrgUnit, verbose_name=_("held at"), on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField(_("county code"), max_length=6)
    kind = models.CharField(_("kind"), max_length=12, choices=MoveKind.choices)
    quantity = models.IntegerField(_("quantity"))
    counterpart = models.ForeignKey(
        OrgUnit,
        verbose_name=_("from or to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    dose_id = models.BigIntegerField(_("dose"), null=True, blank=True)
    group = models.UUIDField(_("posted together"), default=uuid.uuid4)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    receipt = models.CharField(
        _("delivery note"),
        max_length=40,
        blank=True,
        default="",
        db_default="",  # moves written by COPY or raw SQL (bench/trace.py) name no note
        help_text=_("the number of the delivery note (入库单号) a receipt was posted from"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(quantity=0), name="stock_move_not_zero"),
            # A dose leaves stock once; a correction of its lot or trace code reverses that
            # move and posts its own, noted (supply.services.CORRECTED).
            models.UniqueConstraint(
                fields=["dose_id"],
                condition=models.Q(kind="administer", note=""),
                name="one_administered_move_per_dose",
            ),
            models.UniqueConstraint(
                fields=["holder", "lot", "receipt"],
                condition=models.Q(kind="receive") & ~models.Q(receipt=""),
                name="one_receipt_line_per_holder_lot",
            ),
        ]
        indexes = [
            models.Index(fields=["lot", "holder"], name="stock_move_lot_holder"),
            models.Index(fields=["holder", "-at"], name="stock_move_holder_latest"),
            models.Index(fields=["group"], name="stock_move_group"),
        ]

    def __str__(self) -> str:
        return f"{self.holder} {self.lot} {self.quantity:+d} ({self.get_kind_display()})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("A stock move is never changed; post a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("A stock move is never deleted; post a reversal instead.")

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this move under (django-auditlog's hook): the
        store or site whose stock it changes."""
        if StockMove.holder.is_cached(self):
            return {"unit_path": self.holder.path}
        return {"unit_path": OrgUnit.objects.values_list("path", flat=True).get(pk=self.holder_id)}


class StockBalance(models.Model):
    """The ledger's sum for one holder and lot: the row a move locks."""

    holder = models.ForeignKey(
        OrgUnit, verbose_name=_("held at"), on_delete=models.PROTECT, related_name="+"
    )
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField(_("county code"), max_length=6)
    on_hand = models.IntegerField(_("on hand"), default=0)

    class Meta:
        verbose_name = _("stock on hand")
        verbose_name_plural = _("stock on hand")
        constraints = [
            models.UniqueConstraint(fields=["holder", "lot"], name="one_balance_per_holder_lot"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="stock_never_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.holder} {self.lot}: {self.on_hand}"


class AEFISeverity(models.TextChoices):
    NON_SEVERE = "non_severe", _("Not severe")
    SEVERE = "severe", _("Severe")
    DEATH = "death", _("Death")


class AEFICase(models.TextChoices):
    """The kinds of case the reporting deadlines are set for."""

    NON_SEVERE = "non_severe", _("Not severe")
    SEVERE = "severe", _("Severe")
    DEATH = "death", _("Death")
    CLUSTERED = "clustered", _("Clustered (群体性)")


class AEFIClassification(models.TextChoices):
    """The causality classification of the 全国疑似预防接种异常反应监测方案."""

    COMMON_REACTION = "common_reaction", _("Adverse reaction: common (不良反应·一般反应)")
    RARE_REACTION = "rare_reaction", _("Adverse reaction: rare (不良反应·异常反应)")
    VACCINE_QUALITY = "vaccine_quality", _("Vaccine quality accident (疫苗质量事故)")
    PROGRAMME_ERROR = "programme_error", _("Vaccination accident (接种事故)")
    PSYCHOGENIC = "psychogenic", _("Psychogenic reaction (心因性反应)")
    COINCIDENTAL = "coincidental", _("Coincidental illness (偶合症)")


class AEFIStatus(models.TextChoices):
    DISCOVERED = "discovered", _("Found, to be reported")
    REPORTED = "reported", _("Reported")
    INVESTIGATING = "investigating", _("Under investigation")
    CLASSIFIED = "classified", _("Classified")
    CLOSED = "closed", _("Closed")


class AEFIDeadline(models.Model):
    """How soon a case must be reported after it is found, and how soon after the report
    the county CDC must start its investigation: data, so a new rule is an edit."""

    case = models.CharField(_("case"), max_length=12, choices=AEFICase.choices, unique=True)
    report_hours = models.PositiveSmallIntegerField(_("report within hours"))
    investigate_hours = models.PositiveSmallIntegerField(_("investigation within hours"))

    class Meta:
        verbose_name = _("AEFI deadline")
        verbose_name_plural = _("AEFI deadlines")

    def __str__(self) -> str:
        return f"{self.get_case_display()}: {self.report_hours} h / {self.investigate_hours} h"


class AEFIReport(models.Model):
    """A suspected adverse event following immunization (疑似预防接种异常反应), linked to the
    dose and its lot, from its discovery to the CDC's classification."""

    dose = models.ForeignKey(
        Dose, verbose_name=_("dose"), on_delete=models.PROTECT, related_name="+"
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        VaccineProduct, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    lot_number = models.CharField(_("lot number"), max_length=40, blank=True)
    site = models.ForeignKey(
        OrgUnit, verbose_name=_("site"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    county_code = models.CharField(_("county code"), max_length=6)
    severity = models.CharField(_("severity"), max_length=12, choices=AEFISeverity.choices)
    clustered = models.BooleanField(_("clustered (群体性)"), default=False)
    description = models.TextField(_("description"))
    follow_up_id = models.BigIntegerField(
        _("found at follow-up"), null=True, blank=True, unique=True
    )
    discovered_at = models.DateTimeField(_("found at"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("found by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    report_due_by = models.DateTimeField(_("report due by"))
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    investigation_due_by = models.DateTimeField(_("investigation due by"), null=True, blank=True)
    investigation_started_at = models.DateTimeField(
        _("investigation started at"), null=True, blank=True
    )
    classification = models.CharField(
        _("classification"), max_length=20, choices=AEFIClassification.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=AEFIStatus.choices, default=AEFIStatus.DISCOVERED
    )

    class Meta:
        verbose_name = _("AEFI report")
        verbose_name_plural = _("AEFI reports")
        indexes = [models.Index(fields=["product", "lot_number"], name="aefi_lot")]

    def __str__(self) -> str:
        return f"{self.resident} · {self.get_severity_display()} ({self.discovered_at:%Y-%m-%d})"

    @property
    def case(self) -> str:
        return AEFICase.CLUSTERED if self.clustered else self.severity

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook):
        the person's grid, whose CDC handles the report."""
        return {"unit_path": self.resident.grid.path}
