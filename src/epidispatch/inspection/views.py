"""Inspection pages, phone first: the inspector's places and the checklist form, a
problem with its evidence and rectifications, the key places of a unit, the office's
checklists, and the report of a unit and a period (page, .docx, .xlsx).

Adapters only: reads through the scoped selectors, writes through services. A place or
problem outside the user's scope is a 404; one the user may see but not act on, a 403.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epidispatch.accountability.permissions import decides_on
from epidispatch.core.files import stored_file_response
from epidispatch.core.ids import mask_phone
from epidispatch.orgunits.selectors import scope_roots, unit_for_user

from . import reports, selectors
from .forms import (
    ChecklistForm,
    InspectionForm,
    PeriodForm,
    RectificationForm,
    ReferForm,
    ReviewForm,
)
from .models import OPEN_STATES, InspectionKind, PlaceCategory, ProblemState, RectificationOutcome
from .permissions import acts_for_unit, edits_checklists, files_self_inspection, reviews
from .services import (
    ProblemInput,
    assigned_team,
    checklist_in_force,
    checklist_publish,
    inspection_record,
    problem_refer,
    problem_start,
    rectification_review,
    rectification_submit,
)

PAGE_SIZE = 50


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
def home(request):
    """What the user has to do first: places to inspect, problems waiting on someone."""
    user = request.user
    return render(
        request,
        "inspection/home.html",
        {
            "to_inspect": _page(request, selectors.places_to_inspect(user)),
            "problems": list(
                selectors.problems_visible_to(user).exclude(state=ProblemState.VERIFIED)[:PAGE_SIZE]
            ),
            "roots": sorted(scope_roots(user), key=lambda unit: unit.path),
            "edits_checklists": edits_checklists(user),
            "now": timezone.now(),
        },
    )


@login_required
def places(request, code: str):
    """The key places a unit (and the units below it) answers for."""
    unit = unit_for_user(request.user, code)
    page = _page(request, selectors.places_of_unit(request.user, unit))
    return render(
        request,
        "inspection/places.html",
        {
            "unit": unit,
            "page": page,
            "rows": [(place, mask_phone(place.contact_phone)) for place in page.object_list],
        },
    )


@login_required
def place(request, pk: int):
    user = request.user
    found = selectors.place_for_user(user, pk)
    return render(
        request,
        "inspection/place.html",
        {
            "place": found,
            "phone": mask_phone(found.contact_phone),
            "inspections": list(
                selectors.inspections_visible_to(user).filter(place=found)[:PAGE_SIZE]
            ),
            "problems": list(selectors.problems_visible_to(user).filter(place=found)[:PAGE_SIZE]),
            "can_inspect": assigned_team(user, found) is not None
            or files_self_inspection(user, found),
            "now": timezone.now(),
        },
    )


@login_required
def inspect(request, pk: int):
    """The checklist form of one place: an inspection (planned or unannounced) for a
    member of an assigned team, a self-inspection for the responsible unit."""
    user = request.user
    found = selectors.place_for_user(user, pk)
    kinds = []
    if assigned_team(user, found) is not None:
        kinds += [InspectionKind.PLANNED, InspectionKind.UNANNOUNCED]
    if files_self_inspection(user, found):
        kinds.append(InspectionKind.SELF)
    if not kinds:
        raise PermissionDenied(_("You are not assigned to inspect this place."))
    checklist = checklist_in_force(found.category, timezone.localdate())
    if checklist is None:
        messages.error(
            request,
            _("The category %(name)s has no checklist yet.") % {"name": found.category.name},
        )
        return redirect("inspection:place", pk=found.pk)
    items = checklist.items.all()
    if request.method == "POST":
        form = InspectionForm(request.POST, request.FILES, items=items, kinds=kinds)
        if form.is_valid():
            try:
                inspection = inspection_record(
                    place=found,
                    kind=form.cleaned_data["kind"],
                    by=user,
                    results=form.results(),
                    problems=[
                        ProblemInput(item=item, description=text, evidence=uploads)
                        for item, text, uploads in form.problems()
                    ],
                    person_on_duty=form.cleaned_data["person_on_duty"],
                    note=form.cleaned_data["note"],
                    deadline=form.cleaned_data["deadline"],
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Inspection saved: %(count)d problems to rectify.")
                    % {"count": inspection.problems.count()},
                )
                return redirect("inspection:place", pk=found.pk)
    else:
        form = InspectionForm(items=items, kinds=kinds)
    return render(
        request,
        "inspection/inspect.html",
        {"place": found, "checklist": checklist, "form": form},
    )


@login_required
def problem(request, pk: int):
    user = request.user
    found = selectors.problem_for_user(user, pk)
    rectifications = list(
        selectors.rectifications_visible_to(user).filter(problem=found).prefetch_related("evidence")
    )
    pending = next((r for r in rectifications if r.outcome == RectificationOutcome.PENDING), None)
    unit_side = acts_for_unit(user, found.responsible_unit)
    return render(
        request,
        "inspection/problem.html",
        {
            "problem": found,
            "found_evidence": [e for e in found.evidence.all() if e.rectification_id is None],
            "rectifications": rectifications,
            "can_start": unit_side and found.state == ProblemState.ASSIGNED,
            "can_submit": unit_side and found.state in OPEN_STATES,
            "review": pending
            if pending
            and not unit_side
            and pending.submitted_by_id != user.pk
            and reviews(user, found)
            else None,
            "can_refer": decides_on(user, found.responsible_unit),
            "rectification_form": RectificationForm(),
            "review_form": ReviewForm(),
            "refer_form": ReferForm(),
            "now": timezone.now(),
        },
    )


def _redirect_to(found):
    return redirect("inspection:problem", pk=found.pk)


@login_required
@require_POST
def start(request, pk: int):
    found = selectors.problem_for_user(request.user, pk)
    problem_start(problem=found, by=request.user)
    return _redirect_to(found)


@login_required
@require_POST
def rectify(request, pk: int):
    """The responsible unit submits its rectification with photos or videos."""
    found = selectors.problem_for_user(request.user, pk)
    form = RectificationForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            rectification_submit(
                problem=found,
                note=form.cleaned_data["note"],
                evidence=form.cleaned_data["evidence"],
                by=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Rectification submitted for review."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _redirect_to(found)


@login_required
@require_POST
def review(request, pk: int):
    """The inspection team or the office verifies a rectification or sends it back."""
    rectification = get_object_or_404(selectors.rectifications_visible_to(request.user), pk=pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to verify or send back."))
    else:
        verify = form.cleaned_data["decision"] == "verify"
        try:
            rectification_review(
                rectification=rectification,
                verify=verify,
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Rectification verified.") if verify else _("Rectification sent back.")
            )
    return redirect("inspection:problem", pk=rectification.problem_id)


@login_required
@require_POST
def refer(request, pk: int):
    """The office holds the unit responsible for a problem (accountability case)."""
    found = selectors.problem_for_user(request.user, pk)
    form = ReferForm(request.POST)
    if form.is_valid():
        case = problem_refer(problem=found, kind=form.cleaned_data["kind"], by=request.user)
        return redirect("accountability:case", pk=case.pk)
    messages.error(request, _("Choose a measure."))
    return _redirect_to(found)


@login_required
def evidence(request, pk: int):
    """A photo or video of a problem or rectification, only to users who may see it."""
    item = selectors.evidence_for_user(request.user, pk)
    return stored_file_response(
        item.file, item.content_type, filename=f"evidence-{item.pk}", as_attachment=False
    )


@login_required
def checklists(request):
    """The office publishes a new version of a category's checklist."""
    if not edits_checklists(request.user):
        raise PermissionDenied(_("Only the office edits checklists."))
    today = timezone.localdate()
    form = ChecklistForm()
    chosen = None
    if request.method == "POST":
        chosen = get_object_or_404(PlaceCategory, pk=request.POST.get("category") or 0)
        form = ChecklistForm(request.POST)
        if form.is_valid():
            try:
                published = checklist_publish(
                    category=chosen,
                    items=form.item_list(),
                    effective_from=form.cleaned_data["effective_from"],
                    by=request.user,
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Checklist of %(name)s: version %(version)d published.")
                    % {"name": chosen.name, "version": published.version},
                )
                return redirect("inspection:checklists")
    rows = []
    for category in PlaceCategory.objects.all():
        current = checklist_in_force(category, today)
        rows.append(
            {
                "category": category,
                "checklist": current,
                "items": list(current.items.all()) if current else [],
                "form": form
                if chosen == category
                else ChecklistForm(
                    initial={"items": "\n".join(i.text for i in current.items.all())}
                    if current
                    else {}
                ),
            }
        )
    return render(request, "inspection/checklists.html", {"rows": rows})


def _period(request) -> tuple[PeriodForm, date, date]:
    today = timezone.localdate()
    default = {"start": today.replace(day=1), "end": today}
    form = PeriodForm(request.GET if "start" in request.GET else default)
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, default["start"], default["end"]


@login_required
def report(request, code: str):
    unit = unit_for_user(request.user, code)
    form, start, end = _period(request)
    data = selectors.report(request.user, unit, start, end)
    return render(
        request,
        "inspection/report.html",
        {
            "unit": unit,
            "form": form,
            "report": data,
            "summary": reports.summary_rows(data),
            "query": f"start={start:%Y-%m-%d}&end={end:%Y-%m-%d}",
        },
    )


def _download(content: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


@login_required
def report_docx(request, code: str):
    unit = unit_for_user(request.user, code)
    _form, start, end = _period(request)
    data = selectors.report(request.user, unit, start, end)
    return _download(
        reports.report_docx(data),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        f"inspection-{unit.code}-{start:%Y%m%d}-{end:%Y%m%d}.docx",
    )


@login_required
def report_xlsx(request, code: str):
    unit = unit_for_user(request.user, code)
    _form, start, end = _period(request)
    data = selectors.report(request.user, unit, start, end)
    return _download(
        reports.report_xlsx(data),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"inspection-{unit.code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx",
    )
