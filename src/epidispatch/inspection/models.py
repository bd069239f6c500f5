"""Inspections of key places (督导检查), the problems they find and their rectification
(整改).

Key places (重点场所) belong to a category (editable reference data) and to a responsible
unit (责任单位). Each category has a checklist, kept as versions: an inspection keeps
the version it was done with, so editing the checklist never rewrites a past inspection.
Inspection teams (督导组/督查组) are assigned places or whole units; an inspection is
planned, unannounced (暗访) or a unit's own self-inspection (自检自查). Each failed
item is a Problem with its evidence, the responsible unit, the person on duty and a
deadline; the unit answers with Rectifications until one is verified.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.accountability.models import Accountability
from epidispatch.orgunits.models import OrgUnit


class PlaceCategory(models.Model):
    """A kind of key place (商场, 医疗机构 …): reference data the office edits."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("place category")
        verbose_name_plural = _("place categories")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class KeyPlace(models.Model):
    """A key place (重点场所) and who answers for it."""

    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        PlaceCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="places"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    grid = models.ForeignKey(
        OrgUnit,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    responsible_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT, related_name="+"
    )
    contact_name = models.CharField(_("person in charge"), max_length=40, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("key place")
        verbose_name_plural = _("key places")
        ordering = ["responsible_unit__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["responsible_unit", "name"], name="one_place_name_per_unit"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Checklist(models.Model):
    """One version of a category's checklist; the latest version in force is used."""

    category = models.ForeignKey(
        PlaceCategory,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="checklists",
    )
    version = models.PositiveSmallIntegerField(_("version"))
    effective_from = models.DateField(_("in force from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["category", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["category", "version"], name="one_checklist_version")
        ]

    def __str__(self) -> str:
        return f"{self.category} v{self.version}"


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(
        Checklist, verbose_name=_("checklist"), on_delete=models.CASCADE, related_name="items"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.CharField(_("item"), max_length=100)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["checklist", "position"]
        constraints = [
            models.UniqueConstraint(fields=["checklist", "position"], name="one_item_per_position")
        ]

    def __str__(self) -> str:
        return self.text


class Team(models.Model):
    """An inspection team (督导组/督查组): its members inspect the places assigned to it and
    every key place of the units assigned to it."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), related_name="inspection_teams"
    )
    places = models.ManyToManyField(
        KeyPlace, verbose_name=_("assigned places"), blank=True, related_name="teams"
    )
    units = models.ManyToManyField(
        OrgUnit, verbose_name=_("assigned units"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("inspection team")
        verbose_name_plural = _("inspection teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InspectionKind(models.TextChoices):
    PLANNED = "planned", _("Planned inspection")
    UNANNOUNCED = "unannounced", _("Unannounced inspection")
    SELF = "self_inspection", _("Self-inspection")


class Inspection(models.Model):
    place = models.ForeignKey(
        KeyPlace,
        verbose_name=pgettext_lazy("key place", "place"),
        on_delete=models.PROTECT,
        related_name="inspections",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=InspectionKind.choices)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections",
        help_text=_("empty for a self-inspection"),
    )
    checklist = models.ForeignKey(
        Checklist, verbose_name=_("checklist"), on_delete=models.PROTECT, related_name="+"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspected by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    done_at = models.DateTimeField(_("done at"))
    person_on_duty = models.CharField(_("person on duty"), max_length=40, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-done_at"]

    def __str__(self) -> str:
        return f"{self.place} {self.done_at:%Y-%m-%d}"


class Result(models.Model):
    """Whether one checklist item was met at one inspection."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="results"
    )
    item = models.ForeignKey(
        ChecklistItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+"
    )
    passed = models.BooleanField(_("met"))

    class Meta:
        verbose_name = _("checklist result")
        verbose_name_plural = _("checklist results")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="one_result_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.item} {'✓' if self.passed else '✗'}"


class ProblemState(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Submitted")
    VERIFIED = "verified", _("Verified")


#: Problems still waiting on their unit (what a deadline and escalation apply to).
OPEN_STATES = (ProblemState.ASSIGNED, ProblemState.IN_PROGRESS)


class Problem(models.Model):
    """A problem found at an inspection, to be rectified (整改) by the responsible unit by
    the deadline; once past it unverified, it is escalated to the office."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("inspection"), on_delete=models.CASCADE, related_name="problems"
    )
    place = models.ForeignKey(
        KeyPlace,
        verbose_name=pgettext_lazy("key place", "place"),
        on_delete=models.PROTECT,
        related_name="problems",
    )
    item = models.ForeignKey(
        ChecklistItem,
        verbose_name=_("checklist item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(_("problem"))
    responsible_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("responsible unit"), on_delete=models.PROTECT, related_name="+"
    )
    person_on_duty = models.CharField(_("person on duty"), max_length=40, blank=True)
    found_at = models.DateTimeField(_("found at"))
    deadline = models.DateTimeField(_("rectify by"))
    state = models.CharField(
        _("state"), max_length=12, choices=ProblemState.choices, default=ProblemState.ASSIGNED
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    cases = GenericRelation(
        Accountability,
        content_type_field="cause_type",
        object_id_field="cause_id",
        related_query_name="problem",
    )

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["deadline", "pk"]
        indexes = [models.Index(fields=["state", "deadline"], name="problem_state_deadline")]

    def __str__(self) -> str:
        return f"{self.place}: {self.description[:30]}"

    @property
    def overdue(self) -> bool:
        return self.state != ProblemState.VERIFIED and self.deadline < timezone.now()


class RectificationOutcome(models.TextChoices):
    PENDING = "pending", _("Awaiting review")
    VERIFIED = "verified", _("Verified")
    SENT_BACK = "sent_back", _("Sent back")


class Rectification(models.Model):
    """One submission of a problem's rectification (整改) with its evidence, and the
    review it got: verified, or sent back with a reason."""

    problem = models.ForeignKey(
        Problem, verbose_name=_("problem"), on_delete=models.CASCADE, related_name="rectifications"
    )
    note = models.TextField(_("what was done"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    outcome = models.CharField(
        pgettext_lazy("rectification", "outcome"),
        max_length=10,
        choices=RectificationOutcome.choices,
        default=RectificationOutcome.PENDING,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reason = models.TextField(_("reason sent back"), blank=True)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["problem", "submitted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.problem} {self.get_outcome_display()}"


class Evidence(models.Model):
    """A photo or video of a problem (found) or of its rectification (done), stored by
    field work's proof store: checked by its bytes, under a random name, served only by a
    scoped view."""

    problem = models.ForeignKey(
        Problem, verbose_name=_("problem"), on_delete=models.CASCADE, related_name="evidence"
    )
    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("rectification"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence",
    )
    file = models.FileField(_("file"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.file.name
