"""Signed vaccination certificates (接种凭证) and proof of doses given elsewhere.

A Certificate keeps the exact payload its QR code carries, so the page, the print and the
command always show the same signed string; revoking one puts its serial on the
published revocation list.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from epidispatch.registry.models import Resident


class Certificate(models.Model):
    serial = models.CharField(_("serial"), max_length=16, unique=True)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    county_code = models.CharField(_("county code"), max_length=6)
    key_id = models.CharField(_("key id"), max_length=8)
    payload = models.TextField(_("signed payload"))
    doses = models.PositiveSmallIntegerField(_("doses"))
    doses_digest = models.CharField(
        _("doses digest"), max_length=64, help_text=_("the doses it states, to reuse it")
    )
    series_complete = models.BooleanField(_("series complete"))
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_reason = models.CharField(_("why revoked"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("vaccination certificate")
        verbose_name_plural = _("vaccination certificates")
        ordering = ["-issued_at"]
        indexes = [
            models.Index(
                fields=["serial"],
                condition=models.Q(revoked_at__isnull=False),
                name="certificate_revoked_serial",
            )
        ]

    def __str__(self) -> str:
        return f"{self.serial} {self.resident}"


class ProofReview(models.Model):
    """An officer's decision on a proof of vaccination elsewhere (外地接种凭证) that a
    visit brought in: accepted, it became `dose`, which counts like any other."""

    visit = models.OneToOneField(
        "fieldwork.Visit", verbose_name=_("visit"), on_delete=models.PROTECT, related_name="+"
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="+"
    )
    accepted = models.BooleanField(_("accepted"))
    dose = models.ForeignKey(
        "vaccination.Dose",
        verbose_name=_("dose"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("empty when refused, or when the dose was deleted since"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("proof review")
        verbose_name_plural = _("proof reviews")

    def __str__(self) -> str:
        return f"{self.visit_id} {self.accepted}"
