"""Writes of inspections (督导检查) and rectification (整改).

Who may do what is decided here, once, for the pages, the API and the commands alike:
- a member of an inspection team inspects the places assigned to the team, or lying
  under a unit assigned to it (planned or unannounced, 暗访);
- the responsible unit (a town, department or grid official of it) files
  self-inspections (自检自查) and rectifies its problems;
- the inspector's team or the office (防控办 dispatcher) verifies a rectification or
  sends it back, never the unit that submitted it;
- a problem still open past its deadline is escalated to the office and proposed for a
  summons (one accountability case per problem).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accountability.models import Cause, Kind
from epidispatch.accountability.permissions import decides_on
from epidispatch.accountability.services import accountability_propose
from epidispatch.fieldwork.services import proof_discard, proof_store
from epidispatch.orgunits.models import PATH_SEPARATOR, OrgUnit

from .models import (
    OPEN_STATES,
    Checklist,
    ChecklistItem,
    Evidence,
    Inspection,
    InspectionKind,
    KeyPlace,
    PlaceCategory,
    Problem,
    ProblemState,
    Rectification,
    RectificationOutcome,
    Result,
    Team,
)
from .permissions import acts_for_unit, edits_checklists, files_self_inspection, reviews

#: Days a unit gets to rectify when the inspector sets no deadline.
DEFAULT_RECTIFY_DAYS = 3
#: Largest evidence file (a short video from a phone).
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
TEXT_LIMIT = 2000
SHORT_LIMIT = 40


def _text(value: str, field_name: str, limit: int = TEXT_LIMIT, required: bool = False) -> str:
    value = (value or "").replace("\x00", "").strip()
    if len(value) > limit:
        raise ValidationError(
            {field_name: _("At most %(limit)d characters.") % {"limit": limit}}, code="too_long"
        )
    if required and not value:
        raise ValidationError({field_name: _("This field is required.")}, code="required")
    return value


def path_prefixes(path: str) -> list[str]:
    """Every ancestor path of `path`, itself included: "a/b/" → ["a/", "a/b/"]."""
    parts = path.rstrip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    return [PATH_SEPARATOR.join(parts[: n + 1]) + PATH_SEPARATOR for n in range(len(parts))]


def _place_prefixes(place: KeyPlace) -> list[str]:
    prefixes = path_prefixes(place.responsible_unit.path)
    if place.grid_id:
        prefixes += path_prefixes(place.grid.path)
    return prefixes


def assigned_team(user, place: KeyPlace) -> Team | None:
    """The user's team assigned to this place (itself or a unit above it), if any."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    return (
        Team.objects.filter(members=user)
        .filter(Q(places=place) | Q(units__path__in=_place_prefixes(place)))
        .order_by("name")
        .first()
    )


def checklist_in_force(category: PlaceCategory, day: date) -> Checklist | None:
    return (
        Checklist.objects.filter(category=category, effective_from__lte=day)
        .order_by("-effective_from", "-version")
        .first()
    )


@transaction.atomic
def checklist_publish(
    *, category: PlaceCategory, items: list[str], effective_from: date, by
) -> Checklist:
    """A new version of a category's checklist; earlier inspections keep theirs."""
    if not edits_checklists(by):
        raise PermissionDenied(_("Only the office edits checklists."))
    texts = [_text(item, "items", 100) for item in items]
    texts = [text for text in texts if text]
    if not texts:
        raise ValidationError({"items": _("A checklist needs at least one item.")})
    if len(set(texts)) != len(texts):
        raise ValidationError({"items": _("An item is listed twice.")})
    PlaceCategory.objects.select_for_update().get(pk=category.pk)
    last = Checklist.objects.filter(category=category).aggregate(v=Max("version"))["v"] or 0
    checklist = Checklist.objects.create(
        category=category, version=last + 1, effective_from=effective_from, created_by=by
    )
    ChecklistItem.objects.bulk_create(
        ChecklistItem(checklist=checklist, position=n, text=text)
        for n, text in enumerate(texts, start=1)
    )
    return checklist


@dataclass
class PlaceFields:
    name: str
    category: PlaceCategory
    responsible_unit: OrgUnit
    address: str = ""
    grid: OrgUnit | None = None
    contact_name: str = ""
    contact_phone: str = ""


def place_save(*, fields: PlaceFields) -> tuple[KeyPlace, str]:
    """Store a key place by its name within its responsible unit: ("stored", "unchanged").
    The caller holds the transaction (one per import)."""
    values = {
        "category": fields.category,
        "address": fields.address,
        "grid": fields.grid,
        "contact_name": fields.contact_name,
        "contact_phone": fields.contact_phone,
    }
    place = KeyPlace.objects.filter(
        responsible_unit=fields.responsible_unit, name=fields.name
    ).first()
    if place is None:
        place = KeyPlace.objects.create(
            name=fields.name, responsible_unit=fields.responsible_unit, **values
        )
        return place, "stored"
    if all(getattr(place, key) == value for key, value in values.items()):
        return place, "unchanged"
    for key, value in values.items():
        setattr(place, key, value)
    place.save()
    return place, "stored"


@dataclass
class ProblemInput:
    """A failed checklist item as the inspector reported it."""

    item: ChecklistItem
    description: str = ""
    evidence: list = field(default_factory=list)


def _store_evidence(uploads, stored: list[str]) -> list:
    kept = []
    for upload in uploads:
        try:
            proof = proof_store(upload=upload, allow_video=True, max_bytes=EVIDENCE_MAX_BYTES)
        except ValidationError as error:
            raise ValidationError({"evidence": error.error_list}) from None
        stored.append(proof.name)
        kept.append(proof)
    return kept


def _with_stored_files(write):
    """Run `write(stored)` in a transaction; files it stored are removed if it fails."""
    stored: list[str] = []
    try:
        with transaction.atomic():
            return write(stored)
    except BaseException:
        for name in stored:
            proof_discard(name)
        raise


def inspection_record(
    *,
    place: KeyPlace,
    kind: str,
    by,
    results: dict[int, bool],
    problems: list[ProblemInput],
    person_on_duty: str = "",
    note: str = "",
    deadline: datetime | None = None,
    done_at: datetime | None = None,
) -> Inspection:
    """Record an inspection with its checklist results and the problems found, each with
    its evidence, the responsible unit, the person on duty and a deadline."""
    done_at = done_at or timezone.now()
    if kind not in InspectionKind.values:
        raise ValidationError(_("Unknown kind of inspection: %(value)s.") % {"value": kind})
    team = None
    if kind == InspectionKind.SELF:
        if not files_self_inspection(by, place):
            raise PermissionDenied(_("Only the responsible unit files its self-inspection."))
    else:
        team = assigned_team(by, place)
        if team is None:
            raise PermissionDenied(_("You are not assigned to inspect this place."))
    checklist = checklist_in_force(place.category, timezone.localdate(done_at))
    if checklist is None:
        raise ValidationError(
            _("The category %(name)s has no checklist yet.") % {"name": place.category.name}
        )
    items = {item.pk: item for item in checklist.items.all()}
    if set(results) - set(items):
        raise ValidationError(_("The checklist has changed: open the form again."))
    failed = {pk for pk, passed in results.items() if not passed}
    reported = {problem.item.pk for problem in problems}
    if reported != failed:
        raise ValidationError(_("Every item not met is a problem, and only those."))
    person_on_duty = _text(person_on_duty, "person_on_duty", SHORT_LIMIT)
    note = _text(note, "note")
    deadline = deadline or done_at + timedelta(days=DEFAULT_RECTIFY_DAYS)
    if problems and deadline <= done_at:
        raise ValidationError({"deadline": _("The deadline must be after the inspection.")})
    for problem in problems:
        problem.description = _text(problem.description, "description") or problem.item.text
        if kind != InspectionKind.SELF and not problem.evidence:
            raise ValidationError(
                {
                    "evidence": _("Keep the evidence: add a photo or video of “%(item)s”.")
                    % {"item": problem.item.text}
                },
                code="evidence_missing",
            )

    def write(stored):
        inspection = Inspection.objects.create(
            place=place,
            kind=kind,
            team=team,
            checklist=checklist,
            inspector=by,
            done_at=done_at,
            person_on_duty=person_on_duty,
            note=note,
        )
        Result.objects.bulk_create(
            Result(inspection=inspection, item_id=pk, passed=passed)
            for pk, passed in results.items()
        )
        for found in problems:
            problem = Problem.objects.create(
                inspection=inspection,
                place=place,
                item=found.item,
                description=found.description,
                responsible_unit=place.responsible_unit,
                person_on_duty=person_on_duty,
                found_at=done_at,
                deadline=deadline,
            )
            for proof in _store_evidence(found.evidence, stored):
                Evidence.objects.create(
                    problem=problem,
                    file=proof.name,
                    content_type=proof.content_type,
                    uploaded_by=by,
                    uploaded_at=done_at,
                )
        return inspection

    return _with_stored_files(write)


def _locked(problem: Problem) -> Problem:
    return (
        Problem.objects.select_for_update(of=("self",))
        .select_related("responsible_unit", "inspection")
        .get(pk=problem.pk)
    )


@transaction.atomic
def problem_start(*, problem: Problem, by) -> Problem:
    """The responsible unit takes the problem in hand (assigned → in progress)."""
    problem = _locked(problem)
    if not acts_for_unit(by, problem.responsible_unit):
        raise PermissionDenied(_("Only the responsible unit rectifies this problem."))
    if problem.state == ProblemState.ASSIGNED:
        problem.state = ProblemState.IN_PROGRESS
        problem.save(update_fields=["state"])
    return problem


def rectification_submit(*, problem: Problem, note: str, evidence: list, by) -> Rectification:
    """The responsible unit reports the problem rectified, with photo or video evidence."""
    if not acts_for_unit(by, problem.responsible_unit):
        raise PermissionDenied(_("Only the responsible unit rectifies this problem."))
    note = _text(note, "note", required=True)
    if not evidence:
        raise ValidationError(
            {"evidence": _("Add a photo or video of the rectification.")},
            code="evidence_missing",
        )

    def write(stored):
        locked = _locked(problem)
        if locked.state not in OPEN_STATES:
            raise ValidationError(
                _("This problem is %(state)s: nothing to submit.")
                % {"state": locked.get_state_display()},
                code="state",
            )
        now = timezone.now()
        rectification = Rectification.objects.create(
            problem=locked, note=note, submitted_by=by, submitted_at=now
        )
        for proof in _store_evidence(evidence, stored):
            Evidence.objects.create(
                problem=locked,
                rectification=rectification,
                file=proof.name,
                content_type=proof.content_type,
                uploaded_by=by,
                uploaded_at=now,
            )
        locked.state = ProblemState.SUBMITTED
        locked.save(update_fields=["state"])
        return rectification

    return _with_stored_files(write)


@transaction.atomic
def rectification_review(
    *, rectification: Rectification, verify: bool, by, reason: str = ""
) -> Rectification:
    """Verify a submitted rectification, or send it back with a reason. The inspector's
    team or the office reviews; the unit that submitted never does."""
    rectification = Rectification.objects.select_for_update().get(pk=rectification.pk)
    problem = _locked(rectification.problem)
    if by.pk == rectification.submitted_by_id or acts_for_unit(by, problem.responsible_unit):
        raise PermissionDenied(_("The unit that submitted a rectification cannot review it."))
    if not reviews(by, problem):
        raise PermissionDenied(_("Only the inspection team or the office reviews it."))
    if rectification.outcome != RectificationOutcome.PENDING:
        raise ValidationError(_("This rectification was already reviewed."), code="reviewed")
    reason = _text(reason, "reason")
    if not verify and not reason:
        raise ValidationError({"reason": _("Say why it is sent back.")}, code="reason_missing")
    now = timezone.now()
    rectification.outcome = (
        RectificationOutcome.VERIFIED if verify else RectificationOutcome.SENT_BACK
    )
    rectification.reviewed_by, rectification.reviewed_at = by, now
    rectification.reason = reason
    rectification.save()
    if verify:
        problem.state, problem.verified_at = ProblemState.VERIFIED, now
    else:
        problem.state = ProblemState.IN_PROGRESS
    problem.save(update_fields=["state", "verified_at"])
    return rectification


@transaction.atomic
def problems_escalate(*, now: datetime | None = None) -> list[Problem]:
    """Escalate every problem still open past its deadline to the office, once, and
    propose a summons of its responsible unit (cause: overdue rectification)."""
    now = now or timezone.now()
    overdue = list(
        Problem.objects.select_for_update(of=("self",))
        .filter(state__in=OPEN_STATES, deadline__lt=now, escalated_at__isnull=True)
        .select_related("responsible_unit", "place")
    )
    for problem in overdue:
        problem.escalated_at = now
        problem.save(update_fields=["escalated_at"])
        accountability_propose(
            unit=problem.responsible_unit,
            cause=Cause.OVERDUE_RECTIFICATION,
            cause_object=problem,
            summary=_("%(place)s: not rectified by %(deadline)s (%(problem)s)")
            % {
                "place": problem.place.name,
                "deadline": f"{timezone.localtime(problem.deadline):%Y-%m-%d %H:%M}",
                "problem": problem.description[:60],
            },
            persons=problem.person_on_duty,
            at=now,
        )
    return overdue


@transaction.atomic
def problem_refer(*, problem: Problem, kind: str = Kind.SUMMONS, by):
    """The office holds the unit and the person on duty responsible for what an
    inspection found (查验点无人值守 …): an accountability case for the problem itself."""
    if not decides_on(by, problem.responsible_unit):
        raise PermissionDenied(_("Only the office decides on accountability."))
    if kind not in Kind.values:
        raise ValidationError(_("Unknown measure: %(value)s.") % {"value": kind})
    return accountability_propose(
        unit=problem.responsible_unit,
        cause=Cause.INSPECTION_PROBLEM,
        cause_object=problem,
        kind=kind,
        summary=f"{problem.place.name}：{problem.description}"[:200],
        persons=problem.person_on_duty,
        by=by,
    )
