"""The reward–penalty record (奖惩): one Accountability case per cause, whatever the cause.

A case names a unit and the persons concerned, the measure (约谈 summons, 通报批评 public
criticism, 问责 accountability, or 通报表扬 commendation on the reward side), why it was
opened (a ranking streak of the daily dispatch, an inspection problem, an overdue
rectification, an action item later), the decision and who took it, the outcome (the
表态发言 pledge and its deadline) and its history.

The cause points at the record that caused it through a generic relation, so this app
sits below the apps that open cases (dispatch, inspection) and imports none of them; one
case per cause record and cause is a database constraint, so proposing twice is harmless.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.orgunits.models import OrgUnit


class Kind(models.TextChoices):
    SUMMONS = "summons", _("Summons")
    PUBLIC_CRITICISM = "public_criticism", _("Public criticism")
    ACCOUNTABILITY = "accountability", _("Accountability")
    COMMENDATION = "commendation", _("Commendation")


class Cause(models.TextChoices):
    RANKING_STREAK = "ranking_streak", _("Ranked in the bottom for consecutive cutoffs")
    INSPECTION_PROBLEM = "inspection_problem", _("Problem found by an inspection")
    OVERDUE_RECTIFICATION = "overdue_rectification", _("Rectification overdue")
    ACTION_ITEM = "action_item", _("Action item")
    OTHER = "other", _("Other")


class CaseState(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting decision")
    DECIDED = "decided", _("Decided")
    DISMISSED = "dismissed", pgettext_lazy("accountability", "Dismissed")
    CLOSED = "closed", _("Closed")


class Accountability(models.Model):
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(
        pgettext_lazy("accountability", "measure"), max_length=20, choices=Kind.choices
    )
    state = models.CharField(
        _("state"), max_length=10, choices=CaseState.choices, default=CaseState.PROPOSED
    )
    cause = models.CharField(_("cause"), max_length=24, choices=Cause.choices)
    cause_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cause_id = models.PositiveBigIntegerField(null=True, blank=True)
    cause_object = GenericForeignKey("cause_type", "cause_id")
    summary = models.CharField(
        _("why"), max_length=200, help_text=_("the cause in words, frozen when proposed")
    )
    streak = models.PositiveSmallIntegerField(
        _("consecutive cutoffs in the bottom"), null=True, blank=True
    )
    persons = models.CharField(_("persons concerned"), max_length=200, blank=True)
    decision = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    pledge = models.TextField(_("pledge"), blank=True)
    pledge_deadline = models.DateField(_("pledge deadline"), null=True, blank=True)
    created_at = models.DateTimeField(_("proposed at"))

    class Meta:
        verbose_name = _("accountability case")
        verbose_name_plural = _("accountability cases")
        ordering = ["-created_at", "unit__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["cause", "cause_type", "cause_id"],
                condition=models.Q(cause_id__isnull=False),
                name="one_case_per_cause",
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} · {self.get_kind_display()} · {self.get_state_display()}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}


class Event(models.Model):
    """One step in a case's history: proposed, decided, dismissed, pledge recorded."""

    case = models.ForeignKey(
        Accountability, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=10, choices=CaseState.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_state_display()}"
