"""Writes of the meeting cycle: hold a meeting, file a unit's report, record a decision
as an action item, post its progress, confirm it closed, call units in, and escalate
overdue items. One function per verb, keyword arguments, one transaction; each checks the
permission (permissions.py) and the scope. Changes go to the audit trail through
django-auditlog (settings.AUDITLOG_INCLUDE_TRACKING_MODELS)."""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from epidispatch.accountability.models import Cause, Kind
from epidispatch.accountability.services import accountability_propose
from epidispatch.core.scoping import path_in_scope
from epidispatch.dispatch.models import Snapshot
from epidispatch.orgunits.models import OrgUnit

from .attachments import MAX_FILES, attachment_discard, attachment_store
from .models import (
    OPEN_ITEM_STATES,
    ActionItem,
    Attachment,
    ItemState,
    Meeting,
    MeetingSeries,
    ProgressPost,
    UnitReport,
    WorkingGroup,
)
from .permissions import acts_for_owner, confirms_item, files_report, runs_meeting_of

TEXT_LIMIT = 2000
SHORT_LIMIT = 200


def _text(value, field: str, *, limit: int = TEXT_LIMIT, required: bool = False) -> str:
    value = (value or "").replace("\x00", "").strip()
    if len(value) > limit:
        raise ValidationError(
            {field: _("At most %(limit)d characters.") % {"limit": limit}}, code="too_long"
        )
    if required and not value:
        raise ValidationError({field: _("This field is required.")}, code="required")
    return value


def _office_only(by, unit: OrgUnit) -> None:
    if not runs_meeting_of(by, unit):
        raise PermissionDenied(_("Only the office holding the meeting may do this."))


def next_number(series: MeetingSeries) -> int:
    """The number the series' next meeting takes (第N次)."""
    return (series.meetings.aggregate(top=Max("number"))["top"] or 0) + 1


@transaction.atomic
def meeting_create(
    *,
    series: MeetingSeries,
    held_at: datetime,
    report_deadline: datetime,
    by,
    number: int | None = None,
    kind: str | None = None,
    chair: str = "",
    main_venue: str = "",
    sub_venues: str = "",
    snapshot: Snapshot | None = None,
    participants=(),
) -> Meeting:
    """Hold a meeting of a series: number it (the next one unless given), tie it to a
    cutoff, and ask each participating unit for its report by the deadline."""
    _office_only(by, series.unit)
    participants = list(participants)
    outside = [unit.name for unit in participants if not unit.is_within(series.unit)]
    if outside:
        raise ValidationError(
            {
                "participants": ValidationError(
                    _("Outside the office's units: %(names)s.") % {"names": "、".join(outside)},
                    code="outside_scope",
                )
            }
        )
    if report_deadline > held_at:
        raise ValidationError(
            {"report_deadline": _("Reports are due before the meeting is held.")},
            code="deadline_after_meeting",
        )
    number = number or next_number(series)
    if series.meetings.filter(number=number).exists():
        raise ValidationError(
            {
                "number": _("Meeting No. %(number)d of this series already exists.")
                % {"number": number}
            },
            code="duplicate",
        )
    year = timezone.localtime(held_at).year
    minutes = (
        Meeting.objects.filter(unit=series.unit, held_at__year=year).aggregate(
            top=Max("minutes_number")
        )["top"]
        or 0
    ) + 1
    meeting = Meeting.objects.create(
        series=series,
        number=number,
        unit=series.unit,
        kind=kind or series.kind,
        held_at=held_at,
        chair=_text(chair, "chair", limit=60),
        main_venue=_text(main_venue, "main_venue", limit=100),
        sub_venues=_text(sub_venues, "sub_venues"),
        snapshot=snapshot,
        report_deadline=report_deadline,
        minutes_number=minutes,
        created_by=by,
    )
    meeting.participants.set(participants)
    UnitReport.objects.bulk_create(
        UnitReport(meeting=meeting, unit=unit, deadline=report_deadline) for unit in participants
    )
    return meeting


@transaction.atomic
def report_submit(
    *, report: UnitReport, progress: str, difficulties: str, next_measures: str, by, at=None
) -> UnitReport:
    """A unit files (or amends) its report. Filed after the deadline it is kept and
    flagged late; the time kept is that of the last filing."""
    report = UnitReport.objects.select_for_update().select_related("unit").get(pk=report.pk)
    if not files_report(by, report):
        raise PermissionDenied(_("Only the unit itself files its report."))
    report.progress = _text(progress, "progress", required=True)
    report.difficulties = _text(difficulties, "difficulties")
    report.next_measures = _text(next_measures, "next_measures")
    report.submitted_by = by
    report.submitted_at = at or timezone.now()
    report.save()
    return report


@transaction.atomic
def item_create(
    *,
    meeting: Meeting,
    decision: str,
    deadline: date,
    by,
    owner_unit: OrgUnit | None = None,
    owner_group: WorkingGroup | None = None,
    evidence_required: str = "",
    at: datetime | None = None,
) -> ActionItem:
    """Record a decision of the meeting as a supervised item (督办事项) of one owner: a unit
    inside the office's scope, or one of its working groups. Any other owner is refused."""
    _office_only(by, meeting.unit)
    decision = _text(decision, "decision", required=True)
    if (owner_unit is None) == (owner_group is None):
        raise ValidationError({"owner": _("Name one owner: a unit or a working group.")})
    if owner_unit is not None:
        if not owner_unit.is_within(meeting.unit) or not path_in_scope(by, owner_unit.path):
            raise ValidationError(
                {
                    "owner": ValidationError(
                        _("%(unit)s is outside the units of this office.")
                        % {"unit": owner_unit.name},
                        code="outside_scope",
                    )
                }
            )
        owner_path = owner_unit.path
    else:
        if owner_group.unit_id != meeting.unit_id:
            raise ValidationError(
                {
                    "owner": ValidationError(
                        _("%(group)s is not a working group of this office.")
                        % {"group": owner_group.name},
                        code="outside_scope",
                    )
                }
            )
        owner_path = meeting.unit.path
    if deadline < timezone.localtime(meeting.held_at).date():
        raise ValidationError(
            {"deadline": _("The deadline cannot be before the meeting.")}, code="past"
        )
    number = (meeting.items.aggregate(top=Max("number"))["top"] or 0) + 1
    return ActionItem.objects.create(
        meeting=meeting,
        number=number,
        decision=decision,
        owner_unit=owner_unit,
        owner_group=owner_group,
        owner_path=owner_path,
        deadline=deadline,
        evidence_required=_text(evidence_required, "evidence_required", limit=SHORT_LIMIT),
        issued_by=by,
        issued_at=at or timezone.now(),
    )


def _locked(item: ActionItem) -> ActionItem:
    return (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("meeting__unit", "owner_unit", "owner_group")
        .get(pk=item.pk)
    )


def progress_post(*, item: ActionItem, note: str, attachments=(), by, at=None) -> ProgressPost:
    """The owner reports what it did, with photos or documents; the item is then in
    progress until the office confirms it closed."""
    attachments = list(attachments)
    if len(attachments) > MAX_FILES:
        raise ValidationError(
            {"attachments": _("At most %(count)d files at once.") % {"count": MAX_FILES}}
        )
    stored: list[str] = []
    try:
        with transaction.atomic():
            item = _locked(item)
            if not acts_for_owner(by, item):
                raise PermissionDenied(_("Only the owner of the item posts its progress."))
            if item.state == ItemState.CLOSED:
                raise ValidationError(_("This item is closed."), code="closed")
            post = ProgressPost.objects.create(
                item=item,
                note=_text(note, "note", required=True),
                posted_by=by,
                posted_at=at or timezone.now(),
            )
            for upload in attachments:
                try:
                    kept = attachment_store(upload)
                except ValidationError as error:
                    raise ValidationError({"attachments": error.error_list}) from None
                stored.append(kept.name)
                Attachment.objects.create(
                    post=post, file=kept.name, name=kept.original, content_type=kept.content_type
                )
            if item.state == ItemState.OPEN:
                item.state = ItemState.IN_PROGRESS
                item.save(update_fields=["state"])
            return post
    except BaseException:
        for name in stored:
            attachment_discard(name)
        raise


@transaction.atomic
def item_confirm(*, item: ActionItem, by, at=None) -> ActionItem:
    """The issuing office confirms the item done (销号). Never the owner itself, and only
    once the owner has posted its progress."""
    item = _locked(item)
    if acts_for_owner(by, item):
        raise PermissionDenied(_("The owner cannot confirm its own item closed."))
    if not confirms_item(by, item):
        raise PermissionDenied(_("Only the issuing office confirms an item closed."))
    if item.state == ItemState.CLOSED:
        raise ValidationError(_("This item is closed."), code="closed")
    if not item.posts.exists():
        raise ValidationError(_("The owner has not reported any progress yet."), code="no_progress")
    item.state = ItemState.CLOSED
    item.closed_by = by
    item.closed_at = at or timezone.now()
    item.save(update_fields=["state", "closed_by", "closed_at"])
    return item


@transaction.atomic
def meeting_call_in(*, meeting: Meeting, cases, by) -> Meeting:
    """The units called in at the meeting (约谈) and why: accountability cases about units
    under the office. Their pledges are recorded on the cases and printed in the minutes."""
    _office_only(by, meeting.unit)
    cases = list(cases)
    outside = [case for case in cases if not case.unit.is_within(meeting.unit)]
    if outside:
        raise ValidationError(_("A case outside the office's units cannot be called in."))
    meeting.summoned.set(cases)
    return meeting


def items_escalate(*, now: datetime | None = None) -> list[ActionItem]:
    """Every item still open past its deadline becomes an accountability cause of its
    owner, once (the item is marked escalated and the case is unique per cause). Run
    every 5 minutes by the task consumer, and by `epidispatch escalate_items`."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    escalated = []
    with transaction.atomic():
        overdue = list(
            ActionItem.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(state__in=OPEN_ITEM_STATES, deadline__lt=today, escalated_at__isnull=True)
            .select_related("meeting__series", "meeting__unit", "owner_unit", "owner_group")
        )
        for item in overdue:
            item.escalated_at = now
            item.save(update_fields=["escalated_at"])
            try:
                with transaction.atomic():
                    accountability_propose(
                        unit=item.owner_unit or item.meeting.unit,
                        cause=Cause.ACTION_ITEM,
                        cause_object=item,
                        kind=Kind.SUMMONS,
                        summary=_("%(meeting)s item %(number)d not done by %(deadline)s: %(text)s")
                        % {
                            "meeting": item.meeting.title,
                            "number": item.number,
                            "deadline": item.deadline.isoformat(),
                            "text": item.decision[:60],
                        },
                        persons=item.owner_group.name if item.owner_group_id else "",
                        at=now,
                    )
            except IntegrityError:  # proposed concurrently: the one case stands
                pass
            escalated.append(item)
    return escalated
