"""Writes of field work: visits, checkpoint records, 60+ follow-ups and reminders."""

import contextlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from epidispatch.audit.services import changes_batched
from epidispatch.core import protection
from epidispatch.core.bounds import EARLIEST_DAY
from epidispatch.core.dates import latest_birth_date_for_age
from epidispatch.core.ids import mask_id_number, mask_phone, parse_id_number
from epidispatch.core.live import figures_track
from epidispatch.orgunits.models import OrgUnit
from epidispatch.registry.models import Resident, ResidentStatus
from epidispatch.registry.services import resident_status_change
from epidispatch.vaccination.models import VaccinationStatus
from epidispatch.vaccination.signals import adverse_reaction_suspected

from . import conf
from .models import (
    OUTCOME_EFFECTS,
    PROOF_OUTCOMES,
    REASON_OUTCOMES,
    CheckpointRecord,
    CheckpointState,
    FollowUp,
    FollowUpOutcome,
    Reminder,
    ReminderState,
    Severity,
    Visit,
    VisitOutcome,
    proof_upload_to,
)
from .permissions import checkpoint_units, records_visits_for
from .proofs import PROOF_KINDS, VIDEO_KINDS, proof_check
from .reminders import ReminderMessage, get_backend

#: Age from which a vaccinee is followed up for 3 days.
FOLLOW_UP_AGE = 60
#: How late a clock may run: a checkpoint time a few minutes ahead is a phone's clock.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class VisitResult:
    visit: Visit
    #: The latest visit saved by someone else after the worker opened the form, if any.
    conflict: Visit | None = None
    #: True when this very form had been saved already (a retry): nothing new was stored.
    duplicate: bool = False


def visit_record(
    *,
    resident: Resident,
    outcome: str,
    by,
    reason: str = "",
    note: str = "",
    proof=None,
    seen_visit_id: int | None = None,
    submission_id: uuid.UUID | None = None,
) -> VisitResult:
    """Record a 见人·见面·见码 visit (入户核查) and move the resident's status with it.

    Visits are appended, never overwritten, so two workers saving the same resident at
    the same moment both land. `seen_visit_id` is the latest visit the worker saw when
    the form was shown (0: none; None: do not check): if another visit was saved since,
    the result names it so the worker is told. The status change goes through
    `resident_status_change` inside this transaction, so the dispatch figures move with
    the visit or not at all. A `submission_id` already stored returns that visit.
    """
    if outcome not in VisitOutcome.values:
        raise ValidationError(_("Unknown visit outcome: %(value)s.") % {"value": outcome})
    if not records_visits_for(by, resident.grid):
        raise PermissionDenied(_("Only the workers of this grid may record its visits."))
    reason, note = reason.strip(), note.strip()
    if outcome in REASON_OUTCOMES and not reason:
        raise ValidationError(
            {"reason": _("Write down the contraindication (the doctor's reason).")},
            code="reason_missing",
        )
    if outcome in PROOF_OUTCOMES and proof is None:
        raise ValidationError(
            {"proof": _("Upload the proof: a photo of the vaccination record or code.")},
            code="proof_missing",
        )
    kind = None
    if proof is not None:
        try:
            kind = proof_check(proof)
        except ValidationError as error:
            raise ValidationError({"proof": error.error_list}) from None
    if kind is not None:
        proof.name = f"proof.{kind.suffix}"
    submission_id = submission_id or uuid.uuid4()
    visit = Visit(
        resident_id=resident.pk,
        grid=resident.grid,  # the trail files the visit under it: no read
        county_code=resident.county_code,
        worker=by,
        outcome=outcome,
        reason=reason,
        note=note,
        proof_content_type=kind.content_type if kind else "",
        submission_id=submission_id,
        seen_visit_id=seen_visit_id or None,
    )
    stored_proof = ""
    effect = OUTCOME_EFFECTS[outcome]
    try:
        with (
            transaction.atomic(),
            changes_batched(),  # the visit's trail entry and the status change's: one INSERT
            _resident_locked(resident.pk, tracked=effect is not None),
        ):
            # The resident's row lock orders every save of this person; the next statement
            # (a fresh snapshot, taken after the lock was granted) reads their row, the
            # visit this save follows, a retried form, and whether a checkpoint task waits.
            locked = _visit_context(resident, submission_id)
            if locked.stored_visit is not None:
                return _stored_submission(Visit.objects.get(pk=locked.stored_visit), resident, by)
            visit.resident = locked  # the trail names the visit by them: no read
            latest_id = locked.latest_visit
            conflict = None
            if seen_visit_id is not None and latest_id is not None and latest_id != seen_visit_id:
                conflict = Visit.objects.select_related("worker").get(pk=latest_id)
            visit.status_before = locked.status
            if proof is not None:
                visit.proof.save(proof.name, proof, save=False)
                stored_proof = visit.proof.name
            visit.save(force_insert=True)
            if effect is not None:
                status, unvaccinated_reason = effect
                if locked.status != status or (
                    unvaccinated_reason is not None
                    and locked.unvaccinated_reason != unvaccinated_reason
                ):
                    resident_status_change(
                        resident=locked,
                        status=status,
                        unvaccinated_reason=unvaccinated_reason,
                        by=by,
                        fresh=True,
                    )
            if locked.open_tasks:
                CheckpointRecord.objects.filter(
                    resident_id=locked.pk, state=CheckpointState.OPEN
                ).update(state=CheckpointState.DONE, closed_by=visit)
    except IntegrityError:
        # The submission id is another resident's visit: a tampered or mixed-up form.
        if stored_proof:
            visit.proof.storage.delete(stored_proof)
        raise ValidationError(_("This form was already used for another visit.")) from None
    except BaseException:
        # The transaction did not commit: the stored file would belong to no visit.
        if stored_proof:
            visit.proof.storage.delete(stored_proof)
        raise
    return VisitResult(visit=visit, conflict=conflict)


@dataclass(frozen=True)
class StoredProof:
    name: str
    content_type: str


def proof_store(*, upload, allow_video: bool = False, max_bytes: int | None = None) -> StoredProof:
    """Check an upload by its bytes and store it the way visit proofs are stored (a random
    name under MEDIA_ROOT/proofs/YYYY/MM, outside the web root), for the evidence of other
    modules. The caller removes it with `proof_discard` when its transaction fails."""
    kinds = PROOF_KINDS + VIDEO_KINDS if allow_video else PROOF_KINDS
    kind = proof_check(upload, kinds, max_bytes)
    name = default_storage.save(proof_upload_to(None, f"proof.{kind.suffix}"), upload)
    return StoredProof(name=name, content_type=kind.content_type)


def proof_discard(name: str) -> None:
    """Remove a stored proof whose record was not saved."""
    default_storage.delete(name)


@contextlib.contextmanager
def _resident_locked(resident_id: int, *, tracked: bool):
    """Hold the resident's row lock for a visit: inside `figures_track` when the outcome
    may change their status (its one statement locks the row and counts their figures
    before, so the status change needs no lock of its own), else a plain row lock
    (PostgreSQL; SQLite's writers are serialised by its database lock already)."""
    if tracked:
        with figures_track([resident_id]):
            yield
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_SQL, [resident_id])
    yield


def _visit_context(resident: Resident, submission_id) -> Resident:
    """The resident's row as it is now, annotated with `latest_visit` (their latest visit),
    `stored_visit` (the visit already stored for this submission) and `open_tasks`
    (whether a checkpoint task is open), in one statement built once: a visit is one
    round trip fewer per query saved, and 200 workers at once make every round trip and
    every query built count (bench/RESULTS.md)."""
    submission = Visit._meta.get_field("submission_id").get_db_prep_value(submission_id, connection)
    row = next(
        iter(Resident.objects.raw(_CONTEXT_SQL, [submission, CheckpointState.OPEN, resident.pk]))
    )
    row.open_tasks = bool(row.open_tasks)
    if row.grid_id == resident.grid_id:
        row.grid = resident.grid  # read with the resident already
    return row


_RESIDENT, _VISIT, _CHECKPOINT = (
    model._meta.db_table for model in (Resident, Visit, CheckpointRecord)
)
_LOCK_SQL = f"SELECT 1 FROM {_RESIDENT} WHERE id = %s FOR UPDATE"
_CONTEXT_SQL = (
    f"SELECT r.*, (SELECT v.id FROM {_VISIT} v WHERE v.resident_id = r.id "
    "ORDER BY v.id DESC LIMIT 1) AS latest_visit, "
    f"(SELECT v.id FROM {_VISIT} v WHERE v.resident_id = r.id AND v.submission_id = %s) "
    "AS stored_visit, "
    f"EXISTS (SELECT 1 FROM {_CHECKPOINT} c WHERE c.resident_id = r.id AND c.state = %s) "
    f"AS open_tasks FROM {_RESIDENT} r WHERE r.id = %s"
)


def _stored_submission(stored: Visit, resident: Resident, by) -> VisitResult:
    if stored.resident_id != resident.pk or stored.worker_id != by.pk:
        raise ValidationError(_("This form was already used for another visit."))
    return VisitResult(visit=stored, duplicate=True)


PHONE_PATTERN = re.compile(r"1\d{10}|0\d{9,11}")


def normalize_phone(raw: str) -> str:
    """Digits only (spaces, dashes and a +86 prefix dropped); a ValidationError when it is
    neither an 11-digit mobile number nor a fixed line with its area code."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not PHONE_PATTERN.fullmatch(digits):
        raise ValidationError(
            {"phone": _("A phone number has 11 digits (or an area code and a landline).")},
            code="phone_invalid",
        )
    return digits


@transaction.atomic
def checkpoint_record_create(
    *,
    unit: OrgUnit,
    place: str,
    seen_at: datetime,
    by,
    id_number: str = "",
    phone: str = "",
    name: str = "",
) -> CheckpointRecord:
    """Register a person seen unvaccinated at a checkpoint (二码联查).

    The person is matched, by the exact ID number (else the phone, when it names exactly
    one resident), to a resident of the checkpoint's county; the record is then an open
    task on that resident's grid. An unknown person is kept as unmatched for the county
    office. Matching never shows the checkpoint staff anyone's data.
    """
    if not checkpoint_units(by).filter(pk=unit.pk).exists():
        raise PermissionDenied(_("You may not register checkpoint records for this unit."))
    place, name = place.strip(), name.strip()
    if not place:
        raise ValidationError({"place": _("Name the place (mall, station…).")})
    if seen_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"seen_at": _("The time seen is in the future.")})
    if timezone.localtime(seen_at).date() < EARLIEST_DAY:
        raise ValidationError({"seen_at": _("The time seen is too long ago.")})
    if not (id_number.strip() or phone.strip()):
        raise ValidationError(_("Give the person's ID number or phone."), code="no_identity")
    record = CheckpointRecord(
        unit=unit,
        county_code=unit.county_code,
        place=place,
        seen_at=seen_at,
        name=name,
        recorded_by=by,
    )
    residents = Resident.objects.filter(county_code=unit.county_code)
    resident = None
    if id_number.strip():
        try:
            number = parse_id_number(id_number).number
        except ValidationError as error:
            raise ValidationError({"id_number": error.messages}) from None
        record.id_number_digest = protection.lookup_digest(number)
        record.id_number_encrypted = protection.encrypt(number)
        record.id_number_masked = mask_id_number(number)
        resident = residents.filter(id_number_digest=record.id_number_digest).first()
    if phone.strip():
        digits = normalize_phone(phone)
        record.phone_digest = protection.lookup_digest(digits)
        record.phone_encrypted = protection.encrypt(digits)
        record.phone_masked = mask_phone(digits)
        if resident is None and not record.id_number_digest:
            by_phone = list(residents.filter(phone_digest=record.phone_digest)[:2])
            resident = by_phone[0] if len(by_phone) == 1 else None
    record.resident = resident
    record.state = CheckpointState.OPEN if resident else CheckpointState.UNMATCHED
    record.save()
    return record


def follow_up_open_for_dose(sender, *, dose, by, **kwargs) -> FollowUp | None:
    """Receiver of `dose_recorded`: open the 3-day observation follow-up (60岁及以上接种
    人群3天内观察随访) of a vaccinee aged 60 or over on the day of the dose. Runs inside
    `dose_record`'s transaction, so the dose and its follow-up land together."""
    resident = Resident.objects.only("birth_date", "grid_id", "county_code").get(
        pk=dose.resident_id
    )
    if resident.birth_date > latest_birth_date_for_age(dose.given_on, FOLLOW_UP_AGE):
        return None
    follow_up, _created = FollowUp.objects.get_or_create(
        dose=dose,
        defaults={
            "resident_id": resident.pk,
            "grid_id": resident.grid_id,
            "county_code": resident.county_code,
            "due_by": dose.given_on + timedelta(days=FollowUp.OBSERVATION_DAYS),
        },
    )
    return follow_up


@transaction.atomic
def follow_up_complete(
    *,
    follow_up: FollowUp,
    outcome: str,
    by,
    note: str = "",
    severity: str = "",
    description: str = "",
) -> FollowUp:
    """Record how a 60+ vaccinee is after the observation days; a suspected adverse
    reaction is escalated (`adverse_reaction_suspected`: supply files the AEFI report with
    its deadlines, in this transaction)."""
    if outcome not in FollowUpOutcome.values:
        raise ValidationError(_("Unknown follow-up outcome: %(value)s.") % {"value": outcome})
    if not records_visits_for(by, follow_up.grid):
        raise PermissionDenied(_("Only the workers of this grid may record its follow-ups."))
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if locked.done_at is not None:
        raise ValidationError(
            _("This follow-up was recorded already, at %(time)s.")
            % {"time": timezone.localtime(locked.done_at).strftime("%Y-%m-%d %H:%M")},
            code="follow_up_done",
        )
    now = timezone.now()
    if outcome == FollowUpOutcome.SUSPECTED_ADVERSE:
        if severity not in Severity.values:
            raise ValidationError({"severity": _("Say how severe the reaction is.")})
        if not description.strip():
            raise ValidationError({"description": _("Describe the reaction.")})
        adverse_reaction_suspected.send(
            sender=FollowUp,
            dose=locked.dose,
            severity=severity,
            description=description.strip(),
            discovered_at=now,
            by=by,
            follow_up_id=locked.pk,
        )
    locked.outcome = outcome
    locked.note = note.strip()
    locked.done_at = now
    locked.done_by = by
    locked.save(update_fields=["outcome", "note", "done_at", "done_by"])
    return locked


REMINDER_EXCLUDED_STATUSES = (ResidentStatus.DECEASED, ResidentStatus.MOVED_OUT)


def reminders_queue(*, today=None, batch_size: int = 2000) -> int:
    """Put a reminder in the outbox for everyone whose next dose of the primary series
    (the second, or an 智飞 third) may be given within the lead days and is not yet past
    its latest day, who has a phone, and has not been reminded of that dose. Returns how
    many were queued; queueing again queues nothing (the outbox's unique constraint)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=conf.reminder_lead_days())
    already = Reminder.objects.filter(
        resident_id=OuterRef("resident_id"), dose_number=OuterRef("next_dose_number")
    )
    due = (
        VaccinationStatus.objects.filter(
            series_complete_on__isnull=True,
            next_dose_number__isnull=False,
            next_due_from__lte=horizon,
            next_due_by__gte=today,
        )
        .exclude(
            Q(resident__phone_encrypted="") | Q(resident__status__in=REMINDER_EXCLUDED_STATUSES)
        )
        .exclude(Exists(already))
        .values_list(
            "resident_id", "next_dose_number", "next_due_from", "next_due_by", "county_code"
        )
        .order_by("resident_id")
    )
    queued = 0
    batch: list[Reminder] = []
    for resident_id, number, due_from, due_by, county in due.iterator(chunk_size=batch_size):
        batch.append(
            Reminder(
                resident_id=resident_id,
                dose_number=number,
                due_from=due_from,
                due_by=due_by,
                county_code=county,
            )
        )
        if len(batch) >= batch_size:
            queued += len(Reminder.objects.bulk_create(batch, ignore_conflicts=True))
            batch = []
    if batch:
        queued += len(Reminder.objects.bulk_create(batch, ignore_conflicts=True))
    return queued


@dataclass(frozen=True)
class SendResult:
    sent: int
    failed: int


def reminders_send(*, limit: int = 500, backend=None) -> SendResult:
    """Send the queued reminders (and retry failed ones up to MAX_ATTEMPTS).

    Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED, so two senders (the periodic
    task and the command, say) never take the same reminder, and marked sent in the same
    transaction. A sender that dies after the gateway accepted a message but before the
    commit would send it again on the next run; every other path sends each reminder once.
    """
    backend = backend or get_backend()
    sent = failed = 0
    now = timezone.now()
    retry_before = now - timedelta(minutes=Reminder.RETRY_AFTER_MINUTES)
    with transaction.atomic():
        claimed = list(
            Reminder.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                Q(state=ReminderState.QUEUED)
                | Q(
                    state=ReminderState.FAILED,
                    attempts__lt=Reminder.MAX_ATTEMPTS,
                    attempted_at__lt=retry_before,
                )
            )
            .select_related("resident")
            .order_by("id")[:limit]
        )
        with translation.override("zh-hans"):
            for reminder in claimed:
                reminder.attempts += 1
                reminder.attempted_at = now
                try:
                    backend.send(_reminder_message(reminder))
                except Exception as error:
                    reminder.state = ReminderState.FAILED
                    reminder.error = str(error)[:200]
                    failed += 1
                else:
                    reminder.state = ReminderState.SENT
                    reminder.sent_at = now
                    reminder.error = ""
                    sent += 1
        Reminder.objects.bulk_update(
            claimed, ["state", "attempts", "attempted_at", "error", "sent_at"]
        )
    return SendResult(sent=sent, failed=failed)


def _reminder_message(reminder: Reminder) -> ReminderMessage:
    resident = reminder.resident
    return ReminderMessage(
        reminder_id=reminder.pk,
        phone=protection.decrypt(resident.phone_encrypted),
        phone_masked=resident.phone_masked,
        text=_(
            "%(name)s: your dose %(number)d of the COVID-19 vaccine may be given from "
            "%(from)s and is due by %(by)s. Please come to your vaccination site."
        )
        % {
            "name": resident.name,
            "number": reminder.dose_number,
            "from": reminder.due_from.isoformat(),
            "by": reminder.due_by.isoformat(),
        },
    )
