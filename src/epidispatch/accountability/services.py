"""Writes of the reward–penalty record: propose a case for a cause, decide or dismiss it,
record the outcome (表态发言). Every step is written to the case's history."""

from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.orgunits.models import OrgUnit

from .models import Accountability, CaseState, Cause, Event, Kind
from .permissions import decides_on

#: Longest text kept for a decision, a pledge or a note (a form's textarea says the same).
TEXT_LIMIT = 2000


def _bounded(text: str, field: str) -> str:
    text = (text or "").replace("\x00", "").strip()
    if len(text) > TEXT_LIMIT:
        raise ValidationError(
            {field: _("At most %(limit)d characters.") % {"limit": TEXT_LIMIT}}, code="too_long"
        )
    return text


def _event(case: Accountability, *, by, note: str = "", at=None) -> None:
    Event.objects.create(case=case, at=at or timezone.now(), by=by, state=case.state, note=note)


@transaction.atomic
def accountability_propose(
    *,
    unit: OrgUnit,
    cause: str,
    cause_object,
    summary: str,
    kind: str = Kind.SUMMONS,
    streak: int | None = None,
    persons: str = "",
    by=None,
    at=None,
) -> Accountability:
    """Propose a case for `cause_object` (a ranking row, a problem …), once: proposing the
    same cause again returns the case already there."""
    at = at or timezone.now()
    case, created = Accountability.objects.get_or_create(
        cause=cause,
        cause_type=ContentType.objects.get_for_model(cause_object),
        cause_id=cause_object.pk,
        defaults={
            "unit": unit,
            "kind": kind,
            "summary": summary[:200],
            "streak": streak,
            "persons": persons[:200],
            "created_at": at,
        },
    )
    if created:
        _event(case, by=by, at=at)
    return case


@transaction.atomic
def accountability_open(
    *, unit: OrgUnit, kind: str, summary: str, decision: str, persons: str = "", by
) -> Accountability:
    """The office records a decided case of its own (a 通报表扬, a 问责 with no record
    behind it)."""
    if not decides_on(by, unit):
        raise PermissionDenied(_("Only the office decides on accountability."))
    if kind not in Kind.values:
        raise ValidationError(_("Unknown measure: %(value)s.") % {"value": kind})
    summary = _bounded(summary, "summary")
    if not summary:
        raise ValidationError({"summary": _("Say why.")}, code="required")
    now = timezone.now()
    case = Accountability.objects.create(
        unit=unit,
        kind=kind,
        state=CaseState.DECIDED,
        cause=Cause.OTHER,
        summary=summary[:200],
        persons=_bounded(persons, "persons")[:200],
        decision=_bounded(decision, "decision"),
        decided_by=by,
        decided_at=now,
        created_at=now,
    )
    _event(case, by=by, note=case.decision, at=now)
    return case


def _locked_for_office(case: Accountability, by) -> Accountability:
    case = Accountability.objects.select_for_update().select_related("unit").get(pk=case.pk)
    if not decides_on(by, case.unit):
        raise PermissionDenied(_("Only the office decides on accountability."))
    return case


@transaction.atomic
def accountability_decide(
    *,
    case: Accountability,
    confirm: bool,
    by,
    kind: str | None = None,
    note: str = "",
    persons: str | None = None,
) -> Accountability:
    """The office confirms a proposed case (with its measure) or dismisses it, once."""
    case = _locked_for_office(case, by)
    if case.state != CaseState.PROPOSED:
        raise ValidationError(
            _("This case was already decided by %(user)s.") % {"user": case.decided_by},
            code="decided",
        )
    if kind is not None:
        if kind not in Kind.values:
            raise ValidationError(_("Unknown measure: %(value)s.") % {"value": kind})
        case.kind = kind
    if persons is not None:
        case.persons = _bounded(persons, "persons")[:200]
    case.state = CaseState.DECIDED if confirm else CaseState.DISMISSED
    case.decision = _bounded(note, "note")
    case.decided_by, case.decided_at = by, timezone.now()
    case.save()
    _event(case, by=by, note=case.decision, at=case.decided_at)
    return case


@transaction.atomic
def accountability_record_pledge(
    *, case: Accountability, pledge: str, deadline: date | None, by
) -> Accountability:
    """The outcome of a decided case: what the unit pledged (表态发言) and by when. The case
    is closed with it."""
    case = _locked_for_office(case, by)
    if case.state != CaseState.DECIDED:
        raise ValidationError(_("Only a decided case takes an outcome."), code="not_decided")
    case.pledge = _bounded(pledge, "pledge")
    if not case.pledge:
        raise ValidationError({"pledge": _("Write down what the unit pledged.")})
    case.pledge_deadline = deadline
    case.state = CaseState.CLOSED
    case.save()
    _event(case, by=by, note=case.pledge)
    return case
