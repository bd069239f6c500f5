"""Meetings in the JSON API (/api/v1/meetings/…): meetings and their packs' figures,
unit reports, action items and their progress, through the same scoped selectors and
services as the pages. Progress is posted as a multipart form, so its files travel with it:

    curl -H "Authorization: Bearer $TOKEN" -F note=已完成 -F attachments=@照片.jpg \\
        http://127.0.0.1:8000/api/v1/meetings/items/42/progress
"""

import contextlib
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from epidispatch.core.bounds import NOTE_MAX, Day, Moment, RecordId, UnitCode, text
from epidispatch.dispatch.selectors import snapshots_visible_to

from . import selectors
from .attachments import CONTENT_TYPES, attachment_response
from .models import ItemState, MeetingKind
from .pack import meeting_pack
from .permissions import holds_meetings, reads_pack, runs_meeting_of
from .services import item_confirm, item_create, meeting_create, progress_post, report_submit

router = Router(tags=["meetings"])

#: How many rows a list answers at most.
LIST_LIMIT = 500


@contextlib.contextmanager
def _domain_errors():
    try:
        yield
    except PermissionDenied as error:
        raise HttpError(403, str(error) or "Forbidden") from None
    except ValidationError as error:
        raise HttpError(422, " ".join(error.messages)) from None


class MeetingOut(Schema):
    id: int
    title: str
    series: str
    number: int
    kind: MeetingKind
    held_at: datetime
    chair: str
    main_venue: str
    sub_venues: list[str]
    cutoff: date | None
    report_deadline: datetime


def _meeting_out(m) -> dict:
    return {
        "id": m.pk,
        "title": m.title,
        "series": m.series.name,
        "number": m.number,
        "kind": m.kind,
        "held_at": m.held_at,
        "chair": m.chair,
        "main_venue": m.main_venue,
        "sub_venues": m.sub_venue_list,
        "cutoff": m.snapshot.day if m.snapshot_id else None,
        "report_deadline": m.report_deadline,
    }


@router.get("/meetings", response=list[MeetingOut])
def list_meetings(request):
    """Meetings of your offices and those your units take part in, newest first."""
    return [_meeting_out(m) for m in selectors.meetings_visible_to(request.user)[:LIST_LIMIT]]


class PackOut(Schema):
    meeting: MeetingOut
    previous: int | None
    problems_opened: int
    problems_closed: int
    problems_open: int
    problems_overdue: int
    cases: int
    items_open: int
    items_overdue: int
    items_closed: int
    decisions: int
    reports: int
    reports_received: int
    reports_late: int
    reports_missing: int
    bottom_entered: list[str]
    bottom_left: list[str]


@router.get("/meetings/{meeting_id}/pack", response=PackOut)
def get_pack(request, meeting_id: RecordId):
    """The figures of a meeting's pack (the office and leaders over its unit)."""
    meeting = selectors.meeting_for_user(request.user, meeting_id)
    if not reads_pack(request.user, meeting):
        raise HttpError(403, "The pack is for the office and the leaders.")
    pack = meeting_pack(meeting)
    return {
        "meeting": _meeting_out(meeting),
        "previous": pack.previous.pk if pack.previous else None,
        "problems_opened": len(pack.problems_opened),
        "problems_closed": len(pack.problems_closed),
        "problems_open": len(pack.problems_open),
        "problems_overdue": len(pack.problems_overdue),
        "cases": len(pack.cases),
        "items_open": len(pack.items_open),
        "items_overdue": len(pack.items_overdue),
        "items_closed": len(pack.items_closed),
        "decisions": len(pack.decisions),
        "reports": len(pack.reports),
        "reports_received": len(pack.reports_received),
        "reports_late": len(pack.reports_late),
        "reports_missing": len(pack.reports_missing),
        "bottom_entered": sorted({row.unit_code for row in pack.bottom_entered}),
        "bottom_left": sorted({row.unit_code for row in pack.bottom_left}),
    }


class ReportOut(Schema):
    id: int
    meeting: int
    unit: str
    deadline: datetime
    submitted_at: datetime | None
    late: bool
    missing: bool
    progress: str
    difficulties: str
    next_measures: str


def _report_out(r) -> dict:
    return {
        "id": r.pk,
        "meeting": r.meeting_id,
        "unit": r.unit.code,
        "deadline": r.deadline,
        "submitted_at": r.submitted_at,
        "late": r.late,
        "missing": r.missing(),
        "progress": r.progress,
        "difficulties": r.difficulties,
        "next_measures": r.next_measures,
    }


@router.get("/reports", response=list[ReportOut])
def list_reports(request, due: bool = False):
    """Reports of your units (and of your office's meetings); `due=true`: those your units
    have still to file."""
    rows = (
        selectors.reports_due(request.user) if due else selectors.reports_visible_to(request.user)
    )
    return [_report_out(r) for r in rows[:LIST_LIMIT]]


class ReportIn(Schema):
    progress: text(NOTE_MAX)
    difficulties: text(NOTE_MAX) = ""
    next_measures: text(NOTE_MAX) = ""


@router.post("/reports/{report_id}", response=ReportOut)
def post_report(request, report_id: RecordId, data: ReportIn):
    """Your unit files (or amends) its report; after the deadline it is flagged late."""
    report = selectors.report_for_user(request.user, report_id)
    with _domain_errors():
        report = report_submit(
            report=report,
            progress=data.progress,
            difficulties=data.difficulties,
            next_measures=data.next_measures,
            by=request.user,
        )
    return _report_out(report)


class ItemOut(Schema):
    id: int
    meeting: int
    number: int
    decision: str
    owner: str
    owner_unit: str | None
    deadline: date
    evidence_required: str
    state: ItemState
    overdue: bool
    closed_at: datetime | None


def _item_out(i) -> dict:
    return {
        "id": i.pk,
        "meeting": i.meeting_id,
        "number": i.number,
        "decision": i.decision,
        "owner": i.owner_name,
        "owner_unit": i.owner_unit.code if i.owner_unit_id else None,
        "deadline": i.deadline,
        "evidence_required": i.evidence_required,
        "state": i.state,
        "overdue": i.overdue,
        "closed_at": i.closed_at,
    }


@router.get("/items", response=list[ItemOut])
def list_items(request, state: ItemState | None = None, meeting: RecordId | None = None):
    """Action items you may see (owned by your units, or of your office's meetings)."""
    rows = selectors.items_visible_to(request.user)
    if state:
        rows = rows.filter(state=state)
    if meeting is not None:
        rows = rows.filter(meeting_id=meeting)
    return [_item_out(i) for i in rows[:LIST_LIMIT]]


@router.get("/items/{item_id}", response=ItemOut)
def get_item(request, item_id: RecordId):
    return _item_out(selectors.item_for_user(request.user, item_id))


class ProgressIn(Schema):
    note: text(NOTE_MAX)


class ProgressOut(Schema):
    id: int
    item: int
    note: str
    posted_at: datetime
    attachments: int


@router.post("/items/{item_id}/progress", response={201: ProgressOut})
def post_progress(
    request,
    item_id: RecordId,
    data: Form[ProgressIn],
    attachments: File[list[UploadedFile]] = None,
):
    """The owner posts progress, with photos, PDFs or Office files."""
    item = selectors.item_for_user(request.user, item_id)
    with _domain_errors():
        post = progress_post(
            item=item, note=data.note, attachments=list(attachments or []), by=request.user
        )
    return Status(
        201,
        {
            "id": post.pk,
            "item": item.pk,
            "note": post.note,
            "posted_at": post.posted_at,
            "attachments": post.attachments.count(),
        },
    )


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str


class ProgressPostOut(Schema):
    id: int
    note: str
    posted_at: datetime
    #: Fetched one by one from `GET /meetings/attachments/{id}`.
    attachments: list[AttachmentOut]


@router.get("/items/{item_id}/progress", response=list[ProgressPostOut])
def list_progress(request, item_id: RecordId):
    """The progress posted on an item, oldest first, each post with its attachments."""
    item = selectors.item_for_user(request.user, item_id)
    return [
        {
            "id": post.pk,
            "note": post.note,
            "posted_at": post.posted_at,
            "attachments": [
                {"id": a.pk, "name": a.name, "content_type": a.content_type}
                for a in post.attachments.all()
            ],
        }
        for post in selectors.item_posts(item)
    ]


_FILE = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/attachments/{attachment_id}",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "The attached file (a photo inline, other files to download)",
                "content": dict.fromkeys(CONTENT_TYPES, _FILE),
            }
        }
    },
)
def get_attachment(request, attachment_id: RecordId):
    """An attachment of a progress post, to whoever may see its item (404 otherwise)."""
    return attachment_response(selectors.attachment_for_user(request.user, attachment_id))


@router.post("/items/{item_id}/confirm", response=ItemOut)
def post_confirm(request, item_id: RecordId):
    """The issuing office confirms the item closed (never the owner itself)."""
    item = selectors.item_for_user(request.user, item_id)
    with _domain_errors():
        item = item_confirm(item=item, by=request.user)
    return _item_out(item)


def _aware(moment: datetime) -> datetime:
    """A time sent without an offset is the office's local time."""
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class SeriesOut(Schema):
    id: int
    name: str
    unit: str = Field(alias="unit.code")
    kind: MeetingKind


@router.get("/series", response=list[SeriesOut])
def list_series(request):
    """The meeting series of the offices you hold meetings for (empty for anyone else):
    the `series` a new meeting is opened in."""
    return list(selectors.series_visible_to(request.user).order_by("unit__code", "name"))


class MeetingIn(Schema):
    series: RecordId
    held_at: Moment
    #: When the units' reports (汇报) are due: before the meeting.
    report_deadline: Moment
    #: 第N次: the series' next number unless given.
    number: int | None = Field(None, ge=1, le=100_000)
    kind: MeetingKind | None = None
    chair: text(60) = ""
    main_venue: text(100) = ""
    sub_venues: text(NOTE_MAX) = ""
    #: The day of the cutoff the meeting reads (its pack's figures), if any.
    cutoff: Day | None = None
    #: Codes of the towns, streets and departments asked to report; all of the office's
    #: when left out.
    participants: list[UnitCode] | None = Field(None, max_length=500)


@router.post("/meetings", response={201: MeetingOut})
def post_meeting(request, data: MeetingIn):
    """The office opens a meeting of its series (第N次), tied to a cutoff, asking each
    participating unit for its report by the deadline, as the page does. 403 for anyone
    but the office; 404 for a series that is not yours; 422 for a participant outside the
    office's towns and departments, a deadline after the meeting or a number taken."""
    if not holds_meetings(request.user):
        raise HttpError(403, _("Only the office holding the meetings opens one."))
    series = selectors.series_visible_to(request.user).filter(pk=data.series).first()
    if series is None:
        raise HttpError(404, _("No such meeting series of your office."))
    units = selectors.owner_units_below(series.unit)
    if data.participants is not None:
        codes = set(data.participants)
        units = list(units.filter(code__in=codes))
        unknown = sorted(codes - {unit.code for unit in units})
        if unknown:
            raise HttpError(
                422,
                _("Not a town, street or department of this office: %(codes)s.")
                % {"codes": "、".join(unknown)},
            )
    snapshot = None
    if data.cutoff:
        snapshot = snapshots_visible_to(request.user).filter(day=data.cutoff).first()
        if snapshot is None:
            raise HttpError(422, _("No cutoff was taken on %(day)s.") % {"day": data.cutoff})
    with _domain_errors():
        meeting = meeting_create(
            series=series,
            held_at=_aware(data.held_at),
            report_deadline=_aware(data.report_deadline),
            number=data.number,
            kind=data.kind,
            chair=data.chair,
            main_venue=data.main_venue,
            sub_venues=data.sub_venues,
            snapshot=snapshot,
            participants=units,
            by=request.user,
        )
    return Status(201, _meeting_out(selectors.meeting_for_user(request.user, meeting.pk)))


class ItemIn(Schema):
    decision: text(NOTE_MAX)
    deadline: Day
    #: The owner: a unit (the office itself, or a town, street or department under it) …
    owner_unit: UnitCode | None = None
    #: … or one of the office's working groups (its id).
    owner_group: RecordId | None = None
    evidence_required: text(200) = ""


@router.post("/meetings/{meeting_id}/items", response={201: ItemOut})
def post_item(request, meeting_id: RecordId, data: ItemIn):
    """The office records a decision of the meeting as a supervised item (督办事项) of one
    owner, as the page does; only the office confirms it closed later
    (`/items/{item_id}/confirm`). 403 for anyone but the office holding the meeting; 422
    for an owner outside its units or a deadline before the meeting."""
    meeting = selectors.meeting_for_user(request.user, meeting_id)
    if not runs_meeting_of(request.user, meeting.unit):
        raise HttpError(403, _("Only the office holding the meeting may do this."))
    owner_unit = owner_group = None
    if data.owner_unit is not None:
        owner_unit = selectors.owner_units(meeting).filter(code=data.owner_unit).first()
        if owner_unit is None:
            raise HttpError(
                422, _("%(code)s is outside the units of this office.") % {"code": data.owner_unit}
            )
    if data.owner_group is not None:
        owner_group = selectors.working_groups_of(meeting.unit).filter(pk=data.owner_group).first()
        if owner_group is None:
            raise HttpError(422, _("No such working group of this office."))
    with _domain_errors():
        item = item_create(
            meeting=meeting,
            decision=data.decision,
            deadline=data.deadline,
            owner_unit=owner_unit,
            owner_group=owner_group,
            evidence_required=data.evidence_required,
            by=request.user,
        )
    return Status(201, _item_out(item))
