"""Meetings pages: the list and start of a meeting, the meeting with its decisions, the
pack (page and .docx), the minutes (.docx), the open items (.xlsx), a unit's report form
and an action item with its progress, phone first for the units.

Adapters only: reads through the scoped selectors, writes through services. A meeting,
report or item outside the user's scope is a 404; one they may see but not act on, a 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epidispatch.accountability.selectors import cases_visible_to
from epidispatch.dispatch.selectors import latest_snapshot
from epidispatch.orgunits.models import OrgUnit

from . import documents, selectors
from .attachments import attachment_response
from .forms import (
    CallInForm,
    ItemForm,
    MeetingForm,
    ProgressForm,
    ReportForm,
    default_meeting_initial,
)
from .models import ItemState
from .pack import meeting_pack
from .permissions import (
    acts_for_owner,
    confirms_item,
    files_report,
    holds_meetings,
    reads_meetings,
    reads_pack,
    runs_meeting_of,
)
from .services import (
    item_confirm,
    item_create,
    meeting_call_in,
    meeting_create,
    next_number,
    progress_post,
    report_submit,
)

PAGE_SIZE = 30


def _require_module(user) -> None:
    if not reads_meetings(user):
        raise PermissionDenied(_("The meetings are for the office, leaders and units."))


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, max-age=0"
    return response


@login_required
def home(request):
    """What the user has to do for the meetings: reports due, items to carry out or to
    confirm, and the meetings they may open."""
    user = request.user
    _require_module(user)
    page = Paginator(selectors.meetings_visible_to(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "meetings/home.html",
        {
            "page": page,
            "reports_due": list(selectors.reports_due(user)[:PAGE_SIZE]),
            "items_owned": list(selectors.items_owned_by(user)[:PAGE_SIZE]),
            "items_issued": list(selectors.items_issued_open(user)[:PAGE_SIZE]),
            "holds_meetings": holds_meetings(user),
            "today": timezone.localdate(),
        },
    )


@login_required
def meeting_new(request):
    """The office opens a meeting (by default the next of its series, on the latest
    cutoff), asking its towns and departments for their reports."""
    user = request.user
    series = selectors.series_visible_to(user).order_by("name")
    if not holds_meetings(user) or not series.exists():
        raise PermissionDenied(_("Only the office holding the meetings opens one."))
    offices = {s.unit for s in series}
    units = OrgUnit.objects.none()
    for office in offices:
        units |= selectors.owner_units_below(office)
    if request.method == "POST":
        form = MeetingForm(request.POST, series=series, units=units)
        if form.is_valid():
            data = form.cleaned_data
            try:
                meeting = meeting_create(
                    series=data["series"],
                    number=data["number"],
                    held_at=data["held_at"],
                    report_deadline=data["report_deadline"],
                    snapshot=data["snapshot"],
                    chair=data["chair"],
                    main_venue=data["main_venue"],
                    sub_venues=data["sub_venues"],
                    participants=data["participants"],
                    by=user,
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("%(title)s opened.") % {"title": meeting.title})
                return redirect("meetings:meeting", pk=meeting.pk)
    else:
        first = series.first()
        initial = default_meeting_initial(latest_snapshot())
        initial.update(series=first, number=next_number(first), participants=list(units))
        form = MeetingForm(initial=initial, series=series, units=units)
    return render(request, "meetings/new.html", {"form": form})


@login_required
def meeting(request, pk: int):
    user = request.user
    _require_module(user)
    found = selectors.meeting_for_user(user, pk)
    runs = runs_meeting_of(user, found.unit)
    full = reads_pack(user, found)
    items = selectors.items_visible_to(user).filter(meeting=found)
    reports = selectors.reports_visible_to(user).filter(meeting=found)
    context = {
        "meeting": found,
        "full": full,
        "runs": runs,
        "decisions": list(items.order_by("number")),
        "reports": list(reports),
        "summoned": list(found.summoned.select_related("unit")) if full else [],
        "now": timezone.now(),
        "today": timezone.localdate(),
    }
    if runs:
        context["item_form"] = _item_form(found)
        context["call_in_form"] = _call_in_form(user, found)
    return render(request, "meetings/meeting.html", context)


def _item_form(meeting, data=None):
    return ItemForm(
        data,
        units=selectors.owner_units(meeting),
        groups=selectors.working_groups_of(meeting.unit),
    )


def _call_in_form(user, meeting, data=None):
    cases = cases_visible_to(user).filter(unit__path__startswith=meeting.unit.path)[:100]
    form = CallInForm(
        data,
        cases=cases_visible_to(user).filter(
            pk__in=[case.pk for case in cases] + [case.pk for case in meeting.summoned.all()]
        ),
        initial={"cases": list(meeting.summoned.all())},
    )
    return form


@login_required
@require_POST
def decision_new(request, pk: int):
    """The office records a decision of the meeting as an action item."""
    user = request.user
    found = selectors.meeting_for_user(user, pk)
    if not runs_meeting_of(user, found.unit):
        raise PermissionDenied(_("Only the office holding the meeting may do this."))
    form = _item_form(found, request.POST)
    if form.is_valid():
        try:
            item = item_create(
                meeting=found,
                decision=form.cleaned_data["decision"],
                deadline=form.cleaned_data["deadline"],
                evidence_required=form.cleaned_data["evidence_required"],
                by=user,
                **form.owner_kwargs(),
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Decision %(number)d recorded.") % {"number": item.number})
            return redirect("meetings:meeting", pk=found.pk)
    messages.error(
        request,
        _("The decision was not recorded: %(errors)s")
        % {"errors": " ".join(str(e) for errors in form.errors.values() for e in errors)},
    )
    return redirect("meetings:meeting", pk=found.pk)


@login_required
@require_POST
def call_in(request, pk: int):
    user = request.user
    found = selectors.meeting_for_user(user, pk)
    if not runs_meeting_of(user, found.unit):
        raise PermissionDenied(_("Only the office holding the meeting may do this."))
    form = _call_in_form(user, found, request.POST)
    if form.is_valid():
        try:
            meeting_call_in(meeting=found, cases=form.cleaned_data["cases"], by=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The units called in are recorded."))
    else:
        messages.error(request, _("Choose the cases from the list."))
    return redirect("meetings:meeting", pk=found.pk)


def _pack_for(user, pk: int):
    found = selectors.meeting_for_user(user, pk)
    if not reads_pack(user, found):
        raise PermissionDenied(_("The pack is for the office and the leaders."))
    return meeting_pack(found)


@login_required
def pack(request, pk: int):
    content = _pack_for(request.user, pk)
    return render(
        request,
        "meetings/pack.html",
        {"pack": content, "meeting": content.meeting, "today": timezone.localdate()},
    )


@login_required
def pack_docx(request, pk: int):
    content = _pack_for(request.user, pk)
    return _download(
        documents.pack_docx(content),
        f"{content.meeting.title}会议材料.docx",
        documents.DOCX_TYPE,
    )


@login_required
def minutes_docx(request, pk: int):
    user = request.user
    found = selectors.meeting_for_user(user, pk)
    if not reads_pack(user, found):
        raise PermissionDenied(_("The minutes are for the office and the leaders."))
    decisions = list(found.items.select_related("owner_unit", "owner_group").order_by("number"))
    summoned = list(found.summoned.select_related("unit").order_by("unit__code", "pk"))
    return _download(
        documents.minutes_docx(found, decisions, summoned),
        f"{found.title}会议纪要.docx",
        documents.DOCX_TYPE,
    )


@login_required
def items(request):
    """Every action item the user may see; `?state=open` (default), `closed` or `all`."""
    user = request.user
    _require_module(user)
    state = request.GET.get("state", "open")
    rows = selectors.items_visible_to(user)
    if state == "open":
        rows = rows.exclude(state=ItemState.CLOSED)
    elif state == "closed":
        rows = rows.filter(state=ItemState.CLOSED)
    else:
        state = "all"
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "meetings/items.html",
        {"page": page, "state": state, "today": timezone.localdate()},
    )


@login_required
def items_xlsx(request):
    """The open action items the user may see, as the office's 督办事项清单."""
    user = request.user
    _require_module(user)
    rows = list(selectors.items_visible_to(user).exclude(state=ItemState.CLOSED))
    return _download(
        documents.items_xlsx(rows, selectors.latest_progress(rows)),
        f"督办事项清单_{timezone.localdate():%Y-%m-%d}.xlsx",
        documents.XLSX_TYPE,
    )


@login_required
def report(request, pk: int):
    """A unit's report for a meeting: the unit files it (on a phone), others read it."""
    user = request.user
    found = selectors.report_for_user(user, pk)
    may_file = files_report(user, found)
    form = ReportForm(
        initial={
            "progress": found.progress,
            "difficulties": found.difficulties,
            "next_measures": found.next_measures,
        }
    )
    if request.method == "POST":
        if not may_file:
            raise PermissionDenied(_("Only the unit itself files its report."))
        form = ReportForm(request.POST)
        if form.is_valid():
            try:
                found = report_submit(report=found, by=user, **form.cleaned_data)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                if found.late:
                    messages.warning(request, _("Report filed after the deadline: flagged late."))
                else:
                    messages.success(request, _("Report filed."))
                return redirect("meetings:report", pk=found.pk)
    return render(
        request,
        "meetings/report.html",
        {"report": found, "form": form, "may_file": may_file, "now": timezone.now()},
    )


@login_required
def item(request, pk: int):
    user = request.user
    found = selectors.item_for_user(user, pk)
    owner = acts_for_owner(user, found)
    form = ProgressForm()
    if request.method == "POST":
        if not owner:
            raise PermissionDenied(_("Only the owner of the item posts its progress."))
        form = ProgressForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                progress_post(
                    item=found,
                    note=form.cleaned_data["note"],
                    attachments=form.cleaned_data["attachments"],
                    by=user,
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Progress posted."))
                return redirect("meetings:item", pk=found.pk)
    return render(
        request,
        "meetings/item.html",
        {
            "item": found,
            "posts": selectors.item_posts(found),
            "form": form,
            "may_post": owner and found.state != ItemState.CLOSED,
            "may_confirm": found.state != ItemState.CLOSED and confirms_item(user, found),
            "cases": list(found.cases.all()),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def confirm(request, pk: int):
    user = request.user
    found = selectors.item_for_user(user, pk)
    try:
        item_confirm(item=found, by=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Item confirmed closed."))
    return redirect("meetings:item", pk=found.pk)


@login_required
def attachment(request, pk: int):
    """An attachment of a progress post, only to users who may see the item."""
    return attachment_response(selectors.attachment_for_user(request.user, pk))


@login_required
def leaders(request):
    """Who answers for what: the leaders in charge of each town (包联), the departments'
    grids (包抓) and the working groups, of the offices in the user's scope."""
    user = request.user
    _require_module(user)
    return render(request, "meetings/leaders.html", selectors.responsibilities(user))
