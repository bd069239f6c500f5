"""Field work (入户核查, 二码联查, 60+ follow-up, reminders): what grid workers and
checkpoint staff record on a phone, and what the platform sends to residents.

Visits are append-only: two workers saving the same resident both land, and the later one
is told (see `services.visit_record`). Every hot table carries `county_code` (DESIGN.md §5).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident, ResidentStatus, UnvaccinatedReason
from epidispatch.vaccination.models import Dose


class VisitOutcome(models.TextChoices):
    """What a 见人·见面·见码 visit found."""

    VACCINATED_ELSEWHERE = "vaccinated_elsewhere", _("Vaccinated elsewhere")
    AWAY_REACHED = "away_reached", _("Away, reached by phone")
    CONTRAINDICATED = "contraindicated", _("Contraindicated")
    REFUSED = "refused", _("Refused")
    MOVED = "moved", _("Moved out")
    DECEASED = "deceased", _("Deceased")
    NOT_FOUND = "not_found", pgettext_lazy("visit outcome", "Not found")


#: Outcomes that need a proof upload (a vaccination record, a photo of the code).
PROOF_OUTCOMES = (VisitOutcome.VACCINATED_ELSEWHERE, VisitOutcome.AWAY_REACHED)
#: Outcomes that need a written reason.
REASON_OUTCOMES = (VisitOutcome.CONTRAINDICATED,)

#: outcome → (resident status, 未接种原因 or None to leave it); "not found" changes nothing.
OUTCOME_EFFECTS: dict[str, tuple[str, str | None] | None] = {
    VisitOutcome.VACCINATED_ELSEWHERE: (ResidentStatus.AWAY, None),
    VisitOutcome.AWAY_REACHED: (ResidentStatus.AWAY, None),
    VisitOutcome.CONTRAINDICATED: (
        ResidentStatus.CONTRAINDICATED,
        UnvaccinatedReason.CONTRAINDICATED,
    ),
    VisitOutcome.REFUSED: (ResidentStatus.REFUSED, UnvaccinatedReason.UNWILLING),
    VisitOutcome.MOVED: (ResidentStatus.MOVED_OUT, None),
    VisitOutcome.DECEASED: (ResidentStatus.DECEASED, None),
    VisitOutcome.NOT_FOUND: None,
}


def proof_upload_to(instance, filename: str) -> str:
    """A random name under MEDIA_ROOT/proofs/YYYY/MM: nothing of the original file name
    (which may carry a person's name) reaches the disk."""
    suffix = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    today = timezone.localdate()
    return f"proofs/{today:%Y/%m}/{uuid.uuid4().hex}.{suffix}"


class Visit(models.Model):
    """One 入户核查 visit: who went, whom they saw, what they found, the proof.

    `submission_id` is made when the form is first shown and travels with the worker's
    draft: a form sent twice (a retry after losing signal) is stored once.
    """

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="visits"
    )
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    county_code = models.CharField(_("county code"), max_length=6)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=24, choices=VisitOutcome.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    proof = models.FileField(_("proof"), upload_to=proof_upload_to, blank=True, max_length=200)
    proof_content_type = models.CharField(_("proof type"), max_length=40, blank=True)
    submission_id = models.UUIDField(_("submission"), unique=True, default=uuid.uuid4)
    seen_visit_id = models.BigIntegerField(_("latest visit the worker saw"), null=True, blank=True)
    status_before = models.CharField(_("status before"), max_length=16, blank=True)
    visited_at = models.DateTimeField(_("visited at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [models.Index(fields=["resident", "-id"], name="visit_resident_latest")]

    def __str__(self) -> str:
        # The outcome's label as `get_outcome_display()` gives it, without the choices
        # made hashable on each call (which translates every label: the trail names each
        # visit it records by this text, on the busiest write path).
        outcome = VisitOutcome._value2member_map_.get(self.outcome)
        label = outcome.label if outcome is not None else self.outcome
        return f"{self.resident} · {label} ({self.visited_at:%Y-%m-%d})"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.grid.path}


class CheckpointState(models.TextChoices):
    OPEN = "open", _("Open: a task for the grid worker")
    DONE = "done", _("Done: visited")
    UNMATCHED = "unmatched", _("Unknown person")


class CheckpointRecord(models.Model):
    """二码联查: a person seen unvaccinated at a checkpoint (a mall, a station).

    Matched by exact ID number or phone (their lookup digests) to a resident of the
    checkpoint's county, it becomes a task on that resident's grid worker's list until a
    visit closes it; an unknown person stays with the county office, unmatched.
    """

    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("recorded for"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("the unit the checkpoint staff work for"),
    )
    county_code = models.CharField(_("county code"), max_length=6)
    place = models.CharField(pgettext_lazy("checkpoint location", "place"), max_length=100)
    seen_at = models.DateTimeField(_("seen at"))
    name = models.CharField(_("name as given"), max_length=60, blank=True)
    id_number_digest = models.CharField(_("ID number lookup key"), max_length=64, blank=True)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), blank=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True)
    phone_digest = models.CharField(_("phone lookup key"), max_length=64, blank=True)
    phone_encrypted = models.TextField(_("phone (encrypted)"), blank=True)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="checkpoint_records",
    )
    state = models.CharField(_("state"), max_length=10, choices=CheckpointState.choices)
    closed_by = models.ForeignKey(
        Visit,
        verbose_name=_("closed by visit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("checkpoint record")
        verbose_name_plural = _("checkpoint records")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(id_number_digest="", phone_digest=""),
                name="checkpoint_record_identifies_someone",
            ),
            models.CheckConstraint(
                condition=models.Q(state=CheckpointState.UNMATCHED, resident__isnull=True)
                | (~models.Q(state=CheckpointState.UNMATCHED) & models.Q(resident__isnull=False)),
                name="checkpoint_record_matched_iff_resident",
            ),
        ]
        indexes = [models.Index(fields=["resident", "state"], name="checkpoint_resident_state")]

    def __str__(self) -> str:
        who = self.id_number_masked or self.phone_masked
        return f"{self.place} {self.seen_at:%Y-%m-%d %H:%M} {who}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.unit.path}


class FollowUpOutcome(models.TextChoices):
    WELL = "well", _("Well, no reaction")
    COMMON_REACTION = "common_reaction", _("Common reaction (fever, sore arm), resolved")
    SUSPECTED_ADVERSE = "suspected_adverse", _("Suspected adverse reaction: report it")


class FollowUp(models.Model):
    """The 3-day observation follow-up (观察随访) of a vaccinee aged 60 or over.

    Opened when a site records the dose; the responsible workers are the grid workers of
    the resident's grid, so it hangs on the grid rather than on one person.
    """

    OBSERVATION_DAYS = 3

    dose = models.OneToOneField(
        Dose, verbose_name=_("dose"), on_delete=models.CASCADE, related_name="follow_up"
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    county_code = models.CharField(_("county code"), max_length=6)
    due_by = models.DateField(_("due by"))
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=FollowUpOutcome.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("60+ follow-up")
        verbose_name_plural = _("60+ follow-ups")
        indexes = [models.Index(fields=["grid", "done_at"], name="follow_up_grid_open")]

    def __str__(self) -> str:
        return f"{self.resident} · {self.due_by}"

    def get_additional_data(self) -> dict:
        """The org unit the audit trail files this record under (django-auditlog's hook)."""
        return {"unit_path": self.grid.path}


class Severity(models.TextChoices):
    """How severe a suspected reaction found at a follow-up is (supply files the report)."""

    NON_SEVERE = "non_severe", _("Not severe")
    SEVERE = "severe", _("Severe")
    DEATH = "death", _("Death")


class ReminderState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Reminder(models.Model):
    """The reminder outbox: one row per resident and dose reminded of.

    The unique constraint makes "each reminder is sent once" a database fact: queueing
    twice inserts nothing, and a sender claims rows with SELECT … FOR UPDATE SKIP LOCKED,
    so two senders never take the same row.
    """

    MAX_ATTEMPTS = 3
    RETRY_AFTER_MINUTES = 10

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="reminders"
    )
    dose_number = models.PositiveSmallIntegerField(_("dose number"))
    due_from = models.DateField(_("due from"))
    due_by = models.DateField(_("due by"))
    county_code = models.CharField(_("county code"), max_length=6)
    state = models.CharField(
        _("state"), max_length=8, choices=ReminderState.choices, default=ReminderState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.CharField(_("last error"), max_length=200, blank=True)
    attempted_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    queued_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "dose_number"], name="one_reminder_per_resident_and_dose"
            )
        ]
        indexes = [models.Index(fields=["state", "id"], name="reminder_outbox")]

    def __str__(self) -> str:
        return f"{self.resident} #{self.dose_number} ({self.get_state_display()})"
